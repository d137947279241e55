// Connections to a test Redis through each client the Redis stores support (node-redis v5, ioredis v5),
// reconnecting quickly (every 50 ms up to 300 ms) so that fault tests see Redis come back at once.
import { fromIoredis, fromNodeRedis, type RedisConnection } from "@connectauth/node/redis";
import { Redis } from "ioredis";
import { createClient } from "redis";

export type RedisClientKind = "node-redis" | "ioredis";
export const redisClientKinds: readonly RedisClientKind[] = ["node-redis", "ioredis"];

export interface TestConnection {
  readonly redis: RedisConnection;
  /** Closes the client at once (pending commands are dropped). */
  close(): void;
}

const reconnectDelay = (attempt: number) => Math.min(attempt * 50, 300);

export async function connectRedis(kind: RedisClientKind, url: string): Promise<TestConnection> {
  if (kind === "node-redis") {
    const client = createClient({ url, socket: { reconnectStrategy: reconnectDelay } });
    client.on("error", () => {});
    await client.connect();
    return { redis: fromNodeRedis(client), close: () => client.destroy() };
  }
  const client = new Redis(url, { retryStrategy: reconnectDelay });
  client.on("error", () => {});
  await client.ping();
  return { redis: fromIoredis(client), close: () => client.disconnect() };
}

/** The connections of one client kind that a suite opens as it goes, to close them all at its end. */
export interface RedisConnections {
  /** A new connection to `url()`, kept to be closed by `closeAll()`. */
  connect(): Promise<RedisConnection>;
  /** Closes every connection opened so far (for `after` or `afterEach`). */
  closeAll(): void;
}

/**
 * Connections of `kind` to the Redis at `url()` (read at each connect, so that it may be started in
 * `before`).
 *
 * ```ts
 * const connections = redisConnections("ioredis", () => server.url);
 * after(() => connections.closeAll());
 * const store = createRedisReplayStore({ redis: await connections.connect() });
 * ```
 */
export function redisConnections(kind: RedisClientKind, url: () => string): RedisConnections {
  const opened: TestConnection[] = [];
  return {
    async connect() {
      const connection = await connectRedis(kind, url());
      opened.push(connection);
      return connection.redis;
    },
    closeAll() {
      for (const connection of opened.splice(0)) connection.close();
    },
  };
}

/** Polls `condition` every 5 ms until it holds (resolves with the ms it took) or `withinMs` has passed (rejects naming `what`). */
export async function waitFor(condition: () => boolean, withinMs: number, what: string): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (condition()) return performance.now() - started;
    if (performance.now() - started > withinMs) throw new Error(`not within ${withinMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
