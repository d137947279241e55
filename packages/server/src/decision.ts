import type { Code } from "@connectrpc/connect";
import type { DescMethod } from "@bufbuild/protobuf";
import { type Reason, tokenHash } from "@connectauth/core";
import { type AuthChallenge, type Denial, codeOfDenial } from "./denial.js";

/**
 * One auth decision of the server: emitted exactly once per call, allowed or denied, by the gate (or
 * by the interceptor when the gate did not run, or when the method's condition reads the request). It
 * never holds the credential nor anything read from it other than the subject: the credential is named
 * by {@link DecisionEvent.tokenHash} only.
 */
export interface DecisionEvent {
  /** Whether the call may proceed to the handler. */
  readonly allowed: boolean;
  /** The method, as `"package.Service/Method"`, e.g. `"example.v1.GreeterService/Greet"`. */
  readonly method: string;
  /** The Connect code of a denial (e.g. `16` Unauthenticated); `undefined` when allowed. */
  readonly code: Code | undefined;
  /**
   * The connectauth reason of a denial; `undefined` when allowed, and for faults (`Internal`: user code
   * that threw, or a setup that cannot enforce the method's rule).
   */
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
  /**
   * Whether the credential came with the `DPoP` scheme (`Authorization: DPoP <token>`, RFC 9449), whether
   * or not its proof passed. Neither the proof nor its key is in the event.
   */
  readonly dpop: boolean;
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

/** What the server decided of one call, from which its {@link DecisionEvent} is built. */
export interface Verdict {
  readonly method: DescMethod;
  /** Why the call was refused; `undefined` when it was allowed. */
  readonly denial: Denial | undefined;
  /** The authenticator that decided on the credential, if one was reached. */
  readonly authenticator?: string;
  /** The caller's subject, once a credential was accepted. */
  readonly subject?: string;
  /** The credential that was read: only hashed, never kept in the event. */
  readonly credential?: string;
  /** Whether the credential came with the `DPoP` scheme. */
  readonly dpop?: boolean;
  /**
   * The challenge of a refusal of the call's rule found later (a condition over the request message):
   * `DPoP` after a DPoP call.
   */
  readonly challenge?: AuthChallenge;
}

/**
 * Emits one verdict to the listener as a {@link DecisionEvent}, `durationMs` after the call's auth
 * began. What the listener throws is ignored: a listener cannot fail a call, nor change its answer.
 *
 * ```ts
 * const emit = decisionEmitter((e) => console.log(e.allowed, e.reason));
 * await emit({ method, denial: undefined, subject: "alice" }, 0.4);
 * ```
 */
export function decisionEmitter(listener: DecisionListener): (verdict: Verdict, durationMs: number) => Promise<void> {
  return async (verdict, durationMs) => {
    const { method, denial } = verdict;
    const event: DecisionEvent = {
      allowed: denial === undefined,
      method: `${method.parent.typeName}/${method.name}`,
      code: denial === undefined ? undefined : codeOfDenial(denial),
      reason: denial?.reason,
      detail: denial?.metadata?.["detail"],
      authenticator: verdict.authenticator,
      subject: verdict.subject,
      tokenHash: verdict.credential === undefined ? undefined : await tokenHash(verdict.credential),
      dpop: verdict.dpop === true,
      durationMs,
    };
    try {
      listener(event);
    } catch {
      // A listener cannot fail a call, nor change its answer.
    }
  };
}
