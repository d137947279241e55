import type { ConnectError } from "@connectrpc/connect";
import { type Challenge, formatChallenge } from "./challenge.js";
import { type Reason, bearerErrorOf, codeOf, dpopErrorOf, hasChallenge, isDpopProofReason } from "./reason.js";
import { errorWithInfo } from "./error-info.js";

/** The header that carries the challenge of a failure. */
export const wwwAuthenticateHeader = "www-authenticate";

/** The request header that carries a DPoP proof (RFC 9449 §4.1). */
export const dpopHeader = "dpop";

/** The response header that carries a fresh DPoP nonce (RFC 9449 §8). */
export const dpopNonceHeader = "dpop-nonce";

/** The schemes a failure can challenge with. */
export type ChallengeScheme = "Bearer" | "DPoP";

/** Options of {@link createAuthError}. */
export interface AuthErrorOptions {
  /**
   * A message for humans. It must not contain the credential or anything read from it that the caller
   * did not already know; the default is a fixed sentence per reason.
   */
  readonly message?: string;
  /** The `realm` of the challenge. */
  readonly realm?: string;
  /** Scopes the method needs: the challenge's `scope` and `ErrorInfo.metadata.required_scopes`. */
  readonly requiredScopes?: readonly string[];
  /** More `ErrorInfo.metadata`, e.g. `{ authenticator: "jwt" }`. Never put token text here. */
  readonly metadata?: Readonly<Record<string, string>>;
  /**
   * The challenges to send, in order: `Bearer` (RFC 6750), `DPoP` (RFC 9449 §7.1), or both, as the
   * server takes them. Default `["Bearer"]`. The DPoP proof reasons (`INVALID_DPOP_PROOF`,
   * `USE_DPOP_NONCE`) are always answered with a `DPoP` challenge only.
   */
  readonly schemes?: readonly ChallengeScheme[];
  /** The `algs` of a `DPoP` challenge: the proof algorithms the server accepts. */
  readonly dpopAlgorithms?: readonly string[];
  /** A nonce for the next DPoP proof, sent as the `DPoP-Nonce` response header (RFC 9449 §8). */
  readonly dpopNonce?: string;
}

const defaultMessages: Readonly<Record<Reason, string>> = {
  MISSING_CREDENTIALS: "this method needs credentials and none were sent",
  MALFORMED_CREDENTIALS: "the credentials are malformed",
  MULTIPLE_CREDENTIALS: "more than one credential was sent",
  INVALID_TOKEN: "the token is invalid",
  TOKEN_EXPIRED: "the token has expired",
  TOKEN_NOT_YET_VALID: "the token is not valid yet (check the clocks)",
  INVALID_AUDIENCE: "the token was not issued for this service",
  INVALID_ISSUER: "the token was not issued by a trusted issuer",
  INVALID_API_KEY: "the API key is not valid",
  INVALID_CLIENT_CERTIFICATE: "the client certificate is not verified or not known",
  INSUFFICIENT_SCOPE: "the caller lacks a scope this method needs",
  CLAIMS_REJECTED: "the caller's claims do not satisfy this method's rule",
  KEYS_UNAVAILABLE: "the server cannot verify credentials right now",
  INVALID_DPOP_PROOF: "the DPoP proof is invalid",
  USE_DPOP_NONCE: "the DPoP proof must carry the server's nonce",
  REVOCATION_UNAVAILABLE: "the server cannot check revocations right now",
  REPLAY_STORE_UNAVAILABLE: "the server cannot check DPoP proofs for replay right now",
};

/**
 * Creates the `ConnectError` of an auth failure: the contract's code for the reason, a
 * `google.rpc.ErrorInfo` detail (domain `connectauth`), and the RFC 6750 `WWW-Authenticate` challenge
 * as error metadata (a `DPoP` challenge and the `DPoP-Nonce` header too, when asked). Connect sends
 * that metadata as response headers on unary Connect calls, in the end-of-stream message on streaming
 * Connect calls, and as trailers on gRPC and gRPC-web.
 *
 * ```ts
 * throw createAuthError(Reason.InsufficientScope, { realm: "api", requiredScopes: ["admin"] });
 * // PermissionDenied, ErrorInfo{reason: "INSUFFICIENT_SCOPE", metadata: {required_scopes: "admin"}},
 * // www-authenticate: Bearer realm="api", error="insufficient_scope", scope="admin"
 * ```
 *
 * For the server's {@link Reason}s; a client's own refusals (`ClientReason`) have no challenge and come
 * from its guards. Both are built by one function, so every connectauth error carries its `ErrorInfo`
 * the same way. Not checked: that `message` and `metadata` hold no credential (they never may).
 */
export function createAuthError(reason: Reason, options: AuthErrorOptions = {}): ConnectError {
  const metadata: Record<string, string> = { ...options.metadata };
  const scopes = options.requiredScopes ?? [];
  if (scopes.length > 0) {
    metadata["required_scopes"] = scopes.join(" ");
  }
  const header = new Headers();
  if (hasChallenge(reason)) {
    const schemes: readonly ChallengeScheme[] = isDpopProofReason(reason) ? ["DPoP"] : (options.schemes ?? ["Bearer"]);
    const challenges = schemes.map((scheme) => formatChallenge(challengeOf(scheme, reason, options, scopes)));
    header.set(wwwAuthenticateHeader, challenges.join(", "));
  }
  if (options.dpopNonce !== undefined) header.set(dpopNonceHeader, options.dpopNonce);
  return errorWithInfo(codeOf(reason), reason, options.message ?? defaultMessages[reason], metadata, header);
}

function challengeOf(scheme: ChallengeScheme, reason: Reason, options: AuthErrorOptions, scopes: readonly string[]): Challenge {
  const params: Record<string, string> = {};
  if (options.realm !== undefined) params["realm"] = options.realm;
  const error = scheme === "DPoP" ? dpopErrorOf(reason) : bearerErrorOf(reason);
  if (error !== undefined) params["error"] = error;
  if (error === "insufficient_scope" && scopes.length > 0) params["scope"] = scopes.join(" ");
  if (scheme === "DPoP" && options.dpopAlgorithms !== undefined && options.dpopAlgorithms.length > 0) {
    params["algs"] = options.dpopAlgorithms.join(" ");
  }
  return { scheme, params };
}
