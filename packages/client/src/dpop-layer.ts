// What a DPoP prover adds to the client interceptor, as a layer between it and the transport: here, in
// the dpop entry, so that an app that sends bearer tokens does not bundle any of it.
import type { Message } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { ConnectError, type StreamRequest, type StreamResponse, type UnaryRequest } from "@connectrpc/connect";
import { authorizationHeader, dpopHeader, dpopNonceHeader, isPublicMethod, readAuthFailure, tokenHash } from "@connectauth/core";
import type { DpopNext, DpopProver } from "./dpop-prover.js";
import { type DpopNonces, isDpopNonce } from "./dpop-nonce.js";
import { dpopProofError } from "./token-unavailable.js";
import { errorCode } from "./cached-token-source.js";
import { type ClientAuthEventHandler, emit, procedureOf } from "./client-auth-event.js";
import { untilFirstMessage } from "./first-message.js";

/** What {@link dpopLayer} needs of its prover. */
export interface DpopLayerOptions {
  readonly prover: Pick<DpopProver, "proof">;
  readonly nonces: DpopNonces;
  /** As the prover's option: unary calls without side effects go as GET. */
  readonly useHttpGet: boolean;
  /** The interceptor's `onEvent`: `retry` (`USE_DPOP_NONCE`) and `refusal` (`TOKEN_UNAVAILABLE`). */
  readonly onEvent: ClientAuthEventHandler | undefined;
}

/**
 * The `next` of the client interceptor when it has a DPoP prover. For a call that the interceptor gave a
 * token (`Authorization: Bearer <token>`; not a public method), it:
 *
 * - sends it as `Authorization: DPoP <token>` with a new proof of the call in the `DPoP` header;
 * - keeps the `DPoP-Nonce` of every response (headers, trailers, errors), for the next proofs;
 * - when the server asks for a nonce it sends (`USE_DPOP_NONCE` with `DPoP-Nonce`), makes the call once
 *   more with a new proof: unary calls, and server-streaming calls before their first response message;
 *   once per call, even when the interceptor retries it with a new token.
 *
 * ```ts
 * return (next) => { next = dpopLayer(next, { prover, nonces, useHttpGet: false, onEvent }); … };
 * ```
 *
 * Not checked: that the token is bound to this key (the server checks `cnf.jkt`).
 */
export function dpopLayer(next: DpopNext, options: DpopLayerOptions): DpopNext {
  const send = withNonces(options.nonces, next);
  const retried = new WeakSet<Headers>(); // a call's header: the same object through every attempt
  return async (req) => {
    const credential = req.header.get(authorizationHeader);
    if (isPublicMethod(req.method) || !credential?.startsWith("Bearer ")) {
      return send(req);
    }
    const token = credential.slice("Bearer ".length);
    await authorizeCall(options, req, token);
    const kind = req.method.methodKind;
    if (kind === "client_streaming" || kind === "bidi_streaming") {
      return send(req);
    }
    const again = async <R>(error: unknown, attempt: () => Promise<R>): Promise<R> => {
      if (req.signal.aborted || retried.has(req.header) || !isNonceChallenge(error)) throw error;
      retried.add(req.header);
      await authorizeCall(options, req, token);
      if (options.onEvent !== undefined) {
        const event = { type: "retry", procedure: procedureOf(req), reason: "USE_DPOP_NONCE" } as const;
        emit(options.onEvent, { ...event, tokenHash: await tokenHash(token) });
      }
      return attempt();
    };
    if (!req.stream) {
      try {
        return await send(req);
      } catch (error) {
        return again(error, () => send(req));
      }
    }
    const input: unknown[] = [];
    for await (const m of req.message) input.push(m);
    const attempt = () => untilFirstMessage(send, req, input);
    try {
      return await attempt();
    } catch (error) {
      return again(error, attempt);
    }
  };
}

/**
 * Sets `Authorization: DPoP <token>` and a new proof of the call in its `DPoP` header, for the first
 * attempt and a retry alike (each its own `jti`). `htm` is the call's HTTP method: `POST`, or `GET` for a
 * unary call without side effects (`idempotency_level = NO_SIDE_EFFECTS`) when the transport uses GET.
 *
 * ```ts
 * await authorizeCall({ prover, useHttpGet: false, onEvent }, req, token);
 * ```
 *
 * @throws ConnectError `Unavailable` `TOKEN_UNAVAILABLE`, `metadata.detail` `dpop_proof`, with the
 *   failure's stable code (never its message) in `metadata.cause`, when no proof could be made (and a
 *   `refusal` event).
 */
export async function authorizeCall(
  options: Pick<DpopLayerOptions, "prover" | "useHttpGet" | "onEvent">,
  req: UnaryRequest | StreamRequest,
  token: string,
): Promise<void> {
  const get = options.useHttpGet && !req.stream && req.method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS;
  let proof: string;
  try {
    proof = await options.prover.proof({ method: get ? "GET" : req.requestMethod, url: req.url, accessToken: token });
  } catch (error) {
    emit(options.onEvent, { type: "refusal", procedure: procedureOf(req), reason: "TOKEN_UNAVAILABLE" });
    throw dpopProofError(errorCode(error));
  }
  req.header.set(authorizationHeader, `DPoP ${token}`);
  req.header.set(dpopHeader, proof);
}

/**
 * `next`, keeping the `DPoP-Nonce` of every response to the call's origin: from the response headers, the
 * trailers (of a stream, once it ended), and the metadata of an error (where Connect puts the headers of a
 * failed unary call, and gRPC the trailers). Successes and failures alike: a server may send a new nonce
 * with any answer.
 *
 * ```ts
 * const send = withNonces(nonces, next);
 * ```
 */
export function withNonces(nonces: DpopNonces, next: DpopNext): DpopNext {
  return async (req) => {
    const url = new URL(req.url);
    const remember = (header: Headers) => nonces.remember(url, header);
    try {
      const res = await next(req);
      remember(res.header);
      if (!res.stream) {
        remember(res.trailer);
        return res;
      }
      return { ...res, message: rememberAtEnd(res, remember) };
    } catch (error) {
      if (error instanceof ConnectError) remember(error.metadata);
      throw error;
    }
  };
}

/** The messages of a stream response; at its end its trailers, or the metadata of the error it ends with. */
async function* rememberAtEnd(res: StreamResponse, remember: (header: Headers) => void): AsyncGenerator<Message> {
  try {
    yield* res.message;
  } catch (error) {
    if (error instanceof ConnectError) remember(error.metadata);
    throw error;
  }
  remember(res.trailer);
}

/**
 * Whether a failure is the server's request for a nonce (`USE_DPOP_NONCE`, RFC 9449 §8) that comes with
 * one (`DPoP-Nonce`): then a new proof with it may pass. A request for a nonce without a valid one is
 * not: a new proof would be refused the same way.
 *
 * ```ts
 * if (isNonceChallenge(error)) return retry();
 * ```
 */
export function isNonceChallenge(error: unknown): boolean {
  return (
    readAuthFailure(error)?.reason === "USE_DPOP_NONCE" && isDpopNonce((error as ConnectError).metadata.get(dpopNonceHeader))
  );
}
