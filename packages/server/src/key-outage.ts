import { type ExportedJWKSCache, type JWTVerifyGetKey, createLocalJWKSet, type createRemoteJWKSet } from "jose";
import { isTokenFault, joseCodeOf } from "./jose-errors.js";
import { KeySourceUnavailableError } from "./key-lookup-errors.js";
import { createKeySetObserver } from "./key-set-watch.js";

/** @internal A remote key set of jose (`createRemoteJWKSet`). */
export type RemoteSet = ReturnType<typeof createRemoteJWKSet>;

/** @internal Where jose writes each key set it fetched successfully (its `jwksCache` option), and only those. */
export type FetchedKeySet = Partial<ExportedJWKSCache>;

/** @internal Options of {@link withOutageFallback}. */
export interface OutageFallbackOptions {
  /** The remote key set (a promise: discovery finds it first). A rejection counts as an outage. */
  readonly getSet: () => Promise<RemoteSet>;
  /** What jose's `jwksCache` of that set holds: the set fetched last, for the key-set watch. */
  readonly fetched: FetchedKeySet;
  /** Milliseconds after a failed fetch during which no new fetch is tried. */
  readonly failureBackoff: number;
  /** The clock of the backoff, in milliseconds. jose's cooldown and cache age keep their own clock. */
  readonly now: () => number;
}

/**
 * @internal The outage state machine of a remote key set. Up: each lookup goes to the set (which may
 * fetch). When a lookup fails for the source (not for the token), the keys fetched before are copied
 * out and keep verifying; for `failureBackoff` ms (by `now`) every lookup is answered from them
 * without a fetch, then the set is tried again. With nothing fetched before, and for a `kid` the keys
 * fetched before do not hold (it may be a rotated key that cannot be fetched now), an outage throws
 * {@link KeySourceUnavailableError}. After each lookup the key-set watch follows the set fetched last
 * (a failed fetch leaves it as it was), before the lookup answers.
 *
 * ```ts
 * const fetched: FetchedKeySet = {};
 * const set = createRemoteJWKSet(url, { [jwksCache]: fetched });
 * const getKey = withOutageFallback({ getSet: async () => set, fetched, failureBackoff: 1000, now: Date.now });
 * ```
 *
 * Not checked: how fresh the keys fetched before are (they serve for as long as the outage lasts).
 */
export function withOutageFallback(options: OutageFallbackOptions): JWTVerifyGetKey {
  const { getSet, fetched, failureBackoff, now } = options;
  let failedAt = -Infinity;
  let current: RemoteSet | undefined;
  // The keys fetched before the last failure: jose keeps them in the remote set, but refetches (and
  // fails) once they are older than cacheMaxAge, so they are copied out when a fetch fails.
  let fallback: JWTVerifyGetKey | undefined;
  const fromFallback: JWTVerifyGetKey = async (header, token) => {
    if (fallback === undefined) throw new KeySourceUnavailableError("the key source cannot be reached");
    try {
      return await fallback(header, token);
    } catch (error) {
      // An unknown kid during an outage may be a rotated key we cannot fetch: not the token's fault.
      if (joseCodeOf(error) === "ERR_JWKS_NO_MATCHING_KEY") {
        throw new KeySourceUnavailableError("the key source cannot be reached");
      }
      throw error;
    }
  };
  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (now() - failedAt < failureBackoff) {
      return fromFallback(header, token);
    }
    try {
      current = await getSet();
      return await current(header, token);
    } catch (error) {
      if (isTokenFault(error)) throw error;
      failedAt = now();
      const jwks = current?.jwks();
      if (jwks !== undefined) fallback = createLocalJWKSet(jwks);
      return await fromFallback(header, token);
    } finally {
      // A lookup may have fetched a new set (stale, or an unknown kid): the cache follows it before
      // this lookup answers. A failed fetch leaves `fetched` as it was.
      await observer.observe(fetched.jwks);
    }
  };
  const observer = createKeySetObserver(getKey);
  return getKey;
}
