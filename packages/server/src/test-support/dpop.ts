// DPoP (RFC 9449) proofs for tests: a proof key (ES256) and the one function that signs proofs with it.
import { type CryptoKey, type JWK, SignJWT, base64url, calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";

/** A client's DPoP key: the private key that signs, its public JWK, and that JWK's thumbprint (cnf.jkt). */
export interface ProofKey {
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
  readonly jkt: string;
}

/**
 * A fresh ES256 proof key.
 *
 * ```ts
 * const key = await proofKey();
 * const token = await signer.sign({ cnf: { jkt: key.jkt } });
 * ```
 */
export async function proofKey(): Promise<ProofKey> {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { privateKey, jwk, jkt: await calculateJwkThumbprint(jwk) };
}

/**
 * A DPoP proof (RFC 9449 §4.2) by `by`: typ dpop+jwt, the public jwk in the header, `ath` of `token`,
 * and the claims given (htm, htu, iat, jti; a claim given replaces `ath`). Nothing is checked: a test
 * makes wrong proofs on purpose.
 *
 * ```ts
 * const proof = await signProof(key, token, { htm: "POST", htu: url, iat: nowS, jti: "j1" });
 * ```
 */
export async function signProof(by: ProofKey, token: string, claims: Record<string, unknown>): Promise<string> {
  // WebCrypto, as in every runtime the package claims; computed apart from the server's own hashing.
  const ath = base64url.encode(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token))));
  return new SignJWT({ ath, ...claims }).setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: by.jwk }).sign(by.privateKey);
}
