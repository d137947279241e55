import { type AuthFailure, Reason, isReason, isTokenReason, readAuthFailureWith } from "@connectauth/core";
import { insecureTransportReason, tokenUnavailableReason } from "./transport-guard.js";

/** What an app should do about an auth failure. */
export type AuthFailureAction =
  /** The user (or workload) must get new credentials: none were sent, or the token was rejected. */
  | "sign_in"
  /** The caller is known but lacks scopes: ask for consent to `requiredScopes`. */
  | "consent"
  /** The caller is known and will not be allowed: show "not allowed". */
  | "not_allowed"
  /** Nothing is wrong with the caller: the server lost its keys, or the token source is down. */
  | "try_later"
  /** The app is misconfigured: plaintext to a remote host, malformed or duplicate credentials, bad API key. */
  | "fix_configuration";

/** A reason of a failure seen by a client: the server's, or the client's own refusals. */
export type ClientAuthReason = Reason | typeof insecureTransportReason | typeof tokenUnavailableReason;

/** {@link AuthFailure} as a client app sees it: with the client's own reasons, and what to do. */
export interface ClientAuthFailure extends Omit<AuthFailure, "reason"> {
  readonly reason: ClientAuthReason;
  readonly action: AuthFailureAction;
}

/**
 * The typed view of an auth failure for apps: from any caught error, the reason, the code, the parsed
 * challenge, the required scopes, and the {@link AuthFailureAction} to take. `undefined` when the error is
 * not an auth failure.
 *
 * ```ts
 * try { await client.admin({}); } catch (e) {
 *   const f = readClientAuthFailure(e);
 *   if (f?.action === "sign_in") login();
 *   else if (f?.action === "consent") askFor(f.requiredScopes);
 *   else if (f?.action === "not_allowed") show("not allowed");
 * }
 * ```
 */
export function readClientAuthFailure(error: unknown): ClientAuthFailure | undefined {
  // The client's own refusals are ConnectErrors with ErrorInfo in the same domain, read the same way.
  const failure = readAuthFailureWith(error, isClientAuthReason);
  return failure && { ...failure, action: actionOf(failure.reason) };
}

function isClientAuthReason(reason: string): reason is ClientAuthReason {
  return isReason(reason) || reason === insecureTransportReason || reason === tokenUnavailableReason;
}

function actionOf(reason: ClientAuthReason): AuthFailureAction {
  if (reason === Reason.MissingCredentials || isTokenReason(reason)) return "sign_in";
  if (reason === Reason.InsufficientScope) return "consent";
  if (reason === Reason.ClaimsRejected) return "not_allowed";
  if (reason === Reason.KeysUnavailable || reason === tokenUnavailableReason) return "try_later";
  return "fix_configuration";
}
