/**
 * Thrown by a key lookup when the key source itself failed (network, timeout, HTTP status, an invalid
 * JWKS or discovery document), as opposed to a fault of the token. Carries no cause: fetch errors may
 * name URLs with secrets in them.
 *
 * ```ts
 * const myKeys: JWTVerifyGetKey = async (header) => {
 *   try { return await vault.key(header.kid); } catch { throw new KeySourceUnavailableError("vault down"); }
 * };
 * ```
 *
 * Not checked: the message, which is yours; keep secrets out of it.
 */
export class KeySourceUnavailableError extends Error {
  override name = "KeySourceUnavailableError";
  readonly code = "KEYS_UNAVAILABLE";
}

/**
 * @internal Thrown by the guarded key lookup when a key's type does not fit the token's algorithm
 * (HMAC with a public key, or the reverse), whatever the lookup returned.
 *
 * ```ts
 * throw new KeyTypeMismatch("the key does not fit the token's algorithm");
 * ```
 *
 * Not checked: which key it was (the error names none).
 */
export class KeyTypeMismatch extends Error {
  override name = "KeyTypeMismatch";
}
