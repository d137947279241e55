import type { Code } from "@connectrpc/connect";
import type { DescMethod } from "@bufbuild/protobuf";
import { type Reason, tokenHash } from "@connectauth/core";
import type { CandidateVerdict } from "./authorization.js";
import { type AuthChallenge, type Denial, codeOfDenial, fault } from "./denial.js";
import type { AuthIdentity } from "./identity.js";

/**
 * One auth decision of the server: emitted exactly once per call, allowed or denied, by the gate (or
 * by the interceptor when the gate did not run, or when the method's condition reads the request), and
 * once more for a stream that the server ends because its credential expired or was revoked. It
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
  /**
   * What the method's candidate rule (`AuthRule.candidate`, never enforced) would have decided of the
   * same call. Only on events of methods whose rule has a candidate: the key is absent otherwise.
   */
  readonly shadow?: ShadowDecision;
}

/**
 * What a candidate rule would have decided of a call, beside the enforced rule that decided it
 * ({@link DecisionEvent.shadow}). The candidate is judged with the same caller: its scopes, claims and
 * CEL condition (one over the request where the enforced rule's conditions run, in the interceptor,
 * on the same messages). A call that authenticated nobody is judged as the enforced rule judged it,
 * but for a call without any credential: a public candidate would allow it, any other would answer
 * `MISSING_CREDENTIALS` (so an anonymous call to a public method whose candidate is not public
 * disagrees: the candidate would demand a credential).
 *
 * ```ts
 * const onDecision: DecisionListener = (e) => {
 *   if (e.shadow?.outcome === "disagrees" && e.allowed) console.log(e.subject, "would be locked out:", e.shadow.reason);
 * };
 * ```
 */
export interface ShadowDecision {
  /**
   * Whether the candidate would have allowed the call; `undefined` when it could not be told: the
   * caller passed the rest of the candidate but its condition over the request message was never
   * judged (the call was refused from its headers, or the request gate runs without the interceptor).
   */
  readonly allowed: boolean | undefined;
  /** The reason of the candidate's denial; `undefined` when it would allow, and for a fault. */
  readonly reason: Reason | undefined;
  /** `ErrorInfo.metadata.detail` of the candidate's denial (`claim`, `condition`, `condition_error`, …). */
  readonly detail: string | undefined;
  /**
   * `"disagrees"` when the candidate would have decided otherwise: deny a call that was allowed, or
   * allow one that was denied (whatever the reasons); `"agrees"` when both allow or both deny;
   * `"unknown"` when {@link ShadowDecision.allowed} is `undefined`.
   */
  readonly outcome: "agrees" | "disagrees" | "unknown";
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
  /** The identity the credential established, for the candidate rule; never in the event. */
  readonly identity?: AuthIdentity;
  /**
   * What the method's candidate rule decided once the request message was judged (the interceptor's);
   * otherwise it is judged from this verdict when the event is built.
   */
  readonly candidate?: CandidateVerdict;
  /** Whether the credential came with the `DPoP` scheme. */
  readonly dpop?: boolean;
  /**
   * The challenge of a refusal of the call's rule found later (a condition over the request message):
   * `DPoP` after a DPoP call.
   */
  readonly challenge?: AuthChallenge;
}

/**
 * What judges candidate rules for {@link decisionEmitter}: an `Authorization`.
 *
 * ```ts
 * const emit = decisionEmitter(listener, createAuthorization({ rules, services }));
 * ```
 */
export interface CandidateJudge {
  judgeCandidate(method: DescMethod, verdict: Verdict): CandidateVerdict | undefined;
}

/**
 * Emits one verdict to the listener as a {@link DecisionEvent}, `durationMs` after the call's auth
 * began, with {@link DecisionEvent.shadow} when `candidates` finds a candidate rule for the method. What
 * the listener throws is ignored: a listener cannot fail a call, nor change its answer; nor can judging
 * the candidate (a failure there is a candidate that would deny).
 *
 * ```ts
 * const emit = decisionEmitter((e) => console.log(e.allowed, e.reason, e.shadow?.outcome), authorization);
 * await emit({ method, denial: undefined, subject: "alice" }, 0.4);
 * ```
 */
export function decisionEmitter(
  listener: DecisionListener,
  candidates?: CandidateJudge,
): (verdict: Verdict, durationMs: number) => Promise<void> {
  return async (verdict, durationMs) => {
    const { method, denial } = verdict;
    const shadow = candidates === undefined ? undefined : shadowOf(verdict, candidates);
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
      ...(shadow === undefined ? {} : { shadow }),
    };
    try {
      listener(event);
    } catch {
      // A listener cannot fail a call, nor change its answer.
    }
  };
}

/** The {@link ShadowDecision} of a verdict, or `undefined` when its method has no candidate. Never throws. */
function shadowOf(verdict: Verdict, candidates: CandidateJudge): ShadowDecision | undefined {
  let judged: CandidateVerdict | undefined;
  try {
    judged = verdict.candidate ?? candidates.judgeCandidate(verdict.method, verdict);
  } catch {
    judged = candidateFault;
  }
  if (judged === undefined) return undefined;
  if (judged === "request") return { allowed: undefined, reason: undefined, detail: undefined, outcome: "unknown" };
  const allowed = judged === "allow";
  const denied = allowed ? undefined : (judged as Denial);
  return {
    allowed,
    reason: denied?.reason,
    detail: denied?.metadata?.["detail"],
    outcome: allowed === (verdict.denial === undefined) ? "agrees" : "disagrees",
  };
}

const candidateFault = fault("connectauth: the candidate rule could not be judged");
