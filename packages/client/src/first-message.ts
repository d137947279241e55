import type { StreamRequest, StreamResponse } from "@connectrpc/connect";
import { createAsyncIterable } from "@connectrpc/connect/protocol";

/**
 * Sends a server-streaming request with `input` (its one message, kept so that it can be sent again) and
 * waits for the first response message, or the end of the stream: that is where a rejection shows in
 * every protocol (Connect sends it in the end-of-stream message, gRPC in trailers that may come alone).
 * The response goes on with the first message, then the rest.
 *
 * ```ts
 * const input: unknown[] = [];
 * for await (const m of req.message) input.push(m);
 * const attempt = () => untilFirstMessage(next, req, input);
 * ```
 */
export async function untilFirstMessage(
  next: (req: StreamRequest) => Promise<unknown>,
  req: StreamRequest,
  input: unknown[],
): Promise<StreamResponse> {
  const res = (await next({ ...req, message: createAsyncIterable(input) } as StreamRequest)) as StreamResponse;
  const it = res.message[Symbol.asyncIterator]();
  const first = await it.next();
  return { ...res, message: resume(first, it) } as StreamResponse;
}

/**
 * The messages of a stream whose first result was already read: that one, then the rest; the stream is
 * closed when its reader stops early.
 *
 * ```ts
 * const it = res.message[Symbol.asyncIterator]();
 * const rest = resume(await it.next(), it);
 * ```
 */
export async function* resume<T>(first: IteratorResult<T>, it: AsyncIterator<T>): AsyncGenerator<T> {
  try {
    for (let r = first; !r.done; r = await it.next()) {
      yield r.value;
    }
  } finally {
    await it.return?.();
  }
}
