// A redis-server for `npm start`, when one is on the PATH: 127.0.0.1, a free port, nothing written to
// disk, stopped with the demo. The spawner and the raw command are exported for the tests' redis-server.
import { type ChildProcess, spawn } from "node:child_process";
import * as net from "node:net";
import { tmpdir } from "node:os";

/** A redis-server that `npm start` started. */
export interface RedisProcess {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Stops it (its data is lost) and resolves once it has exited. */
  stop(): Promise<void>;
}

/**
 * Starts `redis-server` (from the PATH) on 127.0.0.1 and a free port, without persistence, and waits
 * until it answers PING; `undefined` when there is no redis-server to run, or it does not answer
 * within `timeoutMs`.
 *
 * ```ts
 * const redis = await startRedisProcess();
 * if (redis !== undefined) { ...; await redis.stop(); }
 * ```
 *
 * Not checked: the redis-server's version (the revocation list needs Redis 6.2 or later).
 */
export async function startRedisProcess(timeoutMs = 5000): Promise<RedisProcess | undefined> {
  const port = await freePort();
  const child = spawnRedisServer(port);
  const exited = new Promise<void>((resolve) => {
    child.once("error", () => resolve()); // ENOENT: not on the PATH
    child.once("exit", () => resolve());
  });
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  while (!gone && Date.now() < deadline) {
    if ((await redisCommand(port, ["PING"], 500).catch(() => "")) === "+PONG") {
      return {
        url: `redis://127.0.0.1:${port}`,
        async stop() {
          child.kill("SIGTERM");
          await exited;
        },
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill("SIGKILL");
  await exited;
  return undefined;
}

/**
 * Spawns `binary` as a redis-server on 127.0.0.1 and `port` that writes nothing to disk (no RDB
 * snapshot, no AOF): what it held is gone when it stops. Resolves nothing: wait for PING yourself.
 *
 * ```ts
 * const child = spawnRedisServer(await freePort());
 * ```
 *
 * Not checked: whether the port is free or the binary exists (the child's `error` and `exit` tell).
 */
export function spawnRedisServer(port: number, binary = "redis-server"): ChildProcess {
  return spawn(binary, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmpdir()], {
    stdio: "ignore",
  });
}

/**
 * A port of 127.0.0.1 that was free a moment ago (listen on 0, read it, close).
 *
 * ```ts
 * const port = await freePort();
 * ```
 *
 * Not checked: that it is still free when used.
 */
export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", () => resolve()));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/**
 * Sends one command (RESP) to the Redis on 127.0.0.1 and `port` over a fresh connection and resolves
 * with the first line of its reply ("+PONG", "+OK", ":3"); rejects when the connection fails, or
 * nothing answers within `timeoutMs`.
 *
 * ```ts
 * await redisCommand(port, ["PING"]); // "+PONG"
 * ```
 *
 * Not checked: the reply past its first line (a bulk reply's value is not read).
 */
export function redisCommand(port: number, args: readonly string[], timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let reply = "";
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error("redis-server did not answer")));
    socket.on("error", reject);
    socket.on("data", (chunk) => {
      reply += chunk.toString("utf8");
      const end = reply.indexOf("\r\n");
      if (end >= 0) {
        socket.destroy();
        resolve(reply.slice(0, end));
      }
    });
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`);
  });
}
