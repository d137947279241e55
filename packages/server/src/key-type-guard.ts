import type { JWTVerifyGetKey } from "jose";
import { isTokenFault } from "./jose-errors.js";
import { KeySourceUnavailableError, KeyTypeMismatch } from "./key-lookup-errors.js";

/** @internal `"hmac"` for shared secrets, `"asymmetric"` for public keys. */
export type KeyFamily = "hmac" | "asymmetric";

/**
 * @internal The family of a JWS algorithm name: `HS*` is HMAC, anything else is asymmetric.
 *
 * ```ts
 * familyOf("HS256"); // "hmac"
 * familyOf("ES256"); // "asymmetric"
 * ```
 *
 * Not checked: that the algorithm exists (`none` is refused by the options, unknown ones by jose).
 */
export function familyOf(alg: string): KeyFamily {
  return /^HS\d+$/.test(alg) ? "hmac" : "asymmetric";
}

/** The family of a key a lookup returned (bytes, a CryptoKey, a JWK), `"private"`, or unknown. */
function keyFamilyOf(key: unknown): KeyFamily | "private" | undefined {
  if (key instanceof Uint8Array) return "hmac";
  const k = key as { type?: unknown; kty?: unknown } | null;
  if (k !== null && typeof k === "object") {
    if (k.type === "secret") return "hmac";
    if (k.type === "public") return "asymmetric";
    if (k.type === "private") return "private";
    if (typeof k.kty === "string") return k.kty === "oct" ? "hmac" : "asymmetric";
  }
  return undefined;
}

/**
 * @internal Wraps a key lookup: its outages become {@link KeySourceUnavailableError} (no cause), token
 * faults pass, and every key must be of the family of the token's algorithm, whatever the lookup
 * returned (else {@link KeyTypeMismatch}): no HMAC with a public key, ever.
 *
 * ```ts
 * const { payload } = await jwtVerify(token, guardKeySource(getKey), options);
 * ```
 *
 * Not checked: that the key is the issuer's (the lookup decides), nor its size.
 */
export function guardKeySource(getKey: JWTVerifyGetKey): JWTVerifyGetKey {
  return async (header, token) => {
    let key;
    try {
      key = await getKey(header, token);
    } catch (error) {
      if (isTokenFault(error) || error instanceof KeySourceUnavailableError) throw error;
      // Deliberately without a cause: fetch errors may name URLs with secrets in them.
      throw new KeySourceUnavailableError("the key source cannot be reached");
    }
    const keyFamily = keyFamilyOf(key);
    if (keyFamily === undefined || keyFamily !== familyOf(String(header.alg))) {
      throw new KeyTypeMismatch("the key does not fit the token's algorithm");
    }
    return key;
  };
}
