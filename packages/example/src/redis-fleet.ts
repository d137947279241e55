// The example server's Redis: one node-redis client for the revocation list (and its subscriber, a
// duplicate) and the DPoP replay store, so that every example server given the same URL is one fleet.
import { createClient } from "redis";
import {
  type RedisReplayStore,
  type RedisRevocationList,
  createRedisReplayStore,
  createRedisRevocationList,
  fromNodeRedis,
} from "@connectauth/node/redis";

/** The `redis` option of `startExampleServer`. */
export interface ExampleRedisOptions {
  /** `redis://` or `rediss://`, with user and password if needed. */
  readonly url: string;
  /** How long the revocation list is trusted while it is not caught up, in seconds. Default the list's (30). */
  readonly stalenessSeconds?: number;
}

/** The example server's shared state on Redis. */
export interface ExampleRedis {
  readonly revocations: RedisRevocationList;
  /** With DPoP only. */
  readonly replayStore: RedisReplayStore | undefined;
  /** Closes the list (and its subscriber), then the client. */
  close(): Promise<void>;
}

/**
 * Checks `options.url` and opens the client, without waiting for Redis: the list says it is not caught
 * up (and the health service NOT_SERVING) until Redis answers, and calls are then refused as the list's
 * fail mode says (closed: REVOCATION_UNAVAILABLE past `stalenessSeconds`).
 *
 * ```ts
 * const redis = await connectExampleRedis({ url: "redis://127.0.0.1:6379" }, true);
 * createJwtAuthenticator({ ...options, revocation: redis.revocations, dpop: { mode: "allowed", replayStore: redis.replayStore } });
 * ```
 *
 * Not checked: that Redis can be reached, nor who may write to it.
 *
 * @throws TypeError on a URL that is not redis:// or rediss:// with a host (the message never holds
 *   the URL's password), or a `stalenessSeconds` the list refuses.
 */
export async function connectExampleRedis(options: ExampleRedisOptions, dpop: boolean): Promise<ExampleRedis> {
  const problem = redisUrlProblem(options.url);
  if (problem !== undefined) throw new TypeError(`redis: ${problem}`);
  const client = createClient({ url: options.url });
  // Faults show in the list's status (and the health service); the client's text may name hosts.
  client.on("error", () => {});
  client.connect().catch(() => {});
  let revocations: RedisRevocationList;
  try {
    revocations = createRedisRevocationList({ redis: fromNodeRedis(client), stalenessSeconds: options.stalenessSeconds });
  } catch (error) {
    client.destroy();
    throw error;
  }
  return {
    revocations,
    replayStore: dpop ? createRedisReplayStore({ redis: fromNodeRedis(client) }) : undefined,
    async close() {
      // A list whose Redis is gone may not get its unsubscribe answered: closing waits 1 s at most.
      await Promise.race([revocations.close().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
      client.destroy();
    },
  };
}

/**
 * Why `url` is not a Redis URL the example takes, or `undefined` when it is. Never repeats the URL
 * (it may hold a password).
 *
 * ```ts
 * redisUrlProblem("http://x"); // "must be a redis:// or rediss:// URL, not http://"
 * ```
 */
export function redisUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "must be a redis:// or rediss:// URL";
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    return `must be a redis:// or rediss:// URL, not ${parsed.protocol}//`;
  }
  if (parsed.hostname === "") return "must name a host (redis://host:6379)";
  return undefined;
}

/**
 * The URL to print: its password replaced by `***`.
 *
 * ```ts
 * redactedRedisUrl("redis://app:s3cret@redis:6379"); // "redis://app:***@redis:6379"
 * ```
 */
export function redactedRedisUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== "") parsed.password = "***";
  return parsed.href.replace(/\/$/, "");
}
