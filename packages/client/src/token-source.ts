import { isToken68 } from "@connectauth/core/protocol";
import type { ClientAuthEventHandler } from "./client-auth-event.js";
import type { DpopProver } from "./dpop-prover.js";
import { notToken68 } from "./token-unavailable.js";

/**
 * Where the client interceptor gets the token of each call.
 */
export interface TokenSource {
  /** The token to send now. May fetch or refresh one. The token is secret: never log it. */
  getToken(): Promise<string>;
  /**
   * Forgets the current token (e.g. after the server rejected it), so the next `getToken` gets a new one.
   * Given the rejected token, forgets only that one: of many calls rejected with the same token, the
   * first one's invalidation counts and the others join the refresh it started.
   */
  invalidate?(rejected?: string): void;
  /**
   * Adds a receiver of this source's `refresh` events. The interceptor calls it with its `onEvent`, so
   * that one handler sees refreshes, retries and refusals.
   */
  observe?(handler: ClientAuthEventHandler): void;
  /**
   * The DPoP prover its tokens are bound to (RFC 9449), as `createOAuth2TokenSource({ dpop })` sets it:
   * the interceptor then sends them as `DPoP` with a proof, unless its own `dpop` option says otherwise.
   */
  readonly dpop?: DpopProver;
  /**
   * How this source is doing, now (see {@link TokenSourceState}). The caching and OAuth2 sources have it;
   * a fixed string or a function given as the token has none.
   */
  state?(): TokenSourceState;
  /**
   * Adds a listener of this source's state, called with the new state each time it changes; returns the
   * function that removes it. A listener that throws is ignored.
   */
  onStateChange?(listener: (state: TokenSourceState) => void): () => void;
}

/**
 * The state of a token source, as `state()` of `createCachedTokenSource` (and so `createOAuth2TokenSource`)
 * reports it. It never holds a token, nor an error's message.
 *
 * - `empty`: no token held and none being fetched: before the first call, or after an invalidation (a
 *   token past its expiry is `expiring` until the next call fetches).
 * - `fresh`: a token held, not yet due for refresh.
 * - `expiring`: a token held, due for refresh (or expired); the next call fetches a new one.
 * - `refreshing`: a fetch in flight.
 * - `failing`: the last fetch failed; `reason` says why as a stable code (the failure's `code` or name,
 *   as `metadata.cause` of `TOKEN_UNAVAILABLE` has it, e.g. `OAUTH_RESPONSE_BODY_ERROR invalid_client`),
 *   and `retryAt` when the next fetch may start (the back-off; it starts with the first call after).
 *
 * ```ts
 * const { status, retryAt } = source.state();
 * if (status === "failing") banner(`sign-in service unreachable, retry at ${new Date(retryAt)}`);
 * ```
 */
export interface TokenSourceState {
  readonly status: "empty" | "fresh" | "expiring" | "refreshing" | "failing";
  /** The expiry of the held token in ms since the epoch (`Infinity` for one without); none: no token. */
  readonly expiresAt?: number;
  /** `failing`: the failure's stable code, never its message. */
  readonly reason?: string;
  /** `failing`: the earliest time of the next fetch, in ms since the epoch. */
  readonly retryAt?: number;
}

/**
 * What the client interceptor accepts as its token: a fixed string, a function returning the token
 * (sync or async, called for every call: cache in it, or use a caching source), or a {@link TokenSource}.
 */
export type TokenInput = string | (() => string | Promise<string>) | TokenSource;

/**
 * Turns any {@link TokenInput} into a {@link TokenSource}. A fixed string is checked here, once, for
 * every way one is given (the interceptor's `token`, `withCallToken`): it must be a token68 (RFC 6750
 * §2.1). What a function or a source returns is checked on each call, before it reaches a header.
 *
 * ```ts
 * const source = toTokenSource(() => sessionStorage.getItem("token") ?? "");
 * ```
 *
 * @throws TypeError for a string that is not a token68 (empty, or with a space, CR, LF, other punctuation
 *   or a non-ASCII character; never quoted), or anything that is not a token input.
 */
export function toTokenSource(input: TokenInput): TokenSource {
  if (typeof input === "string") {
    if (!isToken68(input)) {
      throw new TypeError(`connectauth: ${notToken68}`);
    }
    return { getToken: async () => input };
  }
  if (typeof input === "function") {
    return { getToken: async () => input() };
  }
  if (typeof input === "object" && input !== null && typeof input.getToken === "function") {
    return input;
  }
  throw new TypeError("connectauth: token must be a string, a function or a TokenSource");
}
