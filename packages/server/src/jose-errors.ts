import { errors } from "jose";
import { Reason } from "@connectauth/core";
import { type AuthOutcome, rejected } from "./authenticator.js";
import { KeySourceUnavailableError, KeyTypeMismatch } from "./key-lookup-errors.js";

/**
 * @internal One of the stable `code`s of jose's errors (`ERR_JWT_EXPIRED`, …): a code compared with
 * or listed as a `JoseErrorCode` that jose does not define fails to compile.
 *
 * ```ts
 * const expired: JoseErrorCode = "ERR_JWT_EXPIRED";
 * ```
 */
export type JoseErrorCode = errors.JOSEErrorCode;

// The codes of jose's error classes (each has a static `code`), read from jose itself.
const joseCodes: ReadonlySet<unknown> = new Set(Object.values(errors).map((type) => (type as { code?: unknown }).code));

/**
 * @internal The `code` of an error when it is one of jose's codes, or `undefined` for any other value.
 * Read from the `code` property, whoever threw (a key lookup of yours may throw jose's codes too).
 *
 * ```ts
 * joseCodeOf(new errors.JWTExpired("expired", payload)); // "ERR_JWT_EXPIRED"
 * ```
 *
 * Not checked: that the error is an instance of jose's classes.
 */
export function joseCodeOf(error: unknown): JoseErrorCode | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return joseCodes.has(code) ? (code as JoseErrorCode) : undefined;
}

const tokenFaults: ReadonlySet<JoseErrorCode | undefined> = new Set<JoseErrorCode>([
  "ERR_JWKS_NO_MATCHING_KEY",
  "ERR_JWKS_MULTIPLE_MATCHING_KEYS",
  "ERR_JOSE_ALG_NOT_ALLOWED",
  "ERR_JOSE_NOT_SUPPORTED",
  "ERR_JWS_INVALID",
  "ERR_JWT_INVALID",
]);

/**
 * @internal Whether a key lookup error is the token's fault (unknown `kid`, unsupported `alg`) rather
 * than an outage of the key source.
 *
 * ```ts
 * if (!isTokenFault(error)) throw new KeySourceUnavailableError("the key source cannot be reached");
 * ```
 *
 * Not checked: whether the lookup's answer was right (an outage may look like an unknown `kid`).
 */
export function isTokenFault(error: unknown): boolean {
  return tokenFaults.has(joseCodeOf(error));
}

/**
 * @internal The rejection for an error of `jwtVerify` with the guarded key lookup: a key source
 * outage is `KEYS_UNAVAILABLE`, a key of the wrong type `key_type`, and jose's errors by their code
 * (and `claim`); anything else is `INVALID_TOKEN` `format`.
 *
 * ```ts
 * try { await jwtVerify(token, getKey, options); } catch (error) { return verificationRejection(error); }
 * ```
 *
 * jose's errors carry the token's payload (as `payload` and in `cause`): they are read here for their
 * code, claim and reason only, and never passed on. Not checked: the error's message.
 */
export function verificationRejection(error: unknown): AuthOutcome {
  if (error instanceof KeySourceUnavailableError) {
    return rejected(Reason.KeysUnavailable, { detail: "key_source" });
  }
  if (error instanceof KeyTypeMismatch) {
    return rejected(Reason.InvalidToken, { message: "the token's algorithm does not fit the key", detail: "key_type" });
  }
  const claim = (error as { claim?: unknown }).claim;
  const failed = (error as { reason?: unknown }).reason === "check_failed";
  switch (joseCodeOf(error)) {
    case "ERR_JWT_EXPIRED":
      return rejected(Reason.TokenExpired, { detail: claim === "iat" ? "max_age" : "exp" });
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      if (failed && (claim === "nbf" || claim === "iat")) {
        return rejected(Reason.TokenNotYetValid, { detail: claim });
      }
      if (claim === "aud") return rejected(Reason.InvalidAudience, { detail: "aud" });
      if (claim === "iss") return rejected(Reason.InvalidIssuer, { detail: "iss" });
      return rejected(Reason.InvalidToken, {
        message: "a claim of the token is missing or invalid",
        detail: typeof claim === "string" && /^[a-z_]{1,16}$/.test(claim) ? `claim_${claim}` : "claim",
      });
    case "ERR_JWKS_NO_MATCHING_KEY":
      return rejected(Reason.InvalidToken, { message: "the token's signing key is not known", detail: "unknown_key" });
    case "ERR_JOSE_ALG_NOT_ALLOWED":
      return rejected(Reason.InvalidToken, { message: "the token's algorithm is not allowed", detail: "algorithm" });
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return rejected(Reason.InvalidToken, { message: "the token's signature is invalid", detail: "signature" });
    default:
      return rejected(Reason.InvalidToken, { message: "the token is malformed", detail: "format" });
  }
}
