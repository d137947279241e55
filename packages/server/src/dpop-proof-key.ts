import { type ProtectedHeaderParameters, calculateJwkThumbprint, decodeProtectedHeader, importJWK } from "jose";

/**
 * @internal The key of a DPoP proof's protected header, checked and imported once: what a proof with the
 * same header segment is verified with.
 *
 * ```ts
 * const key: ProofKey = { alg: "ES256", key: publicKey, jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" };
 * ```
 */
export interface ProofKey {
  /** The header's `alg`, one of the verifier's algorithms. */
  readonly alg: string;
  /** The header's `jwk`, imported (a public key). */
  readonly key: CryptoKey;
  /** Its RFC 7638 SHA-256 thumbprint (base64url). */
  readonly jkt: string;
  /** The last access token whose `ath` was computed for a proof of this key, with that `ath`. */
  lastAth?: { readonly token: string; readonly ath: string | undefined };
}

/** @internal Which header check refused a proof (a {@link DpopProofDetail} of dpop-proof.ts). */
export type ProofHeaderRefusal = "format" | "typ" | "alg" | "jwk";

/**
 * @internal The proof keys of one verifier, by the proof's protected-header segment (the exact base64url
 * text before the first dot), from {@link createProofKeys}.
 *
 * ```ts
 * const key = keys.get(segment) ?? (await keys.load(segment));
 * ```
 */
export interface ProofKeys {
  /** The key of a segment that passed every header check before; `undefined` for any other. */
  get(segment: string): ProofKey | undefined;
  /** Decodes the segment, checks its header and imports its key, kept for `get` when it passes; else the refusal. */
  load(segment: string): Promise<ProofKey | ProofHeaderRefusal>;
}

const publicKeyTypes: ReadonlySet<unknown> = new Set(["EC", "RSA", "OKP"]);
const privateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] as const;

/**
 * @internal Creates the bounded map (`maxEntries`, the oldest dropped first) of a verifier's proof keys,
 * keyed by the proof's protected-header segment. Every proof of one client key carries the same segment
 * (its `typ`, `alg` and `jwk`), so a client's steady proofs cost one map look-up: no header decode, no key
 * import, no thumbprint (one per segment, however many of its first proofs arrive at once), and none of
 * the header checks again, which only a segment that passed them all
 * is kept for: `typ` `dpop+jwt` (RFC 8725 §3.11's comparison), `alg` in `algorithms`, a public `jwk` for
 * it (an asymmetric `kty`, no private member, `use` and `alg` fitting, imported by jose as a public key,
 * RSA of 2048 bits or more), no `crit`, no `b64`.
 *
 * ```ts
 * const keys = createProofKeys(new Set(["ES256"]), 1000);
 * const found = keys.get(segment) ?? (await keys.load(segment)); // ProofKey | "typ" | "alg" | "jwk" | "format"
 * ```
 *
 * Not checked: the signature (the key is only the one the header names), nor anything of the payload.
 */
export function createProofKeys(algorithms: ReadonlySet<string>, maxEntries: number): ProofKeys {
  const keys = new Map<string, ProofKey>();
  // Loads under way, so that a client's first calls at once import its key once (as many as are in flight).
  const loading = new Map<string, Promise<ProofKey | ProofHeaderRefusal>>();

  const load = async (segment: string): Promise<ProofKey | ProofHeaderRefusal> => {
    let header: ProtectedHeaderParameters;
    try {
      header = decodeProtectedHeader({ protected: segment });
    } catch {
      return "format";
    }
    if (typeof header.typ !== "string" || normalizeTyp(header.typ) !== "dpop+jwt") return "typ";
    const { alg } = header;
    if (typeof alg !== "string" || !algorithms.has(alg)) return "alg";
    const jwk: unknown = header.jwk;
    if (!isPublicJwk(jwk, alg)) return "jwk";
    if (header.crit !== undefined || header.b64 !== undefined) return "format";
    let found: ProofKey;
    try {
      const key = await importJWK(jwk, alg);
      if (!isPublicKey(key)) return "jwk";
      found = { alg, key, jkt: await calculateJwkThumbprint(jwk) };
    } catch {
      return "jwk"; // jose's and WebCrypto's errors name the key's members: not passed on
    }
    if (keys.size >= maxEntries) keys.delete(keys.keys().next().value as string);
    keys.set(segment, found);
    return found;
  };

  return {
    get: (segment) => keys.get(segment),
    load(segment) {
      let pending = loading.get(segment);
      if (pending === undefined) {
        pending = load(segment).finally(() => loading.delete(segment));
        loading.set(segment, pending);
      }
      return pending;
    },
  };
}

/** A JSON object that may be a public key for `alg`: an asymmetric kty, no private member, its `use` and `alg` fitting. */
function isPublicJwk(jwk: unknown, alg: string): jwk is Record<string, unknown> {
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) return false;
  const k = jwk as Record<string, unknown>;
  if (!publicKeyTypes.has(k["kty"]) || privateMembers.some((m) => Object.hasOwn(k, m))) return false;
  return (k["use"] === undefined || k["use"] === "sig") && (k["alg"] === undefined || k["alg"] === alg);
}

function isPublicKey(key: CryptoKey | Uint8Array): key is CryptoKey {
  if (key instanceof Uint8Array || key.type !== "public") return false;
  const { modulusLength } = key.algorithm as Partial<RsaHashedKeyAlgorithm>;
  return modulusLength === undefined || modulusLength >= 2048; // as jose requires of RSA keys when verifying
}

function normalizeTyp(value: string): string {
  const lower = value.toLowerCase();
  return lower.startsWith("application/") ? lower.slice("application/".length) : lower;
}
