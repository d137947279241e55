// The DPoP key of `connectauth doctor --dpop-key`: a private JWK read from a file, and the proofs
// (RFC 9449 §4.2) it signs for the call, with jose. Nothing here keeps or says the key's private part.
import { createHash, randomUUID } from "node:crypto";
import { type JWK, SignJWT, calculateJwkThumbprint, decodeJwt, importJWK } from "jose";

/** A DPoP key read by {@link readDpopKey}: its thumbprint, and proofs for one request each. */
export interface DpopKey {
  /** The RFC 7638 SHA-256 thumbprint of its public key: the `cnf.jkt` of a token bound to it. */
  readonly jkt: string;
  /** The JWS algorithm of its proofs. */
  readonly algorithm: string;
  /** A new proof (its own `jti`) of one request: `htm`, `htu` (without query and fragment), `iat`, `ath`, `nonce`. */
  proof(request: DpopProofRequest): Promise<string>;
}

/** One request to prove. */
export interface DpopProofRequest {
  readonly method: string;
  readonly url: string;
  /** The token of its `Authorization: DPoP` header. */
  readonly accessToken: string;
  /** The server's `DPoP-Nonce`, when it sent one. */
  readonly nonce?: string;
}

/** The algorithm of a key that does not say its own (`alg`), by key type and curve. */
const defaultAlgorithms: Readonly<Record<string, string>> = {
  "EC P-256": "ES256",
  "EC P-384": "ES384",
  "EC P-521": "ES512",
  "OKP Ed25519": "EdDSA",
  RSA: "RS256",
};
const asymmetric = new Set(["ES256", "ES384", "ES512", "EdDSA", "Ed25519", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]);

/**
 * Reads a private JWK (EC P-256/P-384/P-521, Ed25519, or RSA; its `alg` when it has one, else ES256,
 * ES384, ES512, EdDSA or RS256) and returns what signs the DPoP proofs of doctor's call. The proof's
 * `jwk` header holds the public members only.
 *
 * ```ts
 * const key = await readDpopKey(await readFile("dpop-key.json", "utf8"));
 * const proof = await key.proof({ method: "POST", url, accessToken: token });
 * ```
 *
 * Not checked: that the key is kept safe, or that the server takes its algorithm (its challenge says).
 *
 * @throws TypeError with a fixed sentence (never the file's text) when the text is not a private JWK
 *   of an asymmetric signing key.
 */
export async function readDpopKey(text: string, now: () => number = Date.now): Promise<DpopKey> {
  let jwk: JWK;
  try {
    jwk = JSON.parse(text) as JWK;
  } catch {
    throw new TypeError("--dpop-key: the file is not JSON (a private JWK is expected)");
  }
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk) || typeof jwk.d !== "string") {
    throw new TypeError('--dpop-key: the file is not a private JWK (an EC, OKP or RSA key with its "d")');
  }
  const algorithm = jwk.alg ?? defaultAlgorithms[jwk.kty === "RSA" ? "RSA" : `${jwk.kty} ${jwk.crv}`];
  if (algorithm === undefined || !asymmetric.has(algorithm)) {
    throw new TypeError("--dpop-key: the key is not an asymmetric signing key (EC P-256/P-384/P-521, Ed25519 or RSA)");
  }
  const publicJwk = publicMembers(jwk);
  let privateKey;
  try {
    privateKey = await importJWK({ ...jwk, ext: false }, algorithm);
    await importJWK(publicJwk, algorithm);
  } catch {
    throw new TypeError(`--dpop-key: the key cannot be used for ${algorithm}`);
  }
  const jkt = await calculateJwkThumbprint(publicJwk, "sha256");
  return {
    jkt,
    algorithm,
    proof: (r) => {
      const url = new URL(r.url);
      const claims = {
        jti: randomUUID(),
        htm: r.method,
        htu: `${url.origin}${url.pathname}`,
        iat: Math.floor(now() / 1000),
        ath: createHash("sha256").update(r.accessToken, "ascii").digest("base64url"),
        ...(r.nonce === undefined ? {} : { nonce: r.nonce }),
      };
      return new SignJWT(claims).setProtectedHeader({ typ: "dpop+jwt", alg: algorithm, jwk: publicJwk }).sign(privateKey);
    },
  };
}

/**
 * The `cnf.jkt` a token says it is bound to (decoded, NOT verified), or `undefined`.
 *
 * ```ts
 * boundKeyOf(token) === key.jkt; // the token is bound to this key
 * ```
 *
 * Not checked: the token's signature (only the server can).
 */
export function boundKeyOf(token: string): string | undefined {
  try {
    const cnf = decodeJwt(token)["cnf"] as { jkt?: unknown } | undefined;
    return typeof cnf?.jkt === "string" ? cnf.jkt : undefined;
  } catch {
    return undefined;
  }
}

/** The public members of a JWK (RFC 7518 §6), and nothing else. */
function publicMembers(jwk: JWK): JWK {
  const { kty, crv, x, y, n, e } = jwk;
  return kty === "RSA" ? { kty, e, n } : kty === "EC" ? { kty, crv, x, y } : { kty, crv, x };
}

/**
 * What doctor knows of DPoP in its call (the `dpop` field of its diagnosis): thumbprints only, which
 * are public (a bound token carries its own), never a key or a proof.
 */
export interface DpopFacts {
  /** The thumbprint of the `--dpop-key`; `null` without one (the token went as `Bearer`). */
  readonly keyJkt: string | null;
  /** The token's `cnf.jkt` (decoded, not verified); `null` when it has none, or no token was sent. */
  readonly tokenJkt: string | null;
  /** Whether the server asked for a nonce (`USE_DPOP_NONCE`) and the call was made once more with it. */
  readonly nonceRetried: boolean;
}
