import { Code, type ContextValues, createContextValues } from "@connectrpc/connect";
import { isTokenReason, readAuthFailure } from "@connectauth/core";
import { callTokenKey } from "./call-token.js";
import { type TokenInput, type TokenSource, toTokenSource } from "./token-source.js";

/**
 * Opens one attempt of a server stream: call the client's method with the request and these call
 * options, as they are (`(request, options) => client.watch(request, options)`). The `contextValues`
 * carry the attempt's token for `createAuthInterceptor`.
 */
export type StreamOpener<I, O> = (
  request: I,
  options: { readonly signal?: AbortSignal; readonly contextValues: ContextValues },
) => AsyncIterable<O>;

/** Options of {@link resumableStream}. */
export interface ResumableStreamOptions<I, O> {
  /**
   * The token source of the client's `createAuthInterceptor`: the same object, so that a stream's
   * refresh is the one every call shares (`createCachedTokenSource`, `createOAuth2TokenSource`).
   */
  readonly token: TokenInput;
  /**
   * The request that carries on after `last`, the last message received (across attempts), e.g.
   * `(last, first) => ({ ...first, after: last.sequence })`. Not called when none was received: the
   * stream is opened again with the first request.
   */
  readonly resume: (last: O, first: I) => I;
  /** Ends the stream; no attempt is made after it aborts. */
  readonly signal?: AbortSignal;
  /** Told of each re-open, with the reason of the rejection and the messages received until then. Never a token. */
  readonly onResume?: (event: ResumeEvent) => void;
}

/** What {@link ResumableStreamOptions.onResume} is told. */
export interface ResumeEvent {
  /** The `ErrorInfo.reason` that ended the attempt, e.g. `TOKEN_EXPIRED` or `INVALID_TOKEN`. */
  readonly reason: string;
  /** Messages received by the attempt that ended. */
  readonly received: number;
}

/**
 * A long-lived server stream that outlives its tokens: when the server ends it with `Unauthenticated`
 * and a token reason (`TOKEN_EXPIRED` once the token it was opened with expires, `INVALID_TOKEN` once it
 * is revoked), the token is invalidated, a fresh one fetched, and the stream opened again with
 * `resume(lastMessage, firstRequest)`; the messages go on as one iterable.
 *
 * One retry per rejection: a rejection of a re-opened stream before any message ends it (with that
 * error), as does one when the source gives the same token again. Other errors (`PermissionDenied`,
 * `Unavailable`, the application's own) end it at once, as they are. Each attempt's token goes in the
 * call's context values (`withCallToken`), so the interceptor's own checks (the transport guard,
 * DPoP) apply as usual.
 *
 * ```ts
 * const token = createCachedTokenSource({ load });
 * const client = createClient(FeedService, createConnectTransport({ baseUrl, interceptors: [createAuthInterceptor({ token })] }));
 * for await (const event of resumableStream((req, o) => client.tail(req, o), { topic: "x" }, {
 *   token,
 *   resume: (last, first) => ({ ...first, afterSequence: last.sequence }),
 * })) handle(event);
 * ```
 *
 * Not checked: that `resume` gives a request the server understands, nor that no message is received
 * twice or lost across a re-open (that is the application's resume input); client and bidi streams
 * (their input cannot be replayed).
 *
 * @throws TypeError when `open` or `resume` is not a function, `token` is not a token input, or
 * `onResume` is given and not a function.
 */
export function resumableStream<I, O>(
  open: StreamOpener<I, O>,
  request: I,
  options: ResumableStreamOptions<I, O>,
): AsyncIterable<O> {
  if (typeof open !== "function") throw new TypeError("resumableStream: open must be a function");
  const { resume, signal, onResume } = options ?? ({} as ResumableStreamOptions<I, O>);
  if (typeof resume !== "function") throw new TypeError("resumableStream: resume must be a function");
  if (onResume !== undefined && typeof onResume !== "function") {
    throw new TypeError("resumableStream: onResume must be a function");
  }
  const source = toTokenSource(options.token);
  return attempts(open, request, source, resume, signal, onResume);
}

async function* attempts<I, O>(
  open: StreamOpener<I, O>,
  first: I,
  source: TokenSource,
  resume: (last: O, first: I) => I,
  signal: AbortSignal | undefined,
  onResume: ((event: ResumeEvent) => void) | undefined,
): AsyncGenerator<O, void, undefined> {
  let request = first;
  let last: { readonly value: O } | undefined;
  // Whether this attempt re-opens after a rejection: rejected again before a message, it ends.
  let reopened = false;
  for (;;) {
    signal?.throwIfAborted();
    let used: string | undefined;
    // Asked by the interceptor (a failure is its TOKEN_UNAVAILABLE); remembers which token went out.
    const callToken: TokenSource = {
      getToken: async () => {
        used = await source.getToken();
        return used;
      },
    };
    const contextValues = createContextValues().set(callTokenKey, callToken);
    let received = 0;
    try {
      for await (const message of open(request, signal === undefined ? { contextValues } : { signal, contextValues })) {
        received++;
        reopened = false;
        last = { value: message };
        yield message;
      }
      return;
    } catch (error) {
      const reason = tokenRejection(error);
      if (reason === undefined || signal?.aborted || (reopened && received === 0) || used === undefined) throw error;
      source.invalidate?.(used);
      let fresh: string;
      try {
        fresh = await source.getToken();
      } catch {
        throw error; // the rejection says more than the failed refresh
      }
      if (fresh === used) throw error;
      reopened = true;
      try {
        onResume?.({ reason, received });
      } catch {
        // A listener cannot end the stream.
      }
      request = last === undefined ? first : resume(last.value, first);
    }
  }
}

/** The token reason of an `Unauthenticated` failure, or `undefined` if a new token would not help. */
function tokenRejection(error: unknown): string | undefined {
  const failure = readAuthFailure(error);
  return failure?.code === Code.Unauthenticated && isTokenReason(failure.reason) ? failure.reason : undefined;
}
