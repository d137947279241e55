import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "./gen/google/rpc/error_details_pb.js";
import { type Challenge, parseChallenges } from "./challenge.js";
import { type Reason, errorDomain } from "./reason.js";
import type { ClientReason } from "./client-reason.js";
import { wwwAuthenticateHeader } from "./auth-error.js";

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

/** An auth failure as an app sees it, read from any caught error by {@link readAuthFailure}. */
export interface AuthFailure {
  /** The Connect code. */
  readonly code: Code;
  /**
   * The `ErrorInfo.reason`: the server's ({@link Reason}), the client's own refusals
   * (`ClientReason`), or the reason of a newer server that this version does not know yet (any
   * UPPER_SNAKE_CASE reason of the `connectauth` domain).
   */
  // `string & {}` keeps the known reasons offered by editors.
  readonly reason: Reason | ClientReason | (string & {});
  /** What to do about it. */
  readonly action: AuthFailureAction;
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
 * The one reader of connectauth failures, for apps and tools: from any caught error, the code, the
 * reason (the server's, the client's own `INSECURE_TRANSPORT` / `TOKEN_UNAVAILABLE`, or a newer
 * server's), the {@link AuthFailureAction} to take, the parsed challenge and the required scopes.
 * `undefined` for anything that is not one: other `ConnectError`s, another domain's `ErrorInfo`, a
 * reason that is not UPPER_SNAKE_CASE, network errors, bugs. Works on errors from the wire and on
 * errors built here (`createAuthError`, the client's refusals).
 *
 * ```ts
 * try { await client.admin({}); } catch (e) {
 *   const f = readAuthFailure(e);
 *   if (f?.action === "sign_in") login();
 *   else if (f?.action === "consent") askFor(f.requiredScopes);
 *   else if (f?.reason === ClientReason.InsecureTransport) useHttps();
 * }
 * ```
 *
 * Not checked: that the error came from a connectauth peer (any server may send this `ErrorInfo`), nor
 * that a known reason came with its contract code (its action is the reason's whatever the code).
 */
export function readAuthFailure(error: unknown): AuthFailure | undefined {
  // ConnectError's instanceof recognizes errors from other copies of @connectrpc/connect too.
  if (!(error instanceof ConnectError)) {
    return undefined;
  }
  const info = error.findDetails(ErrorInfoSchema).find((d) => d.domain === errorDomain);
  // The syntax of google.rpc.ErrorInfo.reason: UPPER_SNAKE_CASE.
  if (info === undefined || !/^[A-Z][A-Z0-9_]*$/.test(info.reason)) {
    return undefined;
  }
  const challenge = parseChallenges(error.metadata.get(wwwAuthenticateHeader)).find(
    (c) => c.scheme.toLowerCase() === "bearer",
  );
  const scopeText = info.metadata["required_scopes"] ?? challenge?.params["scope"] ?? "";
  return {
    code: error.code,
    reason: info.reason,
    action: actionOf(info.reason, error.code),
    message: error.rawMessage,
    challenge,
    requiredScopes: scopeText.split(" ").filter(Boolean),
    metadata: { ...info.metadata },
  };
}

/** The action of each known reason (a reason added to `Reason` or `ClientReason` must be given one here). */
const actions: Readonly<Record<Reason | ClientReason, AuthFailureAction>> = {
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

/** The action for a reason; for a reason this version does not know, the action its code implies. */
function actionOf(reason: string, code: Code): AuthFailureAction {
  if (Object.hasOwn(actions, reason)) return actions[reason as keyof typeof actions];
  if (code === Code.Unauthenticated) return "sign_in";
  if (code === Code.PermissionDenied) return "not_allowed";
  return code === Code.Unavailable ? "try_later" : "fix_configuration";
}
