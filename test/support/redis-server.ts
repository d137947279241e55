// A real redis-server for tests, on 127.0.0.1 and a free port, with nothing written to disk. It can be
// hung (SIGSTOP, SIGCONT) to make a Redis that accepts connections and never answers, stopped and
// started again on the same port (an outage that loses everything, as no data is saved), and sent raw
// commands (FLUSHALL) without a client library. It is spawned, and sent commands, as the example's
// `npm start` does (packages/example/src/redis-process.ts).
import type { ChildProcess } from "node:child_process";
import { freePort, redisCommand, spawnRedisServer } from "../../packages/example/src/redis-process.js";

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Sends one command (RESP) and resolves with the first line of the reply, e.g. "+PONG", "+OK", ":3". */
  command(...args: string[]): Promise<string>;
  /** SIGSTOP: connections stay open, nothing is answered. */
  hang(): void;
  /** SIGCONT: answers again, everything it held kept. */
  resume(): void;
  /** Stops the server (its data is lost) with `signal` (default SIGTERM; SIGKILL: a crash) and resolves once it has exited. */
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
  /** Starts it again on the same port, empty, and waits for PONG. */
  start(): Promise<void>;
}

/** The path of redis-server: `REDIS_SERVER`, else `redis-server` on the PATH. */
const binary = process.env["REDIS_SERVER"] ?? "redis-server";

export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    command: (...args) => redisCommand(port, args),
    hang: () => child?.kill("SIGSTOP"),
    resume: () => child?.kill("SIGCONT"),
    async stop(signal = "SIGTERM") {
      const running = child;
      child = undefined;
      if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => running.once("exit", () => resolve()));
      running.kill("SIGCONT");
      running.kill(signal);
      await exited;
    },
    async start() {
      if (child !== undefined) throw new Error("redis-server is running");
      const spawned = spawnRedisServer(port, binary);
      child = spawned;
      const failed = new Promise<never>((_, reject) => {
        spawned.once("error", (error) => reject(new Error(`redis-server did not start (${error.message})`)));
        spawned.once("exit", (code) => reject(new Error(`redis-server exited (${code}) before answering PING`)));
      });
      failed.catch(() => {});
      await Promise.race([waitForPong(port), failed]);
    },
  };
  await server.start();
  return server;
}

async function waitForPong(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if ((await redisCommand(port, ["PING"])) === "+PONG") return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
