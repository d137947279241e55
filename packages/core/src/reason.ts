import { Code } from "@connectrpc/connect";

/**
 * The machine-readable reasons of every authentication and authorization failure. They are the
 * `reason` of the `google.rpc.ErrorInfo` detail that every auth error carries, in the domain
 * {@link errorDomain}.
 *
 * ```ts
 * import { Reason } from "@connectauth/core";
 * if (failure.reason === Reason.TokenExpired) await signInAgain();
 * ```
 */
export const Reason = {
  /** No credential was presented for a method that needs one. */
  MissingCredentials: "MISSING_CREDENTIALS",
  /** The credential does not follow the grammar of its scheme, or is too large. */
  MalformedCredentials: "MALFORMED_CREDENTIALS",
  /** More than one credential was presented (two `Authorization` values, or a token and an API key). */
  MultipleCredentials: "MULTIPLE_CREDENTIALS",
  /** The token failed verification (signature, algorithm, format, claims). */
  InvalidToken: "INVALID_TOKEN",
  /** The token's `exp` has passed. */
  TokenExpired: "TOKEN_EXPIRED",
  /** The token's `nbf` (or `iat`) lies in the future: often clock skew. */
  TokenNotYetValid: "TOKEN_NOT_YET_VALID",
  /** The token was not issued for this service (`aud`). */
  InvalidAudience: "INVALID_AUDIENCE",
  /** The token was not issued by a trusted issuer (`iss`). */
  InvalidIssuer: "INVALID_ISSUER",
  /** The API key is not known. */
  InvalidApiKey: "INVALID_API_KEY",
  /** The TLS client certificate was not verified against the server's trusted CAs, or maps to no known caller. */
  InvalidClientCertificate: "INVALID_CLIENT_CERTIFICATE",
  /** The caller lacks a scope the method needs. */
  InsufficientScope: "INSUFFICIENT_SCOPE",
  /** The caller's claims do not satisfy the method's rule. */
  ClaimsRejected: "CLAIMS_REJECTED",
  /** The server cannot reach the keys to verify tokens and has none cached. Not the caller's fault. */
  KeysUnavailable: "KEYS_UNAVAILABLE",
} as const;

/** One of the values of {@link Reason}. */
export type Reason = (typeof Reason)[keyof typeof Reason];

/** The `ErrorInfo.domain` of every connectauth error. */
export const errorDomain = "connectauth";

/** The RFC 6750 `error` attribute a reason answers with, or `undefined` for none. */
export type BearerErrorCode = "invalid_request" | "invalid_token" | "insufficient_scope";

interface ReasonSpec {
  readonly code: Code;
  /** Whether a Bearer challenge is sent at all. */
  readonly challenge: boolean;
  readonly bearerError?: BearerErrorCode;
}

// Built by a pure call: the table reads `Code` of another module, which a bundler would otherwise keep
// (a property read may have effects), and a client that only needs isReason/isTokenReason does not need it.
const specs: Readonly<Record<Reason, ReasonSpec>> = /* @__PURE__ */ (() => ({
  MISSING_CREDENTIALS: { code: Code.Unauthenticated, challenge: true },
  MALFORMED_CREDENTIALS: { code: Code.Unauthenticated, challenge: true, bearerError: "invalid_request" },
  MULTIPLE_CREDENTIALS: { code: Code.Unauthenticated, challenge: true, bearerError: "invalid_request" },
  INVALID_TOKEN: { code: Code.Unauthenticated, challenge: true, bearerError: "invalid_token" },
  TOKEN_EXPIRED: { code: Code.Unauthenticated, challenge: true, bearerError: "invalid_token" },
  TOKEN_NOT_YET_VALID: { code: Code.Unauthenticated, challenge: true, bearerError: "invalid_token" },
  INVALID_AUDIENCE: { code: Code.Unauthenticated, challenge: true, bearerError: "invalid_token" },
  INVALID_ISSUER: { code: Code.Unauthenticated, challenge: true, bearerError: "invalid_token" },
  INVALID_API_KEY: { code: Code.Unauthenticated, challenge: false },
  INVALID_CLIENT_CERTIFICATE: { code: Code.Unauthenticated, challenge: false },
  INSUFFICIENT_SCOPE: { code: Code.PermissionDenied, challenge: true, bearerError: "insufficient_scope" },
  CLAIMS_REJECTED: { code: Code.PermissionDenied, challenge: true, bearerError: "insufficient_scope" },
  KEYS_UNAVAILABLE: { code: Code.Unavailable, challenge: false },
}))();

/**
 * The Connect code of a reason, per the contract: `Unauthenticated` for credential problems,
 * `PermissionDenied` for authorization, `Unavailable` when the server lost its keys.
 *
 * ```ts
 * codeOf(Reason.InsufficientScope); // Code.PermissionDenied
 * ```
 */
export function codeOf(reason: Reason): Code {
  return specs[reason].code;
}

/**
 * The RFC 6750 `error` attribute of the reason's `WWW-Authenticate` challenge; `undefined` when the
 * challenge has none (`MISSING_CREDENTIALS`) or when no challenge is sent at all (see {@link hasChallenge}).
 */
export function bearerErrorOf(reason: Reason): BearerErrorCode | undefined {
  return specs[reason].bearerError;
}

/**
 * Whether a failure for this reason answers with a Bearer `WWW-Authenticate` challenge. API-key and
 * key-outage failures do not: there is nothing a Bearer client could do about them.
 */
export function hasChallenge(reason: Reason): boolean {
  return specs[reason].challenge;
}

/**
 * Whether the reason says the token itself was rejected, so that a client may fetch a new token and
 * retry once. `MISSING_CREDENTIALS`, scope failures and key outages are not token reasons: a new token
 * would not help (or would hide a server fault).
 *
 * ```ts
 * if (isTokenReason(failure.reason)) { tokenSource.invalidate(); }
 * ```
 */
export function isTokenReason(reason: string): reason is Reason {
  return tokenReasons.has(reason);
}

// Literals (type-checked as Reason) rather than Reason.X: a client that needs only this set does not
// bundle the whole Reason table.
const tokenReasons: ReadonlySet<string> = new Set<Reason>([
  "INVALID_TOKEN",
  "TOKEN_EXPIRED",
  "TOKEN_NOT_YET_VALID",
  "INVALID_AUDIENCE",
  "INVALID_ISSUER",
]);

/** Whether a string is one of the {@link Reason} values. */
export function isReason(value: string): value is Reason {
  return reasons.has(value);
}

// A pure call, so that a bundle that does not use isReason drops it and the Reason table with it.
const reasons: ReadonlySet<string> = /* @__PURE__ */ (() => new Set<string>(Object.values(Reason)))();
