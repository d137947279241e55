import { type RedisConnection, withinMs } from "./redis-client.js";
import { ReplayStoreUnavailableError } from "./redis-errors.js";
import { integerAtLeast1 } from "./redis-option-checks.js";

/** Options of {@link createRedisReplayStore}. */
export interface RedisReplayStoreOptions {
  /** The connection: `fromNodeRedis(client)` or `fromIoredis(client)`. */
  readonly redis: RedisConnection;
  /** Put before every key, so that one Redis serves several stores. Default "connectauth:dpop:". */
  readonly keyPrefix?: string;
  /** How long Redis may take to answer, in ms; past it, `add` rejects (the proof is refused). Default 1000. */
  readonly timeoutMs?: number;
  /** The current time in milliseconds since the epoch, to turn `expiresAtMs` into a TTL. Default `Date.now`. */
  readonly now?: () => number;
}

/** A `ReplayStore` of `@connectauth/server` (the DPoP proof ids seen), shared by every instance through Redis. */
export interface RedisReplayStore {
  /** True when `key` was new (now recorded until `expiresAtMs`), false when it was there: a replay. Rejects with {@link ReplayStoreUnavailableError}. */
  add(key: string, expiresAtMs: number): Promise<boolean>;
}

/**
 * Creates a DPoP replay store on Redis: each `add` is one atomic `SET <prefix><key> 1 NX PX <ttl>`, so
 * of two instances given the same proof at once exactly one is told it is new. The key expires in
 * Redis with the proof (`expiresAtMs`, at least 1 ms from now).
 *
 * ```ts
 * import { createRedisReplayStore, fromNodeRedis } from "@connectauth/node/redis";
 * const replayStore = createRedisReplayStore({ redis: fromNodeRedis(client), timeoutMs: 500 });
 * await replayStore.add("issuer\njkt\njti-1", Date.now() + 60_000); // true, then false on every instance
 * ```
 *
 * Not checked: the keys (the proof verifier builds and bounds them). A Redis that lost its data
 * (a flush, a restart without persistence) forgets the proofs seen: each may then be accepted once more
 * within its lifetime.
 *
 * @throws TypeError on a missing `redis`, a `keyPrefix` that is not a string, or a `timeoutMs` that is not an integer >= 1.
 */
export function createRedisReplayStore(options: RedisReplayStoreOptions): RedisReplayStore {
  const what = "createRedisReplayStore";
  const { redis } = options;
  if (typeof redis?.set !== "function") throw new TypeError(`${what}: redis is required (fromNodeRedis or fromIoredis)`);
  const prefix = options.keyPrefix ?? "connectauth:dpop:";
  if (typeof prefix !== "string") throw new TypeError(`${what}: keyPrefix must be a string`);
  const timeoutMs = integerAtLeast1(options.timeoutMs, 1000, "timeoutMs", what);
  const now = options.now ?? Date.now;
  return {
    async add(key, expiresAtMs) {
      const px = Math.max(1, Math.ceil(expiresAtMs - now()));
      if (!Number.isFinite(px)) throw new TypeError(`${what}: expiresAtMs must be a finite number`);
      let reply: "OK" | null;
      try {
        reply = await withinMs(
          redis.set(prefix + key, "1", { nx: true, px }),
          timeoutMs,
          () => new ReplayStoreUnavailableError("timeout"),
        );
      } catch (error) {
        throw error instanceof ReplayStoreUnavailableError ? error : new ReplayStoreUnavailableError("error");
      }
      if (reply === "OK") return true;
      if (reply === null) return false;
      throw new ReplayStoreUnavailableError("error");
    },
  };
}
