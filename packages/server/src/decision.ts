import { Code, ConnectError } from "@connectrpc/connect";
import type { DescMethod } from "@bufbuild/protobuf";
import { type Reason, readAuthFailure, tokenHash } from "@connectauth/core";

/**
 * One auth decision of the server: emitted exactly once per call by the gate (or the interceptor when
 * the gate did not run), allowed or denied. It never holds the credential nor anything read from it
 * other than the subject: the credential is named by {@link DecisionEvent.tokenHash} only.
 */
export interface DecisionEvent {
  /** Whether the call may proceed to the handler. */
  readonly allowed: boolean;
  /** The method, as `"package.Service/Method"`, e.g. `"example.v1.GreeterService/Greet"`. */
  readonly method: string;
  /** The Connect code of a denial (e.g. `16` Unauthenticated); `undefined` when allowed. */
  readonly code: Code | undefined;
  /** The connectauth reason of a denial; `undefined` when allowed or when the authenticator threw. */
  readonly reason: Reason | undefined;
  /** `ErrorInfo.metadata.detail` of a denial, a fixed word such as `"unknown_key"`, `"signature"`. */
  readonly detail: string | undefined;
  /** The authenticator that decided on the credential; `undefined` when none was reached. */
  readonly authenticator: string | undefined;
  /** The caller's subject once a credential was accepted (also on a later scope denial). */
  readonly subject: string | undefined;
  /**
   * The first 8 hex digits of the SHA-256 of the credential, to match events with the token a client
   * holds (`connectauth token decode` prints the same); `undefined` when no credential was parsed.
   */
  readonly tokenHash: string | undefined;
  /** How long the auth step took, in milliseconds. */
  readonly durationMs: number;
}

/**
 * Receives the {@link DecisionEvent}s of {@link createServerAuth}'s `onDecision` option. It is called
 * synchronously on the request path: keep it cheap. What it throws is ignored (it cannot fail a call).
 *
 * ```ts
 * const onDecision: DecisionListener = (e) => { if (!e.allowed) denied.add(1, { reason: e.reason }); };
 * ```
 */
export type DecisionListener = (event: DecisionEvent) => void;

/** What the auth step learns on its way, for its decision event. Filled in by the check of a call. */
export interface DecisionTrace {
  authenticator?: string;
  subject?: string;
  /** The parsed credential: only hashed, never kept in the event. */
  credential?: string;
}

/**
 * Emits the decision of a call whose allowed decision was held back ({@link recordDecisions} with
 * `holdAllowed`): call it once the rest of the decision is known, with the error that ended the call,
 * if any. An auth failure (a condition over the request that refused it) makes the event denied; any
 * other error, or none, keeps it allowed (the handler's own failures are not auth decisions).
 */
export type HeldDecision = (error?: unknown) => Promise<void>;

/**
 * Wraps the auth step of one call so that it emits one {@link DecisionEvent} to the listener, allowed
 * when the step resolves and denied when it throws (the error is rethrown unchanged). Without a
 * listener the step runs as is, at no cost.
 *
 * With `holdAllowed`, an allowed decision is not emitted yet: the returned {@link HeldDecision} emits
 * it later (for rules whose condition reads the request message, judged after the body is parsed).
 */
export function recordDecisions(
  listener: DecisionListener | undefined,
): (
  method: DescMethod,
  step: (trace: DecisionTrace) => Promise<void>,
  holdAllowed?: boolean,
) => Promise<HeldDecision | undefined> {
  if (listener === undefined) {
    return async (_method, step) => {
      await step({});
      return undefined;
    };
  }
  const emit = async (method: DescMethod, trace: DecisionTrace, durationMs: number, failure: unknown) => {
    const denied = failure !== undefined;
    const auth = denied ? readAuthFailure(failure) : undefined;
    const event: DecisionEvent = {
      allowed: !denied,
      method: `${method.parent.typeName}/${method.name}`,
      code: denied ? (failure instanceof ConnectError ? failure.code : Code.Internal) : undefined,
      reason: auth?.reason,
      detail: auth?.metadata["detail"],
      authenticator: trace.authenticator,
      subject: trace.subject,
      tokenHash: trace.credential === undefined ? undefined : await tokenHash(trace.credential),
      durationMs,
    };
    try {
      listener(event);
    } catch {
      // A listener cannot fail a call, nor change its answer.
    }
  };
  return async (method, step, holdAllowed = false) => {
    const trace: DecisionTrace = {};
    const started = performance.now();
    try {
      await step(trace);
    } catch (error) {
      // Thrown values are never undefined here in practice; the step throws ConnectErrors.
      await emit(method, trace, performance.now() - started, error ?? new ConnectError("denied", Code.Internal));
      throw error;
    }
    const durationMs = performance.now() - started;
    if (!holdAllowed) {
      await emit(method, trace, durationMs, undefined);
      return undefined;
    }
    let emitted = false;
    return async (error) => {
      if (emitted) return;
      emitted = true;
      await emit(method, trace, durationMs, readAuthFailure(error) === undefined ? undefined : error);
    };
  };
}
