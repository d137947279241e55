import { type Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { ErrorInfoSchema } from "./gen/google/rpc/error_details_pb.js";
import { type Challenge, formatChallenge, parseChallenges } from "./challenge.js";
import { type Reason, bearerErrorOf, codeOf, errorDomain, hasChallenge, isReason } from "./reason.js";

/** The header that carries the challenge of a failure. */
export const wwwAuthenticateHeader = "www-authenticate";

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
};

/**
 * Creates the `ConnectError` of an auth failure: the contract's code for the reason, a
 * `google.rpc.ErrorInfo` detail (domain `connectauth`), and the RFC 6750 `WWW-Authenticate` challenge
 * as error metadata. Connect sends that metadata as response headers on unary Connect calls, in the
 * end-of-stream message on streaming Connect calls, and as trailers on gRPC and gRPC-web.
 *
 * ```ts
 * throw createAuthError(Reason.InsufficientScope, { realm: "api", requiredScopes: ["admin"] });
 * // PermissionDenied, ErrorInfo{reason: "INSUFFICIENT_SCOPE", metadata: {required_scopes: "admin"}},
 * // www-authenticate: Bearer realm="api", error="insufficient_scope", scope="admin"
 * ```
 */
export function createAuthError(reason: Reason, options: AuthErrorOptions = {}): ConnectError {
  const metadata: Record<string, string> = { ...options.metadata };
  const scopes = options.requiredScopes ?? [];
  if (scopes.length > 0) {
    metadata["required_scopes"] = scopes.join(" ");
  }
  const header = new Headers();
  if (hasChallenge(reason)) {
    header.set(wwwAuthenticateHeader, formatChallenge(bearerChallenge(reason, options.realm, scopes)));
  }
  return new ConnectError(options.message ?? defaultMessages[reason], codeOf(reason), header, [
    { desc: ErrorInfoSchema, value: create(ErrorInfoSchema, { reason, domain: errorDomain, metadata }) },
  ]);
}

function bearerChallenge(reason: Reason, realm: string | undefined, scopes: readonly string[]): Challenge {
  const params: Record<string, string> = {};
  if (realm !== undefined) params["realm"] = realm;
  const error = bearerErrorOf(reason);
  if (error !== undefined) params["error"] = error;
  if (error === "insufficient_scope" && scopes.length > 0) params["scope"] = scopes.join(" ");
  return { scheme: "Bearer", params };
}

/**
 * What an app needs to know of an auth failure, read from any caught error.
 */
export interface AuthFailure {
  /** The Connect code. */
  readonly code: Code;
  /** The connectauth reason. */
  readonly reason: Reason;
  /** The error message (never holds the credential). */
  readonly message: string;
  /** The Bearer challenge, when the server sent one (it may be missing through proxies that drop it). */
  readonly challenge: Challenge | undefined;
  /** The scopes the method needs, from `ErrorInfo.metadata.required_scopes` or the challenge. */
  readonly requiredScopes: readonly string[];
  /** All of `ErrorInfo.metadata`. */
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Reads the connectauth failure of an error: `undefined` for anything that is not one (other
 * `ConnectError`s, network errors, bugs). Works on errors from the wire (client side) and on errors
 * created by {@link createAuthError} (server side).
 *
 * ```ts
 * try { await client.admin({}); } catch (e) {
 *   const failure = readAuthFailure(e);
 *   if (failure?.reason === Reason.InsufficientScope) askForConsent(failure.requiredScopes);
 * }
 * ```
 */
export function readAuthFailure(error: unknown): AuthFailure | undefined {
  return readAuthFailureWith(error, isReason);
}

/**
 * {@link readAuthFailure} for a wider set of reasons: the view of any error that carries a connectauth
 * `ErrorInfo` whose reason `accepts` takes, e.g. a client's own refusals next to the server's reasons.
 *
 * ```ts
 * const isMine = (r: string): r is Reason | "INSECURE_TRANSPORT" => isReason(r) || r === "INSECURE_TRANSPORT";
 * const failure = readAuthFailureWith(error, isMine);
 * ```
 */
export function readAuthFailureWith<R extends string>(
  error: unknown,
  accepts: (reason: string) => reason is R,
): (Omit<AuthFailure, "reason"> & { readonly reason: R }) | undefined {
  // ConnectError's instanceof recognizes errors from other copies of @connectrpc/connect too.
  if (!(error instanceof ConnectError)) {
    return undefined;
  }
  const info = error.findDetails(ErrorInfoSchema).find((d) => d.domain === errorDomain);
  if (info === undefined || !accepts(info.reason)) {
    return undefined;
  }
  const challenge = parseChallenges(error.metadata.get(wwwAuthenticateHeader)).find(
    (c) => c.scheme.toLowerCase() === "bearer",
  );
  const scopeText = info.metadata["required_scopes"] ?? challenge?.params["scope"] ?? "";
  return {
    code: error.code,
    reason: info.reason,
    message: error.rawMessage,
    challenge,
    requiredScopes: scopeText.split(" ").filter(Boolean),
    metadata: { ...info.metadata },
  };
}
