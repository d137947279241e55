// The few Redis commands the stores of @connectauth/node/redis send, and one adapter per client that
// users run: node-redis v5 (`redis`) and ioredis v5. Neither client is imported here: the adapters
// take the client you created, described by the methods they call.

/** A connection to Redis, as the revocation list and the replay store use it. */
export interface RedisConnection {
  /** `SET key value NX PX px`: "OK" when the key was set, `null` when it was there already. */
  set(key: string, value: string, options: { readonly nx: true; readonly px: number }): Promise<"OK" | null>;
  /** `EVAL script numkeys ...keys ...args`: the script's reply (arrays, strings, integers, `null`). */
  eval(script: string, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  /**
   * `SUBSCRIBE channels`: resolves once Redis confirmed; `listener` gets every message of these
   * channels, and the function resolved unsubscribes it. A connection that subscribed sends no other
   * commands (use {@link RedisConnection.duplicate} for one).
   */
  subscribe(channels: readonly string[], listener: (channel: string, message: string) => void): Promise<() => Promise<void>>;
  /** A second connection to the same Redis, with the same options; failures show in its replies (its `error` events are heard and dropped). */
  duplicate(): RedisConnection;
  /** Closes this connection at once (pending replies are dropped); called only on connections `duplicate` opened. */
  disconnect(): void;
}

/**
 * What {@link fromNodeRedis} calls on a node-redis v5 client (`createClient()` of `redis` or `@redis/client`).
 * Described here so that this package needs no types of `redis`.
 */
export interface NodeRedisClient {
  set(
    key: string,
    value: string,
    options: { condition: "NX"; expiration: { type: "PX"; value: number } },
  ): Promise<string | null | object>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  subscribe(channels: string[], listener: (message: string, channel: string) => void): Promise<void>;
  unsubscribe(channels: string[], listener: (message: string, channel: string) => void): Promise<void>;
  duplicate(): NodeRedisClient;
  connect(): Promise<unknown>;
  destroy(): void;
  on(event: "error", listener: (error: unknown) => void): unknown;
}

/**
 * What {@link fromIoredis} calls on an ioredis v5 client (`new Redis()`).
 * Described here so that this package needs no types of `ioredis`.
 */
export interface IoredisClient {
  set(key: string, value: string, px: "PX", milliseconds: number, nx: "NX"): Promise<"OK" | null>;
  eval(script: string, numkeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(...channels: string[]): Promise<unknown>;
  duplicate(): IoredisClient;
  disconnect(): void;
  on(event: "message", listener: (channel: string, message: string) => void): unknown;
  on(event: "error", listener: (error: unknown) => void): unknown;
  off(event: "message", listener: (channel: string, message: string) => void): unknown;
}

// Failures of a connection this package opened show in its replies; a node-redis client with no
// `error` listener would throw them instead.
const ignore = () => {};

/**
 * A {@link RedisConnection} over a node-redis v5 client, which you connect (and close) yourself.
 *
 * ```ts
 * import { createClient } from "redis";
 * const client = createClient({ url: "redis://redis.internal:6379" });
 * client.on("error", (error) => log.warn("redis", error.code));
 * await client.connect();
 * const revocations = createRedisRevocationList({ redis: fromNodeRedis(client) });
 * ```
 *
 * Not checked: the client's options (keep its offline queue, which is the default: commands sent while
 * it reconnects are sent once it is back, or answered by the stores' own timeouts).
 */
export function fromNodeRedis(client: NodeRedisClient): RedisConnection {
  return {
    set: async (key, value, { px }) => {
      const reply = await client.set(key, value, { condition: "NX", expiration: { type: "PX", value: px } });
      return reply === "OK" ? "OK" : null;
    },
    eval: (script, keys, args) => client.eval(script, { keys: [...keys], arguments: [...args] }),
    async subscribe(channels, listener) {
      const onMessage = (message: string, channel: string) => listener(channel, message);
      await client.subscribe([...channels], onMessage);
      return () => client.unsubscribe([...channels], onMessage);
    },
    duplicate() {
      const second = client.duplicate();
      second.on("error", ignore);
      second.connect().catch(ignore);
      return fromNodeRedis(second);
    },
    disconnect: () => client.destroy(),
  };
}

/**
 * A {@link RedisConnection} over an ioredis v5 client, which you close yourself.
 *
 * ```ts
 * import { Redis } from "ioredis";
 * const client = new Redis("redis://redis.internal:6379");
 * const replayStore = createRedisReplayStore({ redis: fromIoredis(client) });
 * ```
 *
 * Not checked: the client's options. Its default `retryStrategy` waits up to 2 s between attempts to
 * reconnect; give a shorter one (`(n) => Math.min(n * 50, 500)`) for a revocation list that is ready
 * again within 2 s of Redis coming back.
 */
export function fromIoredis(client: IoredisClient): RedisConnection {
  return {
    set: (key, value, { px }) => client.set(key, value, "PX", px, "NX"),
    eval: (script, keys, args) => client.eval(script, keys.length, ...keys, ...args),
    async subscribe(channels, listener) {
      const wanted = new Set(channels);
      const onMessage = (channel: string, message: string) => {
        if (wanted.has(channel)) listener(channel, message);
      };
      client.on("message", onMessage);
      try {
        await client.subscribe(...channels);
      } catch (error) {
        client.off("message", onMessage);
        throw error;
      }
      return async () => {
        client.off("message", onMessage);
        await client.unsubscribe(...channels);
      };
    },
    duplicate() {
      const second = client.duplicate();
      second.on("error", ignore);
      return fromIoredis(second);
    },
    disconnect: () => client.disconnect(),
  };
}

/**
 * @internal `promise`, or a rejection with `onTimeout()` when it has not settled within `ms`. The
 * command is not cancelled: it may still be carried out later.
 *
 * ```ts
 * await withinMs(redis.eval(script, keys, args), 1000, () => new Error("timeout"));
 * ```
 *
 * Not checked: `ms` (the caller's option checks did).
 */
export function withinMs<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
