import type { Interceptor } from "@connectrpc/connect";
import type { TokenSource } from "./token-source.js";

// The token source of each interceptor of createAuthInterceptor: set once there, read only by
// tokenSourceStateOf (so that the interceptor's calls never touch it).
const sources = new WeakMap<Interceptor, TokenSource>();

/**
 * Records the token source of an interceptor of `createAuthInterceptor`; returns the interceptor.
 *
 * ```ts
 * return withSource(intercept, source);
 * ```
 */
export function withSource(interceptor: Interceptor, source: TokenSource): Interceptor {
  sources.set(interceptor, source);
  return interceptor;
}

/**
 * The token source that `createAuthInterceptor` made `interceptor` with, or `undefined` for any other
 * interceptor.
 *
 * ```ts
 * const source = sourceOf(interceptor);
 * ```
 */
export function sourceOf(interceptor: Interceptor): TokenSource | undefined {
  return sources.get(interceptor);
}
