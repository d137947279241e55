import type { DescMethod, Message } from "@bufbuild/protobuf";
import type { Interceptor, StreamRequest, UnaryRequest } from "@connectrpc/connect";
import type { Authorization, CandidateVerdict } from "./authorization.js";
import type { Verdict } from "./decision.js";
import { type Denial, fault, toConnectError } from "./denial.js";
import type { AuthIdentity } from "./identity.js";

/** A call admitted from its headers whose rule still has a condition over the request message. */
export interface PendingCondition {
  /** The verdict from the headers, whose decision event waits for the condition. */
  readonly verdict: Verdict;
  readonly identity: AuthIdentity;
  /** How long judging the headers took, for the event. */
  readonly durationMs: number;
}

type Next = Parameters<Interceptor>[0];

/**
 * Hands a call on with its rule's condition over the request message judged: a unary request at once,
 * each message of a streaming request as the handler reads it (a refused message never reaches the
 * handler). The call's one decision event is emitted at the first refusal, or once the request
 * (failing that, the response) is done. With an `emit`, the method's candidate rule is judged on the
 * same messages, never enforced: it would deny at the first message its condition refuses, and allow
 * when none did (as the rule does, a stream that ends without a message included).
 *
 * ```ts
 * const withConditions = createRequestConditions(authorization, emit, realm);
 * return withConditions(next, req, pending);
 * ```
 */
export function createRequestConditions(
  authorization: Authorization,
  emit: ((verdict: Verdict, durationMs: number) => Promise<void>) | undefined,
  realm: string | undefined,
): (next: Next, req: UnaryRequest | StreamRequest, pending: PendingCondition) => ReturnType<Next> {
  return (next, req, pending) => {
    let emitted = false;
    // The candidate rule: "request" while the messages seen so far hold its condition over the request.
    let candidate = emit === undefined ? undefined : authorization.judgeCandidate(req.method, pending.verdict);
    const decide = async (denial: Denial | undefined) => {
      if (!emitted) {
        emitted = true;
        const judged: CandidateVerdict | undefined = candidate === "request" ? "allow" : candidate;
        const verdict = judged === undefined ? { ...pending.verdict, denial } : { ...pending.verdict, denial, candidate: judged };
        await emit?.(verdict, pending.durationMs);
      }
      if (denial !== undefined) throw toConnectError({ challenge: pending.verdict.challenge, ...denial }, realm);
    };
    const judge = (message: Message) => {
      if (candidate === "request") candidate = judgeCandidate(authorization, req.method, pending.identity, message);
      return authorization.authorizeRequest(req.method, pending.identity, message);
    };
    if (!req.stream) {
      return decide(judge(req.message)).then(() => next(req));
    }
    const messages = req.message;
    async function* judged() {
      for await (const message of messages) {
        const denial = judge(message);
        if (denial !== undefined) await decide(denial);
        yield message;
      }
      await decide(undefined);
    }
    const settle = () => decide(undefined);
    return next({ ...req, message: judged() }).then(
      (res) => (res.stream ? { ...res, message: afterAll(res.message, settle) } : settle().then(() => res)),
      async (error: unknown) => {
        await settle();
        throw error;
      },
    );
  };
}

/** The candidate's verdict after one more message: still `"request"` while it holds, else its denial. Never throws. */
function judgeCandidate(
  authorization: Authorization,
  method: DescMethod,
  identity: AuthIdentity,
  message: Message,
): CandidateVerdict {
  try {
    return authorization.judgeCandidateRequest(method, identity, message) ?? "request";
  } catch {
    return fault("connectauth: the candidate rule could not be judged");
  }
}

/** The messages of `iterable`, then `done()` once they end or fail. */
async function* afterAll<T>(iterable: AsyncIterable<T>, done: () => Promise<void>): AsyncIterable<T> {
  try {
    yield* iterable;
  } finally {
    await done();
  }
}
