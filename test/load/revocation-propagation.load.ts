// npm run test:load — how fast a revocation reaches a fleet: three server processes (this file, forked
// with CONNECTAUTH_LOAD_CHILD set), each with its own createRedisRevocationList (node-redis) on one
// redis-server, serve calls with 8 in flight from this process while it revokes 200 tokens one after
// another through its own list. Each server reports the instant its list first refuses a token (polled
// every millisecond, on the monotonic clock every process shares); the propagation is that instant
// less the instant revoke() was called. Asserts every revocation reached every server, p99 under 1 s,
// every call of a valid token served, and a revoked token refused over the wire by each server.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, fork } from "node:child_process";
import * as http2 from "node:http2";
import { fileURLToPath } from "node:url";
import { Code, ConnectError, type Interceptor, createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import type { JSONWebKeySet } from "jose";
import { readAuthFailure } from "@connectauth/core";
import { type RedisRevocationList, createRedisRevocationList, fromNodeRedis } from "@connectauth/node/redis";
import { createJwtAuthenticator, createServerAuth } from "@connectauth/server";
import { createClient as createRedisClient } from "redis";
import { GreeterService } from "../../packages/example/src/gen/example/v1/greeter_pb.js";
import { greeterRoutes } from "../../packages/example/src/greeter-service.js";
import { listenOnLoopback } from "../support/listen.js";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";
import { type TestSigner, createTestSigner } from "../support/tokens.js";

const issuer = "https://issuer.test";
const audience = "greeter";
const prefix = "load:revocations:";
const servers = 3;
const revocations = 200;
const inFlight = 8;

/** Messages between this process and its servers. */
type ToServer = { type: "watch"; jti: string } | { type: "stop" };
type FromServer = { type: "ready"; url: string } | { type: "watching"; jti: string } | { type: "seen"; jti: string; at: string };

const monotonicNs = () => process.hrtime.bigint(); // CLOCK_MONOTONIC: one clock for every process of the machine

async function connectRedis(url: string) {
  const client = createRedisClient({ url, socket: { reconnectStrategy: (n: number) => Math.min(n * 50, 300) } });
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** One server of the fleet (a child process): serves the Greeter, and reports when each watched jti is revoked. */
async function serveAsFleetMember(): Promise<void> {
  const send = (message: FromServer) => process.send?.(message);
  const client = await connectRedis(process.env["REDIS_URL"] as string);
  const list = createRedisRevocationList({ redis: fromNodeRedis(client), keyPrefix: prefix, heartbeatMs: 100 });
  const auth = createServerAuth({
    authenticators: [
      createJwtAuthenticator({
        issuer,
        audience,
        algorithms: ["ES256"],
        keys: JSON.parse(process.env["JWKS"] as string) as JSONWebKeySet,
        revocation: list,
      }),
    ],
  });
  const listening = await listenOnLoopback(http2.createServer(connectNodeAdapter(auth.install({ routes: greeterRoutes }))));
  await list.caughtUp();
  const watched = new Set<string>();
  const poll = setInterval(() => {
    for (const jti of watched) {
      if (list.check({ issuer, jti, digest: "" }) !== "revoked") continue;
      watched.delete(jti);
      send({ type: "seen", jti, at: String(monotonicNs()) });
    }
  }, 1);
  process.on("message", (message: ToServer) => {
    if (message.type === "watch") {
      watched.add(message.jti);
      send({ type: "watching", jti: message.jti });
      return;
    }
    clearInterval(poll);
    void (async () => {
      await listening.close();
      await list.close();
      client.destroy();
      process.disconnect();
    })();
  });
  send({ type: "ready", url: `http://${listening.hostPort}` });
}

/** A forked server, and the messages it sent. */
interface Member {
  readonly child: ChildProcess;
  readonly url: string;
  next(type: FromServer["type"], jti?: string): Promise<FromServer>;
}

async function startMember(redisUrl: string, jwks: JSONWebKeySet): Promise<Member> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, CONNECTAUTH_LOAD_CHILD: "revocation-server", REDIS_URL: redisUrl, JWKS: JSON.stringify(jwks) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const inbox: FromServer[] = [];
  const waiting: { match: (m: FromServer) => boolean; resolve: (m: FromServer) => void; reject: (e: Error) => void }[] = [];
  let exited: Error | undefined;
  child.on("message", (message: FromServer) => {
    const i = waiting.findIndex((w) => w.match(message));
    if (i >= 0) waiting.splice(i, 1)[0]?.resolve(message);
    else inbox.push(message);
  });
  child.once("exit", (code) => {
    exited = new Error(`a fleet server exited (${code})`);
    for (const w of waiting.splice(0)) w.reject(exited);
  });
  const next = (type: FromServer["type"], jti?: string) => {
    const match = (m: FromServer) => m.type === type && (jti === undefined || ("jti" in m && m.jti === jti));
    const i = inbox.findIndex(match);
    if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0] as FromServer);
    if (exited !== undefined) return Promise.reject(exited);
    return new Promise<FromServer>((resolve, reject) => waiting.push({ match, resolve, reject }));
  };
  const ready = (await next("ready")) as Extract<FromServer, { type: "ready" }>;
  return { child, url: ready.url, next };
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not within ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;

if (process.env["CONNECTAUTH_LOAD_CHILD"] === "revocation-server") {
  await serveAsFleetMember();
} else {
  let redis: RedisServer;
  let signer: TestSigner;
  const members: Member[] = [];
  before(async () => {
    redis = await startRedisServer();
    signer = await createTestSigner("k1");
    members.push(...(await Promise.all(Array.from({ length: servers }, () => startMember(redis.url, signer.jwks)))));
  });
  after(async () => {
    for (const m of members) {
      if (m.child.exitCode !== null || m.child.signalCode !== null) continue;
      const exited = new Promise((resolve) => m.child.once("exit", resolve));
      m.child.send({ type: "stop" } satisfies ToServer);
      await within(exited, 5000, "a fleet server stops").catch(() => m.child.kill());
    }
    await redis.stop();
  });

  const clientOf = (baseUrl: string, token: string) => {
    const auth: Interceptor = (next) => (req) => {
      req.header.set("authorization", `Bearer ${token}`);
      return next(req);
    };
    return createClient(GreeterService, createConnectTransport({ baseUrl, httpVersion: "2", interceptors: [auth] }));
  };

  test(`${revocations} revocations reach ${servers} serving processes: p50 and p99 of the propagation`, async () => {
    const client = await connectRedis(redis.url);
    const list: RedisRevocationList = createRedisRevocationList({ redis: fromNodeRedis(client), keyPrefix: prefix });
    await list.caughtUp();
    // The load: valid tokens to every server, 8 calls in flight, until the revocations are done.
    const valid = await signer.sign({ iss: issuer, aud: audience, sub: "load", scope: "greet" });
    const clients = members.map((m) => clientOf(m.url, valid));
    let stop = false;
    let served = 0;
    const failed: string[] = [];
    const loops = Array.from({ length: inFlight }, async (_, i) => {
      for (let n = i; !stop; n++) {
        try {
          await clients[n % clients.length]?.greet({ name: "load" });
          served++;
        } catch (e) {
          failed.push(Code[ConnectError.from(e).code]);
        }
      }
    });

    const propagationMs: number[] = [];
    try {
      for (let i = 0; i < revocations; i++) {
        const jti = `load-${i}`;
        await Promise.all(
          members.map((m) => {
            m.child.send({ type: "watch", jti } satisfies ToServer);
            return m.next("watching", jti);
          }),
        );
        const revokedAt = monotonicNs();
        await list.revoke({ issuer, jti });
        const seen = await within(
          Promise.all(members.map((m) => m.next("seen", jti))),
          5000,
          `revocation ${i} reaches every server`,
        );
        for (const s of seen) propagationMs.push(Number(BigInt((s as { at: string }).at) - revokedAt) / 1e6);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } finally {
      stop = true;
      await Promise.all(loops);
    }

    // Over the wire too: each server refuses a revoked token.
    const revoked = await signer.sign({ iss: issuer, aud: audience, sub: "load", scope: "greet", jti: "load-0" });
    for (const m of members) {
      const refused = await clientOf(m.url, revoked)
        .greet({})
        .then(
          () => undefined,
          (e: unknown) => readAuthFailure(ConnectError.from(e))?.metadata["detail"],
        );
      assert.equal(refused, "revoked");
    }
    await list.close();
    client.destroy();

    const sorted = [...propagationMs].sort((a, b) => a - b);
    const [p50, p99, max] = [percentile(sorted, 50), percentile(sorted, 99), sorted.at(-1) as number];
    console.log(
      `revocation propagation over ${sorted.length} (revocation, server) pairs: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${max.toFixed(2)} ms; ${served} calls served meanwhile`,
    );
    assert.equal(sorted.length, revocations * servers);
    assert.ok(p99 < 1000, `p99 ${p99} ms`);
    assert.deepEqual(failed, [], "every call of a valid token was served");
    assert.ok(served > 0);
  });
}
