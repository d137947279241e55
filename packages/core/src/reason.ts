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
  /**
   * The DPoP proof (RFC 9449) is missing, repeated, malformed, replayed, or does not match the call or
   * the token; `ErrorInfo.metadata.detail` says which check failed (`htm`, `htu`, `iat`, `jti_replay`, …).
   */
  InvalidDpopProof: "INVALID_DPOP_PROOF",
  /** The server wants the DPoP proof to carry the nonce sent in the `DPoP-Nonce` response header (RFC 9449 §8). */
  UseDpopNonce: "USE_DPOP_NONCE",
  /** The server cannot tell whether the token is revoked (its revocation list is too stale). Not the caller's fault. */
  RevocationUnavailable: "REVOCATION_UNAVAILABLE",
  /** The server cannot tell whether the DPoP proof was used before (its replay store did not answer). */
  ReplayStoreUnavailable: "REPLAY_STORE_UNAVAILABLE",
} as const;

/** One of the values of {@link Reason}. */
export type Reason = (typeof Reason)[keyof typeof Reason];

/** The `ErrorInfo.domain` of every connectauth error. */
export const errorDomain = "connectauth";

/** The RFC 6750 `error` attribute a reason answers with, or `undefined` for none. */
export type BearerErrorCode = "invalid_request" | "invalid_token" | "insufficient_scope";

/** The `error` attribute of a `DPoP` challenge (RFC 9449 §7.1, §8, §12.2): the RFC 6750 ones and DPoP's own. */
export type DpopErrorCode = BearerErrorCode | "invalid_dpop_proof" | "use_dpop_nonce";

interface ReasonSpec {
  readonly code: Code;
  /** Whether a challenge is sent at all. */
  readonly challenge: boolean;
  readonly bearerError?: BearerErrorCode;
  /** Set for the reasons that only a `DPoP` challenge can carry. */
  readonly dpopError?: "invalid_dpop_proof" | "use_dpop_nonce";
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
  INVALID_DPOP_PROOF: { code: Code.Unauthenticated, challenge: true, dpopError: "invalid_dpop_proof" },
  USE_DPOP_NONCE: { code: Code.Unauthenticated, challenge: true, dpopError: "use_dpop_nonce" },
  REVOCATION_UNAVAILABLE: { code: Code.Unavailable, challenge: false },
  REPLAY_STORE_UNAVAILABLE: { code: Code.Unavailable, challenge: false },
}))();

/**
 * The Connect code of a reason, per the contract: `Unauthenticated` for credential problems,
 * `PermissionDenied` for authorization, `Unavailable` when the server lost its keys, its revocation
 * list or its replay store.
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
 * The `error` attribute of the reason's `DPoP` challenge: DPoP's own for the proof reasons
 * (`invalid_dpop_proof`, `use_dpop_nonce`), else the RFC 6750 one.
 */
export function dpopErrorOf(reason: Reason): DpopErrorCode | undefined {
  const spec = specs[reason];
  return spec.dpopError ?? spec.bearerError;
}

/** Whether the reason is about the DPoP proof, so that only a `DPoP` challenge can answer it. */
export function isDpopProofReason(reason: Reason): boolean {
  return specs[reason].dpopError !== undefined;
}

/**
 * Whether a failure for this reason answers with a `WWW-Authenticate` challenge. API-key and outage
 * failures do not: there is nothing a Bearer or DPoP client could do about them.
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
