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
 * that a known reason came with its contract code (the action follows the code the peer sent).
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
  const challenge = parseChallenges(error.metadata.get(wwwAuthenticateHeader)).find((c) => c.scheme.toLowerCase() === "bearer");
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

// The reasons whose action is not their code's: a scope to consent to (PermissionDenied alone says
// not_allowed), and the app's own configuration faults (Unauthenticated alone says sign_in).
const refinedActions = {
  INSUFFICIENT_SCOPE: "consent",
  MALFORMED_CREDENTIALS: "fix_configuration",
  MULTIPLE_CREDENTIALS: "fix_configuration",
  INVALID_API_KEY: "fix_configuration",
  INVALID_CLIENT_CERTIFICATE: "fix_configuration",
  INVALID_DPOP_PROOF: "fix_configuration",
} satisfies Partial<Record<Reason | ClientReason, AuthFailureAction>>;

/**
 * The action of a failure: its code's (`Unauthenticated`: `sign_in`, `PermissionDenied`: `not_allowed`,
 * `Unavailable`: `try_later`, any other: `fix_configuration`), unless its reason refines it. One rule for
 * every reason, this version's and a newer server's; with the contract's code of each reason it gives the
 * action of the client README's table.
 */
function actionOf(reason: string, code: Code): AuthFailureAction {
  if (Object.hasOwn(refinedActions, reason)) return refinedActions[reason as keyof typeof refinedActions];
  if (code === Code.Unauthenticated) return "sign_in";
  if (code === Code.PermissionDenied) return "not_allowed";
  return code === Code.Unavailable ? "try_later" : "fix_configuration";
}
