import { Code } from "@connectrpc/connect";
import { type AuthFailure, type Reason, readAuthFailureWith } from "@connectauth/core";
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

/**
 * A reason of a failure seen by a client: the server's, the client's own refusals, or a reason of a
 * newer server that this client does not know yet (any `ErrorInfo.reason` in the `connectauth` domain).
 */
export type ClientAuthReason =
  | Reason
  | typeof insecureTransportReason
  | typeof tokenUnavailableReason
  // Any other UPPER_SNAKE_CASE reason; `string & {}` keeps the known ones offered by editors.
  | (string & {});

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
  const failure = readAuthFailureWith(error, isErrorInfoReason);
  return failure && { ...failure, action: actionOf(failure.reason, failure.code) };
}

/** Whether a reason has the syntax of `google.rpc.ErrorInfo.reason`: UPPER_SNAKE_CASE. */
function isErrorInfoReason(reason: string): reason is ClientAuthReason {
  return /^[A-Z][A-Z0-9_]*$/.test(reason);
}

/** The action for each reason this client knows (a reason added to `Reason` must be given one here). */
const actions: Readonly<Record<Reason | typeof insecureTransportReason | typeof tokenUnavailableReason, AuthFailureAction>> = {
  MISSING_CREDENTIALS: "sign_in",
  INVALID_TOKEN: "sign_in",
  TOKEN_EXPIRED: "sign_in",
  TOKEN_NOT_YET_VALID: "sign_in",
  INVALID_AUDIENCE: "sign_in",
  INVALID_ISSUER: "sign_in",
  INSUFFICIENT_SCOPE: "consent",
  CLAIMS_REJECTED: "not_allowed",
  KEYS_UNAVAILABLE: "try_later",
  TOKEN_UNAVAILABLE: "try_later",
  MALFORMED_CREDENTIALS: "fix_configuration",
  MULTIPLE_CREDENTIALS: "fix_configuration",
  INVALID_API_KEY: "fix_configuration",
  INVALID_CLIENT_CERTIFICATE: "fix_configuration",
  INSECURE_TRANSPORT: "fix_configuration",
};

/** The action for a reason; for a reason this client does not know, the action its code implies. */
function actionOf(reason: ClientAuthReason, code: Code): AuthFailureAction {
  if (Object.hasOwn(actions, reason)) return actions[reason as keyof typeof actions];
  if (code === Code.Unauthenticated) return "sign_in";
  if (code === Code.PermissionDenied) return "not_allowed";
  return code === Code.Unavailable ? "try_later" : "fix_configuration";
}
