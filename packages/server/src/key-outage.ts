import { type ExportedJWKSCache, type JWTVerifyGetKey, createLocalJWKSet, type createRemoteJWKSet } from "jose";
import { isTokenFault, joseCodeOf } from "./jose-errors.js";
import { KeySourceUnavailableError } from "./key-lookup-errors.js";
import { type KeySourceFault, jwksFaultOf } from "./key-source-fault.js";
import { createKeySourceMonitor } from "./key-source-status.js";
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
  /** Milliseconds a fetched set is used before it is fetched again (the status' next fetch). */
  readonly cacheMaxAge: number;
  /** The fault of a rejection of `getSet` (a discovery). Default: as a failed JWKS fetch. */
  readonly setFaultOf?: (error: unknown) => KeySourceFault;
}

/**
 * @internal The outage state machine of a remote key set. Up: each lookup goes to the set (which may
 * fetch). When a lookup fails for the source (not for the token), the keys fetched before are copied
 * out and keep verifying; for `failureBackoff` ms (by `now`) every lookup is answered from them
 * without a fetch, then the set is tried again. With nothing fetched before, and for a `kid` the keys
 * fetched before do not hold (it may be a rotated key that cannot be fetched now), an outage throws
 * {@link KeySourceUnavailableError}. After each lookup the key-set watch follows the set fetched last
 * (a failed fetch leaves it as it was), before the lookup answers, and the status
 * (`keySourceStatusOf`) learns how the lookup's fetch ended; its `prefetch()` fetches the set now,
 * within the same backoff.
 *
 * ```ts
 * const fetched: FetchedKeySet = {};
 * const set = createRemoteJWKSet(url, { [jwksCache]: fetched });
 * const getKey = withOutageFallback({ getSet: async () => set, fetched, failureBackoff: 1000, cacheMaxAge: 600000, now: Date.now });
 * ```
 *
 * Not checked: how fresh the keys fetched before are (they serve for as long as the outage lasts).
 */
export function withOutageFallback(options: OutageFallbackOptions): JWTVerifyGetKey {
  const { getSet, fetched, failureBackoff, now } = options;
  const setFaultOf = options.setFaultOf ?? jwksFaultOf;
  let failedAt = -Infinity;
  let current: RemoteSet | undefined;
  // The keys fetched before the last failure: jose keeps them in the remote set, but refetches (and
  // fails) once they are older than cacheMaxAge, so they are copied out when a fetch fails.
  let fallback: JWTVerifyGetKey | undefined;
  let refreshing: Promise<void> | undefined;
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
  // A failure of the source: the backoff starts, and the keys fetched before are kept.
  const failed = (error: unknown, gotSet: boolean): KeySourceFault => {
    failedAt = now();
    const jwks = current?.jwks();
    if (jwks !== undefined) fallback = createLocalJWKSet(jwks);
    return gotSet ? jwksFaultOf(error) : setFaultOf(error);
  };
  // A lookup or fetch may have fetched a new set (stale, or an unknown kid): the cache and the status
  // follow it before the lookup answers. A failed fetch leaves `fetched` as it was.
  const settle = (fault: KeySourceFault | undefined): Promise<void> | undefined => {
    monitor.settled(fetched.jwks, fault);
    return observer.observe(fetched.jwks);
  };
  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (now() - failedAt < failureBackoff) {
      return fromFallback(header, token);
    }
    let gotSet = false;
    let fault: KeySourceFault | undefined;
    try {
      current = await getSet();
      gotSet = true;
      return await current(header, token);
    } catch (error) {
      if (isTokenFault(error)) throw error;
      fault = failed(error, gotSet);
      return await fromFallback(header, token);
    } finally {
      await settle(fault);
    }
  };
  const refresh = (): Promise<void> => {
    if (refreshing !== undefined) return refreshing;
    if (now() - failedAt < failureBackoff) return Promise.resolve();
    refreshing = (async () => {
      let gotSet = false;
      let fault: KeySourceFault | undefined;
      try {
        current = await getSet();
        gotSet = true;
        await current.reload();
      } catch (error) {
        fault = failed(error, gotSet);
      } finally {
        await settle(fault);
      }
    })()
      .catch(() => undefined)
      .finally(() => {
        refreshing = undefined;
      });
    return refreshing;
  };
  const observer = createKeySetObserver(getKey);
  const monitor = createKeySourceMonitor(getKey, { refresh, failureBackoff, cacheMaxAge: options.cacheMaxAge, now });
  return getKey;
}
