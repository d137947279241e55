import {
  Code,
  ConnectError,
  type Interceptor,
  type StreamRequest,
  type StreamResponse,
  type UnaryRequest,
} from "@connectrpc/connect";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import {
  type SecureTransportOptions,
  assertSecureTransport,
  authorizationHeader,
  isPublicMethod,
  isTokenReason,
  readAuthFailure,
  tokenHash,
} from "@connectauth/core";
import { isToken68 } from "@connectauth/core/protocol";
import { type TokenInput, type TokenSource, toTokenSource } from "./token-source.js";
import { malformedTokenError, tokenUnavailableError } from "./token-unavailable.js";
import { type ClientAuthEventHandler, emit, procedureOf } from "./client-auth-event.js";
import { errorCode } from "./cached-token-source.js";
import { callTokenKey } from "./call-token.js";
import { resume } from "./first-message.js";
import type { DpopProver } from "./dpop-prover.js";
import { withSource } from "./interceptor-source.js";

/** Options of {@link createAuthInterceptor}. */
export interface AuthInterceptorOptions {
  /**
   * The bearer token of each call: a string, a function, or a {@link TokenSource} (e.g.
   * `createCachedTokenSource`, `createOAuth2TokenSource`). A call may override it with `withCallToken`.
   */
  readonly token: TokenInput;
  /**
   * Send credentials over plaintext `http://` to hosts that are not loopback. Default `false`: such
   * calls fail before a request is made. Loopback hosts (exactly `localhost`, `127.0.0.0/8`, `[::1]`)
   * are always allowed. Schemes other than `https:` and `http:`, and unparsable URLs, are refused even
   * with `true`.
   */
  readonly allowInsecureTransport?: boolean;
  /**
   * After `Unauthenticated` with a token reason (`TOKEN_EXPIRED`, `INVALID_TOKEN`, …): invalidate the
   * token, get a new one and make the call once more. Default `true`.
   */
  readonly retryOnTokenRejection?: boolean;
  /**
   * Receives `retry` and `refusal` events, and the `refresh` events of the token source when it has
   * `observe` (as the caching and OAuth2 sources do). Never a token; a short hash at most.
   */
  readonly onEvent?: ClientAuthEventHandler;
  /**
   * Binds the tokens to a key with DPoP (RFC 9449): a prover of `@connectauth/client/dpop`. Every call
   * with a token then sends `Authorization: DPoP <token>` and a new `DPoP` proof, keeps the servers'
   * nonces and is made once more when a server asks for a nonce (`USE_DPOP_NONCE`). Default: the token
   * source's `dpop` (as `createOAuth2TokenSource({ dpop })` sets it), else none: `Bearer`.
   */
  readonly dpop?: DpopProver;
}

/**
 * Creates a client interceptor that sends `authorization: Bearer <token>` on every call whose method
 * is not public by its proto rule (`(connectauth.v1.method_rule) = {public: true}`), and:
 *
 * - refuses to send it in plaintext to a remote host (`FailedPrecondition`, `INSECURE_TRANSPORT`), before
 *   the token is even fetched: the call's URL, as the WHATWG parser reads it (`HTTP://` is `http:`), must
 *   be `https:`, or `http:` to a loopback host (`localhost`, `127.0.0.0/8`, `[::1]`; see
 *   `assertSecureTransport`);
 * - turns a failing token source into `Unavailable` with `TOKEN_UNAVAILABLE`, and so a token that is not
 *   a token68 (empty, or with a CR, LF, space or non-ASCII character: `metadata.detail`
 *   `malformed_token`), which is never put in a header nor quoted;
 * - when the server answers `Unauthenticated` with a token reason, invalidates that token, gets a new one
 *   and retries once: unary calls, and server-streaming calls that failed before their first response
 *   message. Client and bidi streams are never retried (their input cannot be replayed), nor are
 *   `PermissionDenied` or `Unavailable` (a new token would not help), nor a call whose source gives the
 *   same token again. A retry is never retried.
 *
 * For server-streaming calls the interceptor waits for the first response message (or the end of the
 * stream) before handing the response on: that is where a rejection shows in every protocol.
 *
 * With a DPoP prover (`dpop`, or the token source's), the token goes as `Authorization: DPoP <token>`
 * with a new proof per attempt (`DPoP` header), the servers' `DPoP-Nonce`s are kept per origin, and a
 * call that the server answers with `USE_DPOP_NONCE` (and a nonce) is made once more with the same token
 * and a proof that carries the nonce: unary and server-streaming calls as above, once per call (a token
 * rejection may still be retried once). That layer comes with the prover, from `@connectauth/client/dpop`.
 *
 * ```ts
 * const transport = createConnectTransport({
 *   baseUrl: "https://api.example.com",
 *   interceptors: [createAuthInterceptor({ token: createOAuth2TokenSource({ ... }) })],
 * });
 * ```
 *
 * The state of its token source (empty, refreshing, fresh, failing) is read with
 * `tokenSourceStateOf(interceptor)`: the interceptor is recorded when made, nothing is added to its calls.
 *
 * Not checked: what the token says (it is opaque to a client), its length, and the TLS of an `https:` URL
 * (the transport's).
 *
 * @throws TypeError when the token option is missing or of the wrong type (or a string that is not a
 *   token68), `onEvent` is not a function, or `dpop` is not a prover (`createDpopProver`).
 */
export function createAuthInterceptor(options: AuthInterceptorOptions): Interceptor {
  const source = toTokenSource(options.token);
  const guard: SecureTransportOptions = { allowInsecureTransport: options.allowInsecureTransport === true };
  const retry = options.retryOnTokenRejection !== false;
  const onEvent = options.onEvent;
  if (onEvent !== undefined && typeof onEvent !== "function") {
    throw new TypeError("connectauth: onEvent must be a function");
  }
  if (onEvent !== undefined) source.observe?.(onEvent);
  // The DPoP layer, between this interceptor and the transport (a TypeError here when dpop is not a prover).
  const dpop = (options.dpop ?? source.dpop)?.interceptor(onEvent);
  const intercept: Interceptor = (next) => async (req) => {
    if (isPublicMethod(req.method)) {
      return next(req);
    }
    // Reasons as literals (type-checked as ClientReason by the event type): the page bundles no table.
    try {
      assertSecureTransport(req.url, guard);
    } catch (error) {
      emit(onEvent, { type: "refusal", procedure: procedureOf(req), reason: "INSECURE_TRANSPORT" });
      throw error;
    }
    const callSource = req.contextValues.get(callTokenKey) ?? source;
    let token: string;
    try {
      token = await callSource.getToken();
    } catch (error) {
      emit(onEvent, { type: "refusal", procedure: procedureOf(req), reason: "TOKEN_UNAVAILABLE" });
      throw error instanceof ConnectError ? error : tokenUnavailableError(errorCode(error));
    }
    setToken(req, token, onEvent);
    // Client and bidi streams are never retried: their input cannot be replayed.
    if (!retry || (req.stream && req.method.methodKind !== "server_streaming")) {
      return next(req);
    }
    if (!req.stream) {
      try {
        return await next(req);
      } catch (error) {
        return retryOnce(error, req, callSource, token, onEvent, () => next(req));
      }
    }
    // Server streaming: its single input message is kept so that the request can be sent again, and
    // the first response message awaited (where a rejection shows in every protocol). The DPoP layer's
    // untilFirstMessage, inline: it keeps the bearer-only bundle within its budget.
    const input: unknown[] = [];
    for await (const m of req.message) input.push(m);
    const attempt = async () => {
      const res = (await next({ ...req, message: createAsyncIterable(input) } as StreamRequest)) as StreamResponse;
      const it = res.message[Symbol.asyncIterator]();
      const first = await it.next();
      return { ...res, message: resume(first, it) } as StreamResponse;
    };
    try {
      return await attempt();
    } catch (error) {
      return retryOnce(error, req, callSource, token, onEvent, attempt);
    }
  };
  return withSource(dpop ? (next) => intercept(dpop(next)) : intercept, source);
}

/**
 * After a failed attempt with `token`: when the failure is a token rejection (and the call was not
 * aborted), invalidates the token, gets a new one, puts it in the request's header and makes one more
 * attempt; otherwise, or when no different token can be had, throws the failure as it was.
 */
async function retryOnce<R>(
  error: unknown,
  req: UnaryRequest | StreamRequest,
  source: TokenSource,
  token: string,
  onEvent: ClientAuthEventHandler | undefined,
  attempt: () => Promise<R>,
): Promise<R> {
  const reason = tokenRejection(error);
  if (reason === undefined || req.signal.aborted) throw error;
  source.invalidate?.(token);
  let fresh: string;
  try {
    fresh = await source.getToken();
  } catch {
    throw error; // the rejection says more than the failed refresh
  }
  if (fresh === token) throw error;
  setToken(req, fresh, onEvent);
  if (onEvent !== undefined) {
    emit(onEvent, { type: "retry", procedure: procedureOf(req), reason, tokenHash: await tokenHash(token) });
  }
  return attempt();
}

/**
 * Puts `Bearer <token>` in the request's `Authorization` header: the one place the client sets it, for
 * the first attempt and the retry alike. A token that is not a token68 is refused (`TOKEN_UNAVAILABLE`,
 * `malformed_token`, and a `refusal` event) before it reaches the header: `Headers.set` would trim a
 * trailing CR, LF or space and send the rest (`Bearer` alone for an empty token), send an inner space or
 * a Latin-1 letter as it is, and reject an inner CR or LF with a TypeError that quotes the whole value.
 */
function setToken(req: UnaryRequest | StreamRequest, token: string, onEvent: ClientAuthEventHandler | undefined): void {
  if (!isToken68(token)) {
    emit(onEvent, { type: "refusal", procedure: procedureOf(req), reason: "TOKEN_UNAVAILABLE" });
    throw malformedTokenError();
  }
  req.header.set(authorizationHeader, `Bearer ${token}`);
}

/** The token reason of an `Unauthenticated` failure, or `undefined` if a new token would not help. */
function tokenRejection(error: unknown): string | undefined {
  const failure = readAuthFailure(error);
  return failure?.code === Code.Unauthenticated && isTokenReason(failure.reason) ? failure.reason : undefined;
}
