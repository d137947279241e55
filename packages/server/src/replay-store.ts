/**
 * Where used DPoP proof ids are recorded, so that a proof is accepted once. Implement it for a fleet
 * (Redis: `SET key 1 PXAT expiresAtMs NX`); {@link createMemoryReplayStore} serves one process.
 *
 * ```ts
 * const redisReplayStore: ReplayStore = {
 *   add: async (key, expiresAtMs) => (await redis.set(key, "1", { PXAT: expiresAtMs, NX: true })) === "OK",
 * };
 * ```
 *
 * Not checked here: what the keys mean (the DPoP proof verifier builds them from the replay scope, the
 * key's thumbprint and the proof's `jti`).
 */
export interface ReplayStore {
  /**
   * Records `key` until `expiresAtMs`; resolves true when it was new, false when already present (a replay).
   * Rejects (throws) when it cannot answer: the proof is then refused, never accepted unchecked.
   */
  add(key: string, expiresAtMs: number): Promise<boolean>;
}

// The synchronous add behind each memory store's `add`, by that `add` function: a store whose `add` is
// one of these answers at once and cannot hang. Keyed by the function, not the store: a store whose
// `add` was replaced (a wrapper, a test's spy) is not taken for one.
const immediateAdds = new WeakMap<ReplayStore["add"], (key: string, expiresAtMs: number) => boolean>();

/**
 * @internal The synchronous form of `store.add` when it is the `add` of a {@link createMemoryReplayStore}
 * store (which answers at once: returns true or false, throws where `add` rejects), else `undefined`:
 * the caller then awaits `add` and bounds the wait.
 *
 * ```ts
 * const immediate = immediateAddOf(store);
 * const added = immediate !== undefined ? immediate(key, expiresAtMs) : await withTimeout(store.add(key, expiresAtMs));
 * ```
 *
 * Not checked: anything of a store that is not a memory store's (its `add` may hang: time it out).
 */
export function immediateAddOf(store: ReplayStore): ((key: string, expiresAtMs: number) => boolean) | undefined {
  return immediateAdds.get(store.add);
}

/** Options of {@link createMemoryReplayStore}. */
export interface MemoryReplayStoreOptions {
  /** The most live entries held; past it, `add` rejects with {@link ReplayStoreFullError}. Default 100_000. */
  readonly maxEntries?: number;
  /** The current time in milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * The rejection of {@link createMemoryReplayStore}'s `add` when every entry it holds is still live: it
 * never drops a live entry to make room (a flood must not push a recorded `jti` out early).
 *
 * ```ts
 * await store.add(key, expiresAtMs).catch((e) => e.code); // "REPLAY_STORE_FULL"
 * ```
 *
 * Not checked: anything of the key refused (the error names none).
 */
export class ReplayStoreFullError extends Error {
  override name = "ReplayStoreFullError";
  readonly code = "REPLAY_STORE_FULL";
}

/**
 * Creates a bounded {@link ReplayStore} in memory, for one process (a fleet shares one store, e.g. Redis).
 *
 * Entries are dropped once expired, a whole second of expiries at a time (an entry may stay up to one
 * second past `expiresAtMs`, never less than until it): the expired seconds are swept on the first `add`
 * of each new second, so `add` costs O(1) on average. When `maxEntries` live entries are held, `add`
 * rejects with {@link ReplayStoreFullError}: the caller refuses the proof rather than forget a live one.
 *
 * ```ts
 * const store = createMemoryReplayStore({ maxEntries: 10_000 });
 * await store.add("issuer\njkt\njti-1", Date.now() + 60_000); // true
 * await store.add("issuer\njkt\njti-1", Date.now() + 60_000); // false: a replay
 * ```
 *
 * Not checked: the keys' size (the caller bounds them), nor memory beyond the number of entries.
 *
 * @throws TypeError on a `maxEntries` that is not an integer >= 1, or a `now` that is not a function.
 */
export function createMemoryReplayStore(options: MemoryReplayStoreOptions = {}): ReplayStore {
  const maxEntries = options.maxEntries ?? 100_000;
  const now = options.now ?? Date.now;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new TypeError("createMemoryReplayStore: maxEntries must be an integer >= 1");
  }
  if (typeof now !== "function") throw new TypeError("createMemoryReplayStore: now must be a function");

  const expiries = new Map<string, number>(); // key → expiresAtMs
  // The keys by the second after which they have all expired (ceil(expiresAtMs / 1000)).
  const seconds = new Map<number, string[]>();
  let sweptSecond = Number.NEGATIVE_INFINITY;

  const sweep = (t: number, second: number) => {
    sweptSecond = second;
    for (const [s, keys] of seconds) {
      if (s > second) continue;
      seconds.delete(s);
      for (const key of keys) {
        const expiresAt = expiries.get(key);
        // The key may have been recorded again since (after expiring): only an expired entry goes.
        if (expiresAt !== undefined && expiresAt <= t) expiries.delete(key);
      }
    }
  };

  const add = (key: string, expiresAtMs: number): boolean => {
    if (typeof key !== "string" || !Number.isFinite(expiresAtMs)) {
      throw new TypeError("createMemoryReplayStore: add needs a string key and a finite expiresAtMs");
    }
    const t = now();
    const second = Math.floor(t / 1000);
    if (second > sweptSecond) sweep(t, second);
    const recorded = expiries.get(key);
    if (recorded !== undefined) {
      if (recorded > t) return false;
      expiries.delete(key);
    }
    if (expiresAtMs <= t) return true; // already past: nothing left to remember
    if (expiries.size >= maxEntries) throw new ReplayStoreFullError("the replay store is full");
    expiries.set(key, expiresAtMs);
    const s = Math.ceil(expiresAtMs / 1000);
    const keys = seconds.get(s);
    if (keys === undefined) seconds.set(s, [key]);
    else keys.push(key);
    return true;
  };

  const store: ReplayStore = { add: async (key, expiresAtMs) => add(key, expiresAtMs) };
  immediateAdds.set(store.add, add);
  return store;
}
