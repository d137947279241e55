// A real redis-server for tests, on 127.0.0.1 and a free port, with nothing written to disk. It can be
// hung (SIGSTOP, SIGCONT) to make a Redis that accepts connections and never answers, stopped and
// started again on the same port (an outage that loses everything, as no data is saved), and sent raw
// commands (FLUSHALL) without a client library.
import { type ChildProcess, spawn } from "node:child_process";
import * as net from "node:net";
import { tmpdir } from "node:os";

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
  /** Stops the server (its data is lost) and resolves once it has exited. */
  stop(): Promise<void>;
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
    command: (...args) => sendCommand(port, args),
    hang: () => child?.kill("SIGSTOP"),
    resume: () => child?.kill("SIGCONT"),
    async stop() {
      const running = child;
      child = undefined;
      if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => running.once("exit", () => resolve()));
      running.kill("SIGCONT");
      running.kill("SIGTERM");
      await exited;
    },
    async start() {
      if (child !== undefined) throw new Error("redis-server is running");
      const spawned = spawn(
        binary,
        ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmpdir()],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
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

// A port that was free a moment ago: listen on 0, read it, close.
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", () => resolve()));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function waitForPong(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if ((await sendCommand(port, ["PING"])) === "+PONG") return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// One command on a fresh connection, encoded as a RESP array; the first line of the reply.
function sendCommand(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let reply = "";
    socket.setTimeout(2000, () => socket.destroy(new Error("redis-server did not answer")));
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
