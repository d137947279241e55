import type { JSONWebKeySet, JWTVerifyGetKey } from "jose";
import type { AuthenticatorStatus } from "./auth-readiness.js";
import type { KeySourceFault } from "./key-source-fault.js";

/**
 * @internal What a key source tells of its keys, for readiness and health: its status, a fetch now
 * (so that a server can fetch its keys before it listens), and change events.
 *
 * ```ts
 * const keys = keySourceStatusOf(getKey);
 * await keys?.prefetch();
 * keys?.status(); // { ready: true, keysAgeMs: 3, nextFetchAtMs: 1767225600000 }
 * ```
 *
 * Not checked: that the keys fetched verify any token (a set of keys for other algorithms is ready).
 */
export interface KeySourceStatus {
  /** The status now (see `AuthenticatorStatus`). */
  status(): AuthenticatorStatus;
  /**
   * Fetches now when the source has no usable keys or its last fetch failed, unless its backoff runs
   * (then nothing is fetched) or a fetch is under way (then it waits for it). Resolves once the attempt
   * ended, whatever its outcome (read it in `status()`); never rejects.
   */
  prefetch(): Promise<void>;
  /**
   * Calls `listener` when the source becomes ready or not, or its `lastError` changes; returns the
   * unsubscribe. While at least one listener is subscribed and the source is down (not ready, or its
   * last fetch failed), it fetches again in the background: at most once per `failureBackoff` (and
   * 250 ms), on an unref'd timer, until a fetch succeeds.
   */
  onChange(listener: (status: AuthenticatorStatus) => void): () => void;
  /** Stops the background fetches and drops the listeners. Lookups and `prefetch()` still work. */
  close(): void;
}

const statuses = new WeakMap<JWTVerifyGetKey, KeySourceStatus>();

/**
 * @internal The {@link KeySourceStatus} of a key lookup made by our key sources: live for
 * `createRemoteKeySource` and `createDiscoveryKeySource`, always ready for keys held in memory;
 * `undefined` for your own lookup (its readiness is not known).
 *
 * ```ts
 * keySourceStatusOf(createRemoteKeySource(new URL("https://issuer.example.com/jwks")))?.status(); // { ready: false }
 * ```
 */
export function keySourceStatusOf(getKey: JWTVerifyGetKey): KeySourceStatus | undefined {
  return statuses.get(getKey);
}

/**
 * @internal Registers `status` for {@link keySourceStatusOf} on `getKey`.
 *
 * ```ts
 * registerKeySourceStatus(createLocalJWKSet(jwks), localKeysStatus);
 * ```
 */
export function registerKeySourceStatus<T extends JWTVerifyGetKey>(getKey: T, status: KeySourceStatus): T {
  statuses.set(getKey, status);
  return getKey;
}

/** @internal The status of keys held in memory: always ready, never fetched, no events. */
export const localKeysStatus: KeySourceStatus = Object.freeze({
  status: () => ({ ready: true }),
  prefetch: async () => {},
  onChange: () => () => {},
  close: () => {},
});

/** @internal Options of {@link createKeySourceMonitor}. */
export interface KeySourceMonitorOptions {
  /** Fetches now, unless a fetch is under way (waits for it) or the backoff runs; never rejects. */
  readonly refresh: () => Promise<void>;
  /** Milliseconds after a failed fetch during which no new fetch is tried. */
  readonly failureBackoff: number;
  /** Milliseconds a fetched set is used before it is fetched again. */
  readonly cacheMaxAge: number;
  /** The clock of the status (ages, instants), in milliseconds. */
  readonly now: () => number;
}

/** @internal A {@link KeySourceStatus} and the way its key source tells it how each attempt ended. */
export interface KeySourceMonitor extends KeySourceStatus {
  /**
   * After each lookup or fetch: `jwks` the set fetched last (jose's `jwksCache`, written on success
   * only; a new object means a new fetch), and `fault` when the attempt failed for the source.
   */
  settled(jwks: JSONWebKeySet | undefined, fault?: KeySourceFault): void;
}

/** No background fetch runs more often than this, whatever `failureBackoff` (0 included). */
const minRetryEvery = 250;

/**
 * @internal The status of one remote key source, registered for {@link keySourceStatusOf} on
 * `getKey`: ready once a fetched set holds a key, the last fault's word, and background fetches while
 * watched and down.
 *
 * ```ts
 * const monitor = createKeySourceMonitor(getKey, { refresh, failureBackoff: 1000, cacheMaxAge: 600000, now });
 * monitor.settled(fetched.jwks, fault); // after each lookup or fetch
 * ```
 *
 * Not checked: how old the keys kept through an outage are (they stay ready).
 */
export function createKeySourceMonitor(getKey: JWTVerifyGetKey, options: KeySourceMonitorOptions): KeySourceMonitor {
  const { refresh, failureBackoff, cacheMaxAge, now } = options;
  const retryEvery = Math.max(failureBackoff, minRetryEvery);
  const listeners = new Set<(status: AuthenticatorStatus) => void>();
  let seen: JSONWebKeySet | undefined;
  let fetchedAt: number | undefined;
  let attemptedAt: number | undefined;
  let lastError: KeySourceFault | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let retryAt: number | undefined;
  let retrying = false;
  let closed = false;

  const ready = () => seen !== undefined && hasKeys(seen);
  const down = () => !ready() || lastError !== undefined;
  const status = (): AuthenticatorStatus => {
    const out: Writable<AuthenticatorStatus> = { ready: ready() };
    if (fetchedAt !== undefined) out.keysAgeMs = Math.max(0, now() - fetchedAt);
    if (lastError !== undefined) out.lastError = lastError;
    const next =
      retryAt ??
      (lastError !== undefined && attemptedAt !== undefined
        ? attemptedAt + failureBackoff
        : fetchedAt !== undefined
          ? fetchedAt + cacheMaxAge
          : undefined);
    if (next !== undefined) out.nextFetchAtMs = next;
    return out;
  };
  const changeKey = () => `${ready()}|${lastError ?? ""}`;
  let reported = changeKey();

  const stopRetry = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    retryAt = undefined;
  };
  // Arms the background fetch when watched and down: one timer at a time, never within retryEvery of the
  // last attempt (at once when nothing was tried yet).
  const schedule = () => {
    if (closed || listeners.size === 0 || !down()) {
      stopRetry();
      return;
    }
    if (timer !== undefined || retrying) return;
    const delay = attemptedAt === undefined ? 0 : Math.max(0, attemptedAt + retryEvery - now());
    retryAt = now() + delay;
    timer = setTimeout(() => {
      timer = undefined;
      retryAt = undefined;
      retrying = true;
      void refresh().finally(() => {
        retrying = false;
        schedule();
      });
    }, delay);
    (timer as unknown as { unref?: () => void }).unref?.();
  };

  const monitor: KeySourceMonitor = {
    settled(jwks, fault) {
      // The lookups that fetched nothing (nearly all) cost two comparisons.
      if ((jwks === undefined || jwks === seen) && fault === undefined) return;
      if (jwks !== undefined && jwks !== seen) {
        seen = jwks;
        fetchedAt = attemptedAt = now();
        lastError = hasKeys(jwks) ? undefined : "no_keys";
      }
      if (fault !== undefined) {
        attemptedAt = now();
        lastError = fault;
      }
      const key = changeKey();
      if (key !== reported) {
        reported = key;
        const current = status();
        for (const listener of [...listeners]) {
          try {
            listener(current);
          } catch {
            // A listener's fault is its own: lookups and the other listeners go on.
          }
        }
      }
      schedule();
    },
    status,
    prefetch: () => (down() ? refresh() : Promise.resolve()),
    onChange(listener) {
      listeners.add(listener);
      schedule();
      return () => {
        listeners.delete(listener);
        schedule();
      };
    },
    close() {
      closed = true;
      listeners.clear();
      stopRetry();
    },
  };
  registerKeySourceStatus(getKey, monitor);
  return monitor;
}

/**
 * @internal One status over several key sources (the issuers of one authenticator): ready when all
 * are, the first `lastError`, the oldest keys, the nearest next fetch.
 *
 * ```ts
 * const status = combineKeySourceStatus(issuers.map((i) => keySourceStatusOf(i.getKey) ?? localKeysStatus));
 * ```
 *
 * Not checked: duplicates in `parts`.
 */
export function combineKeySourceStatus(parts: readonly KeySourceStatus[]): KeySourceStatus {
  if (parts.length === 1 && parts[0] !== undefined) return parts[0];
  const status = (): AuthenticatorStatus => {
    const all = parts.map((p) => p.status());
    const out: Writable<AuthenticatorStatus> = { ready: all.every((s) => s.ready) };
    const ages = all.flatMap((s) => (s.keysAgeMs === undefined ? [] : [s.keysAgeMs]));
    if (ages.length > 0) out.keysAgeMs = Math.max(...ages);
    const lastError = all.find((s) => s.lastError !== undefined)?.lastError;
    if (lastError !== undefined) out.lastError = lastError;
    const next = all.flatMap((s) => (s.nextFetchAtMs === undefined ? [] : [s.nextFetchAtMs]));
    if (next.length > 0) out.nextFetchAtMs = Math.min(...next);
    return out;
  };
  return {
    status,
    prefetch: async () => {
      await Promise.all(parts.map((p) => p.prefetch()));
    },
    onChange(listener) {
      const stops = parts.map((p) => p.onChange(() => listener(status())));
      return () => {
        for (const stop of stops) stop();
      };
    },
    close() {
      for (const p of parts) p.close();
    },
  };
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

const hasKeys = (jwks: JSONWebKeySet) => Array.isArray(jwks.keys) && jwks.keys.length > 0;
