import type { ClientReason } from "@connectauth/core";

/**
 * What the client side of connectauth did, for logs, metrics and traces: the counterpart of the server's
 * decision events. An event never holds a token; `tokenHash` (first 8 hex of its SHA-256) names one.
 *
 * - `refresh`: a caching token source fetched a token (`ok`), or failed to (`error` holds the error's
 *   stable code or name, never its message). `trigger` says why: the first call, ahead of expiry
 *   (`proactive`), after expiry, or after the server rejected the token (`invalidated`).
 * - `retry`: the server rejected the token of a call for a token reason; the call is made once more with
 *   a new token. Or, with DPoP, the server asked for a nonce (`USE_DPOP_NONCE`): the call is made once
 *   more with the same token and a proof that carries the nonce.
 * - `refusal`: the client refused to make a call, before any request, for a {@link ClientReason}:
 *   `INSECURE_TRANSPORT` (plaintext to a remote host) or `TOKEN_UNAVAILABLE` (the token source failed,
 *   gave a value that is not a token68, or no DPoP proof could be made).
 *
 * ```ts
 * createAuthInterceptor({ token, onEvent: (e) => logger.info(e, `connectauth client ${e.type}`) });
 * ```
 */
export type ClientAuthEvent =
  | {
      readonly type: "refresh";
      readonly ok: boolean;
      readonly trigger: "initial" | "proactive" | "expired" | "invalidated";
      readonly durationMs: number;
      readonly tokenHash?: string;
      readonly error?: string;
    }
  | {
      readonly type: "retry";
      /** e.g. `/example.v1.GreeterService/Greet` */
      readonly procedure: string;
      /** The `ErrorInfo.reason` of the rejection, e.g. `TOKEN_EXPIRED`, or `USE_DPOP_NONCE`. */
      readonly reason: string;
      /** The hash of the rejected token (of the call's token, for a nonce). */
      readonly tokenHash: string;
    }
  | {
      readonly type: "refusal";
      readonly procedure: string;
      /** `INSECURE_TRANSPORT` (plaintext to a remote host) or `TOKEN_UNAVAILABLE` (no usable token). */
      readonly reason: ClientReason;
    };

/** A receiver of {@link ClientAuthEvent}s. It must not throw; an exception it throws is ignored. */
export type ClientAuthEventHandler = (event: ClientAuthEvent) => void;

/** Calls the handler, ignoring what it throws: events must never break a call. */
export function emit(handler: ClientAuthEventHandler | undefined, event: ClientAuthEvent): void {
  try {
    handler?.(event);
  } catch {
    // an event handler's failure is not the call's
  }
}

/**
 * The procedure of a call as events name it, `/package.Service/Method`: built only when an event is
 * emitted (not on every call).
 *
 * ```ts
 * emit(onEvent, { type: "refusal", procedure: procedureOf(req), reason: "TOKEN_UNAVAILABLE" });
 * ```
 */
export function procedureOf(req: {
  readonly service: { readonly typeName: string };
  readonly method: { readonly name: string };
}): string {
  return `/${req.service.typeName}/${req.method.name}`;
}
