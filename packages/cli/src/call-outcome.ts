import { Code, type ConnectError } from "@connectrpc/connect";
import { type Reason, readAuthFailure, wwwAuthenticateHeader } from "@connectauth/core";
import { isReason } from "@connectauth/core/protocol";
import type { TokenFacts } from "./token-facts.js";

/** What the call answered. */
export interface CallOutcome {
  /** `0` for OK, else the Connect code. */
  readonly code: number;
  /** e.g. `"PermissionDenied"`, `"OK"`. */
  readonly codeName: string;
  /** The connectauth reason (`ErrorInfo.reason`), when the failure has one. */
  readonly reason: Reason | undefined;
  readonly message: string | undefined;
  /** The raw `WWW-Authenticate` value, when sent. */
  readonly challenge: string | undefined;
  /** `ErrorInfo.metadata` (e.g. `detail`, `authenticator`, `required_scopes`). */
  readonly metadata: Readonly<Record<string, string>>;
  readonly requiredScopes: readonly string[];
  /** The scopes the token claims (decoded locally). */
  readonly grantedScopes: readonly string[];
  /** Required scopes the token does not claim. */
  readonly missingScopes: readonly string[];
}

/**
 * The {@link CallOutcome} of one call: its error (`undefined` for OK) read as a connectauth failure
 * when it carries a reason of core's `Reason`, and the required scopes set against those the token
 * claims. A reason this version does not know leaves `reason` undefined and `metadata` empty.
 *
 * ```ts
 * const call = callOutcome(await rawUnaryCall(options), tokenFacts(token, Date.now()));
 * call.missingScopes; // ["admin"]
 * ```
 *
 * Not checked: the token's signature (its scopes are what it says, decoded without verification).
 */
export function callOutcome(error: ConnectError | undefined, token: TokenFacts | null): CallOutcome {
  const read = error === undefined ? undefined : readAuthFailure(error);
  // Only the reasons of this version's servers are read: another reason is judged by its code alone.
  const failure = read !== undefined && isReason(read.reason) ? { ...read, reason: read.reason } : undefined;
  const granted = token?.scopes ?? [];
  const required = failure?.requiredScopes ?? [];
  return {
    code: error?.code ?? 0,
    codeName: error === undefined ? "OK" : Code[error.code],
    reason: failure?.reason,
    message: error?.rawMessage,
    challenge: error?.metadata.get(wwwAuthenticateHeader) ?? undefined,
    metadata: failure?.metadata ?? {},
    requiredScopes: required,
    grantedScopes: granted,
    missingScopes: required.filter((s) => !granted.includes(s)),
  };
}
