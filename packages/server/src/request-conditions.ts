import type { Message } from "@bufbuild/protobuf";
import type { Interceptor, StreamRequest, UnaryRequest } from "@connectrpc/connect";
import type { Authorization } from "./authorization.js";
import type { Verdict } from "./decision.js";
import { type Denial, toConnectError } from "./denial.js";
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
 * (failing that, the response) is done.
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
    const decide = async (denial: Denial | undefined) => {
      if (!emitted) {
        emitted = true;
        await emit?.({ ...pending.verdict, denial }, pending.durationMs);
      }
      if (denial !== undefined) throw toConnectError({ challenge: pending.verdict.challenge, ...denial }, realm);
    };
    const judge = (message: Message) => authorization.authorizeRequest(req.method, pending.identity, message);
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

/** The messages of `iterable`, then `done()` once they end or fail. */
async function* afterAll<T>(iterable: AsyncIterable<T>, done: () => Promise<void>): AsyncIterable<T> {
  try {
    yield* iterable;
  } finally {
    await done();
  }
}
