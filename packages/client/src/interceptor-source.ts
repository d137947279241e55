import type { Interceptor } from "@connectrpc/connect";
import type { TokenSource, TokenSourceState } from "./token-source.js";

// The token source of each interceptor made by createAuthInterceptor: set once there, read only by
// tokenSourceStateOf (so the interceptor's calls never touch it).
const sources = new WeakMap<Interceptor, TokenSource>();

/** Records the source of an interceptor of `createAuthInterceptor`; returns the interceptor. */
export function withSource(interceptor: Interceptor, source: TokenSource): Interceptor {
  sources.set(interceptor, source);
  return interceptor;
}

/** The read-only state of a token source: see {@link tokenSourceStateOf}. */
export interface TokenSourceStateView {
  /** The source's state now. */
  state(): TokenSourceState;
  /** Calls `listener` once per change of the source's state; returns the function that removes it. */
  onStateChange(listener: (state: TokenSourceState) => void): () => void;
}

/**
 * The state of the token source an interceptor of `createAuthInterceptor` uses (its `token` option), read
 * only: what the source's `state()` and `onStateChange` say, without its `getToken`. `undefined` for any
 * other interceptor, and for a source that reports no state (a fixed string, a function: only caching
 * sources, `createCachedTokenSource` and `createOAuth2TokenSource`, have one).
 *
 * ```ts
 * const auth = createAuthInterceptor({ token: createOAuth2TokenSource({ ... }) });
 * tokenSourceStateOf(auth)?.onStateChange((s) => metrics.gauge("token_source_failing", s.status === "failing" ? 1 : 0));
 * ```
 *
 * Not covered: per-call sources (`withCallToken`), which the interceptor uses for one call only.
 */
export function tokenSourceStateOf(interceptor: Interceptor): TokenSourceStateView | undefined {
  const source = sources.get(interceptor);
  const { state, onStateChange } = source ?? {};
  if (source === undefined || state === undefined || onStateChange === undefined) return undefined;
  return { state: () => state.call(source), onStateChange: (listener) => onStateChange.call(source, listener) };
}
