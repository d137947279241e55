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
   * The source's raw state now, for `watchTokenSource` (which words it as a `TokenSourceState`): the held
   * token's expiry, the load in flight, the back-off's end and the last load's error (see
   * {@link TokenSourcePeek}). The caching sources have it (`createCachedTokenSource`, and so
   * `createOAuth2TokenSource`); it never holds the token.
   */
  peek?(): TokenSourcePeek;
}

/**
 * What a caching source's `peek()` gives, positionally so that the source stays small: the held token's
 * expiry in ms since the epoch (`Infinity` for one without; `undefined`: no token held), the load in flight
 * (`undefined`: none), when the next load may start after a failure (`-Infinity` when the last load did
 * not fail) and the last load's error (kept after a success: read it only when the back-off is finite).
 *
 * ```ts
 * const [expiresAt, loading, retryAt] = source.peek?.() ?? [];
 * ```
 *
 * Not checked: anything about the error, which may quote a response: never show it, name it with a
 * stable code.
 */
export type TokenSourcePeek = readonly [
  expiresAt: number | undefined,
  loading: Promise<string> | undefined,
  retryAt: number,
  error: unknown,
];

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
  if (typeof input?.getToken === "function") {
    return input;
  }
  throw new TypeError("connectauth: token must be a string, a function or a TokenSource");
}
