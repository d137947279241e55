import type { Interceptor } from "@connectrpc/connect";
import { errorCode } from "./cached-token-source.js";
import { sourceOf } from "./interceptor-source.js";
import type { TokenSource, TokenSourcePeek } from "./token-source.js";

/**
 * The state of a caching token source, as {@link watchTokenSource} reports it. It never holds a token,
 * nor an error's message.
 *
 * - `empty`: no token held and none being loaded: before the first call, or after an invalidation.
 * - `refreshing`: a load in flight (`expiresAt`: the token still held, if any).
 * - `fresh`: a token held, from the last load, which succeeded.
 * - `failing`: the last load failed; `reason` is `TOKEN_UNAVAILABLE` (what the interceptor's calls fail
 *   with meanwhile), `cause` the failure's stable code (as `metadata.cause` of that error has it, e.g.
 *   `ECONNREFUSED`, `OAUTH_RESPONSE_BODY_ERROR invalid_client`), `retryAt` the end of the back-off (the
 *   next load starts with the first call after it); `expiresAt` if a token is still held.
 *
 * ```ts
 * const s = watchTokenSource(source)?.state();
 * if (s?.status === "failing") banner(`sign-in unavailable (${s.cause}), next try ${new Date(s.retryAt)}`);
 * ```
 *
 * Not checked: time. A state changes when a load starts or ends, or an invalidation drops the token; a
 * `fresh` token past its `expiresAt` stays `fresh` until the next call loads another (the source has no
 * timers): compare `expiresAt` with the time to know.
 */
export type TokenSourceState =
  | { readonly status: "empty" }
  | { readonly status: "fresh"; readonly expiresAt: number }
  | { readonly status: "refreshing"; readonly expiresAt?: number }
  | {
      readonly status: "failing";
      readonly reason: "TOKEN_UNAVAILABLE";
      readonly cause: string;
      readonly retryAt: number;
      readonly expiresAt?: number;
    };

/** A listener of {@link TokenSourceState} changes. What it throws is ignored. */
export type TokenSourceStateListener = (state: TokenSourceState) => void;

/** The read-only state of a token source, from {@link watchTokenSource} or {@link tokenSourceStateOf}. */
export interface TokenSourceStateView {
  /** The state now. */
  state(): TokenSourceState;
  /** Calls `listener` with the new state once per change; returns the function that removes it. */
  onStateChange(listener: TokenSourceStateListener): () => void;
}

// One view per source, so that a source's methods are wrapped once however many watch it.
const views = new WeakMap<TokenSource, TokenSourceStateView>();

/**
 * The state of a caching token source (`createCachedTokenSource`, `createOAuth2TokenSource` and its
 * `forAudience` sources), read only: `state()` now, and `onStateChange(listener)`, called once per change
 * (a load starts, a load ends `fresh` or `failing`, an invalidation drops the token). `undefined` for a
 * source that reports no state (one without `peek`).
 *
 * The first watch wraps the source's `getToken` and `invalidate`, where its state changes, so that each
 * change is told before the calls waiting on it go on; a source nobody watches is untouched.
 *
 * ```ts
 * const source = createCachedTokenSource({ load });
 * watchTokenSource(source)?.onStateChange((s) => (el.textContent = s.status));
 * ```
 *
 * Not covered: changes made through methods taken from the source before the first watch (the source's
 * own calls are seen again at the next call made through it), and time (see {@link TokenSourceState}).
 *
 * @throws TypeError when `source` has `peek` but its methods cannot be wrapped (a frozen object).
 */
export function watchTokenSource(source: TokenSource): TokenSourceStateView | undefined {
  if (typeof source.peek !== "function") return undefined;
  let view = views.get(source);
  if (view === undefined) {
    view = createView(source, source.peek);
    views.set(source, view);
  }
  return view;
}

/**
 * The state of the token source an interceptor of `createAuthInterceptor` uses (its `token` option), as
 * {@link watchTokenSource} reports it. `undefined` for any other interceptor, and for a token that reports
 * no state (a fixed string, a function). The interceptor was recorded when it was made: nothing is added to
 * its calls until the state is watched.
 *
 * ```ts
 * const auth = createAuthInterceptor({ token: createOAuth2TokenSource({ ... }) });
 * tokenSourceStateOf(auth)?.onStateChange((s) => metrics.gauge("token_source_failing", s.status === "failing" ? 1 : 0));
 * ```
 *
 * Not covered: per-call sources (`withCallToken`), which the interceptor uses for one call only.
 */
export function tokenSourceStateOf(interceptor: Interceptor): TokenSourceStateView | undefined {
  const source = sourceOf(interceptor);
  return source === undefined ? undefined : watchTokenSource(source);
}

/** The state of a source's raw state (its `peek()`): the four statuses, never the token nor a message. */
function stateOf([expiresAt, loading, retryAt, error]: TokenSourcePeek): TokenSourceState {
  const held = expiresAt === undefined ? {} : { expiresAt };
  if (loading !== undefined) return { status: "refreshing", ...held };
  if (retryAt > -Infinity) return { status: "failing", reason: "TOKEN_UNAVAILABLE", cause: errorCode(error), retryAt, ...held };
  return expiresAt === undefined ? { status: "empty" } : { status: "fresh", expiresAt };
}

function createView(source: TokenSource, peek: () => TokenSourcePeek): TokenSourceStateView {
  const listeners = new Set<TokenSourceStateListener>();
  let last = stateOf(peek.call(source));
  let awaited: Promise<string> | undefined;
  // Called after each method that may change the state: tells a change once, and follows a load to its end.
  const check = (): void => {
    const raw = peek.call(source);
    const state = stateOf(raw);
    if (!sameState(state, last)) {
      last = state;
      for (const listener of listeners) {
        try {
          listener(state);
        } catch {
          // a listener's failure is not the source's
        }
      }
    }
    const loading = raw[1];
    if (loading !== undefined && loading !== awaited) {
      awaited = loading;
      loading.then(check, check);
    }
  };
  const { getToken, invalidate } = source;
  Object.assign(source, {
    getToken() {
      const token = getToken.call(source);
      check();
      return token;
    },
    ...(invalidate === undefined
      ? {}
      : {
          invalidate(rejected?: string) {
            invalidate.call(source, rejected);
            check();
          },
        }),
  });
  return {
    state: () => {
      // Up to date even when a change came through a method taken before the watch.
      check();
      return last;
    },
    onStateChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}

const compared = ["status", "expiresAt", "retryAt", "cause"] as const;

function sameState(a: TokenSourceState, b: TokenSourceState): boolean {
  return compared.every((k) => (a as Partial<Record<string, unknown>>)[k] === (b as Partial<Record<string, unknown>>)[k]);
}
