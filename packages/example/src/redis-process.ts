// A redis-server for `npm start`, when one is on the PATH: 127.0.0.1, a free port, nothing written to
// disk, stopped with the demo.
import { spawn } from "node:child_process";
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
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmpdir()],
    { stdio: "ignore" },
  );
  const exited = new Promise<void>((resolve) => {
    child.once("error", () => resolve()); // ENOENT: not on the PATH
    child.once("exit", () => resolve());
  });
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  while (!gone && Date.now() < deadline) {
    if ((await ping(port)) === "+PONG") {
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

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", () => resolve()));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** PING on a fresh connection: the first line of the reply, or "" when nothing answers. */
function ping(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let reply = "";
    socket.setTimeout(500, () => socket.destroy());
    socket.once("error", () => resolve(""));
    socket.once("close", () => resolve(reply.split("\r\n")[0] ?? ""));
    socket.on("data", (chunk) => {
      reply += chunk.toString("utf8");
      if (reply.includes("\r\n")) socket.destroy();
    });
    socket.write("*1\r\n$4\r\nPING\r\n");
  });
}
