// Revocation and DPoP replay across a fleet over the wire: servers on 127.0.0.1 (HTTP/2 cleartext)
// with the example's routes, each with its own createRedisRevocationList (and createRedisReplayStore)
// on one real redis-server, through node-redis and ioredis, called over Connect, gRPC and gRPC-web.
// A token revoked through one server (or `connectauth revoke`) is refused by the others within 1 s, and
// a stream it opened is ended;
// Redis stopped: REVOCATION_UNAVAILABLE (Unavailable, HTTP 503 on Connect, no challenge) once the list
// is stale in closed mode, served from the mirror in open mode; restarted: serving again within 2 s;
// and a DPoP proof used on one server is a replay on the other.
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import * as http2 from "node:http2";
import { ConnectError, type Interceptor, createClient } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { readAuthFailure } from "@connectauth/core";
import { nodeContextValues } from "@connectauth/node";
import {
  type RedisRevocationList,
  type RedisRevocationListOptions,
  createRedisReplayStore,
  createRedisRevocationList,
} from "@connectauth/node/redis";
import { type DpopOptions, createJwtAuthenticator, createMemoryReplayStore, createServerAuth } from "@connectauth/server";
import { GreeterService } from "../../packages/example/src/gen/example/v1/greeter_pb.js";
import { greeterRoutes } from "../../packages/example/src/greeter-service.js";
import { type Listening, listenOnLoopback } from "../support/listen.js";
import { type RedisClientKind, type TestConnection, connectRedis, redisClientKinds } from "../support/redis-clients.js";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";
import { runCli } from "../support/run-cli.js";
import { type TestSigner, createTestSigner } from "../support/tokens.js";
import { type Protocol, protocols } from "../support/wire.js";
import { emptyUnaryRequest, http2Post } from "./adapters/raw-wire.js";
import { type ProofKey, proofKey, signProof } from "../../packages/server/src/test-support/dpop.js";
import { transportOf } from "../support/transports.js";

const issuer = "https://issuer.test";
const audience = "greeter";
const publicOrigin = "https://api.test"; // what every server of the DPoP fleet names in htu (behind a proxy)

let redis: RedisServer;
let signer: TestSigner;
before(async () => {
  redis = await startRedisServer();
  signer = await createTestSigner("k1");
});
after(async () => {
  await redis.stop();
});

/** One server of the fleet: its URL and its own revocation list on its own Redis connection. */
interface Instance {
  readonly url: string;
  readonly list: RedisRevocationList;
}

const opened: { listening: Listening; list: RedisRevocationList; connection: TestConnection }[] = [];
afterEach(async () => {
  for (const { listening, list, connection } of opened.splice(0)) {
    await listening.close();
    await list.close();
    connection.close();
  }
});

async function startInstance(
  kind: RedisClientKind,
  prefix: string,
  list: Partial<RedisRevocationListOptions> = {},
  dpop?: (connection: TestConnection) => DpopOptions,
): Promise<Instance> {
  const connection = await connectRedis(kind, redis.url);
  const revocation = createRedisRevocationList({
    redis: connection.redis,
    keyPrefix: prefix,
    heartbeatMs: 100,
    timeoutMs: 300,
    ...list,
  });
  const auth = createServerAuth({
    authenticators: [
      createJwtAuthenticator({
        issuer,
        audience,
        algorithms: ["ES256"],
        keys: signer.jwks,
        revocation,
        dpop: dpop?.(connection),
      }),
    ],
    realm: "greeter",
  });
  const handler = connectNodeAdapter(auth.install({ routes: greeterRoutes, contextValues: nodeContextValues }));
  const listening = await listenOnLoopback(http2.createServer(handler));
  opened.push({ listening, list: revocation, connection });
  return { url: `http://${listening.hostPort}`, list: revocation };
}

/** A client of one protocol over HTTP/2 sending these headers. */
function clientOf(baseUrl: string, protocol: Protocol, headers: () => Promise<Record<string, string>>) {
  const add: Interceptor = (next) => async (req) => {
    for (const [name, value] of Object.entries(await headers())) req.header.set(name, value);
    return next(req);
  };
  return createClient(GreeterService, transportOf(baseUrl, protocol, [add]));
}

/** What a caller sees of one Greet call: "ok", or the refusal's code, reason, detail and challenge. */
type Seen = "ok" | { code: number; reason?: string; detail?: string; challenge: string | null };

async function greet(url: string, protocol: Protocol, headers: () => Promise<Record<string, string>>): Promise<Seen> {
  try {
    await clientOf(url, protocol, headers).greet({ name: "fleet" });
    return "ok";
  } catch (e) {
    const error = ConnectError.from(e);
    const failure = readAuthFailure(error);
    return {
      code: error.code,
      reason: failure?.reason,
      detail: failure?.metadata["detail"],
      challenge: error.metadata.get("www-authenticate"),
    };
  }
}
const bearer = (token: string) => async () => ({ authorization: `Bearer ${token}` });

/** Polls `probe` every 10 ms until it returns something; how long that took. Rejects after `withinMs`. */
async function until<T>(probe: () => Promise<T | undefined>, withinMs: number, what: string): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  for (;;) {
    const value = await probe();
    const ms = performance.now() - started;
    if (value !== undefined) return { value, ms };
    if (ms > withinMs) throw new Error(`not within ${withinMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const revokedSeen = { code: 16, reason: "INVALID_TOKEN", detail: "revoked" };
const tokenFor = (claims: Record<string, unknown>) => signer.sign({ iss: issuer, aud: audience, scope: "greet", ...claims });

let prefixes = 0;
const newPrefix = (kind: string) => `test:wire:${kind}:${++prefixes}:`;

for (const kind of redisClientKinds) {
  describe(`revocation across servers (${kind})`, () => {
    test("a token revoked through one server's list is refused by the other within 1 s, over every protocol", async () => {
      const prefix = newPrefix(kind);
      const a = await startInstance(kind, prefix);
      const b = await startInstance(kind, prefix);
      await Promise.all([a.list.caughtUp(), b.list.caughtUp()]);
      for (const protocol of protocols) {
        const jti = randomUUID();
        const token = await tokenFor({ sub: "alice", jti });
        const kept = await tokenFor({ sub: "alice", jti: randomUUID() });
        assert.equal(await greet(b.url, protocol, bearer(token)), "ok", "served (and cached) before the revocation");
        await a.list.revoke({ issuer, jti });
        const { value, ms } = await until(
          async () => {
            const seen = await greet(b.url, protocol, bearer(token));
            return seen === "ok" ? undefined : seen;
          },
          1000,
          `${protocol}: the other server refuses the revoked token`,
        );
        assert.ok(ms < 1000, `${protocol}: ${ms} ms`);
        assert.deepEqual({ code: value.code, reason: value.reason, detail: value.detail }, revokedSeen, protocol);
        assert.match(value.challenge ?? "", /^Bearer realm="greeter", error="invalid_token"/, protocol);
        const local = await greet(a.url, protocol, bearer(token));
        assert.equal(local !== "ok" && local.detail, "revoked", "the server it went through refuses it at once");
        assert.equal(await greet(b.url, protocol, bearer(kept)), "ok", "another token of the same subject");
      }
    });

    test("an open stream ends with INVALID_TOKEN revoked within about a second of its token's revocation, over every protocol", async () => {
      const prefix = newPrefix(kind);
      const a = await startInstance(kind, prefix);
      const b = await startInstance(kind, prefix);
      await Promise.all([a.list.caughtUp(), b.list.caughtUp()]);
      const token = await tokenFor({ sub: "streamer", iat: Math.floor(Date.now() / 1000) - 5 });
      const streams = protocols.map(async (protocol) => {
        const received: string[] = [];
        let first: () => void = () => {};
        const started = new Promise<void>((resolve) => {
          first = resolve;
        });
        const done = (async () => {
          try {
            for await (const m of clientOf(b.url, protocol, bearer(token)).greetStream({ count: 100, intervalMs: 100 })) {
              received.push(m.greeting);
              first();
            }
            return undefined;
          } catch (e) {
            return ConnectError.from(e);
          }
        })();
        await started;
        return { protocol, received, done };
      });
      const open = await Promise.all(streams);
      const revokedAt = performance.now();
      await a.list.revoke({ issuer, subject: "streamer", before: Math.floor(Date.now() / 1000) });
      for (const { protocol, received, done } of open) {
        const error = await done;
        const ms = performance.now() - revokedAt;
        assert.ok(error !== undefined, `${protocol}: the stream ended with an error`);
        const failure = readAuthFailure(error);
        assert.deepEqual([error.code, failure?.reason, failure?.metadata["detail"]], [16, "INVALID_TOKEN", "revoked"], protocol);
        assert.ok(ms < 2500, `${protocol}: ended ${ms} ms after the revocation`);
        assert.ok(received.length < 100, `${protocol}: ended before the handler finished (${received.length} messages)`);
      }
    });

    test("revoked with connectauth revoke: refused by every server within 1 s; a token issued at T or later is not", async () => {
      const prefix = newPrefix(kind);
      const fleet = [await startInstance(kind, prefix), await startInstance(kind, prefix)];
      await Promise.all(fleet.map((s) => s.list.caughtUp()));
      const t = Math.floor(Date.now() / 1000);
      const old = await tokenFor({ sub: "carol", iat: t - 10 });
      const fresh = await tokenFor({ sub: "carol", iat: t });
      for (const s of fleet) assert.equal(await greet(s.url, "connect", bearer(old)), "ok");
      const cli = await runCli([
        "revoke",
        "--redis",
        redis.url,
        "--prefix",
        prefix,
        "--issuer",
        issuer,
        "--subject",
        "carol",
        "--before",
        String(t),
      ]);
      assert.equal(cli.code, 0, cli.stderr);
      for (const s of fleet) {
        for (const protocol of protocols) {
          const { value, ms } = await until(
            async () => {
              const seen = await greet(s.url, protocol, bearer(old));
              return seen === "ok" ? undefined : seen;
            },
            1000,
            `${protocol}: refused after connectauth revoke`,
          );
          assert.ok(ms < 1000);
          assert.deepEqual({ code: value.code, reason: value.reason, detail: value.detail }, revokedSeen);
          assert.equal(await greet(s.url, protocol, bearer(fresh)), "ok", "issued at T: not before it");
        }
      }
    });

    test("Redis stopped: once stale, REVOCATION_UNAVAILABLE in closed mode (503, no challenge), the mirror in open mode; back within 2 s", async () => {
      const prefix = newPrefix(kind);
      const staleness = { stalenessSeconds: 1 };
      const closed = await startInstance(kind, prefix, { ...staleness, failMode: "closed" });
      const open = await startInstance(kind, prefix, { ...staleness, failMode: "open" });
      await Promise.all([closed.list.caughtUp(), open.list.caughtUp()]);
      const revokedJti = randomUUID();
      await closed.list.revoke({ issuer, jti: revokedJti });
      const revoked = await tokenFor({ sub: "alice", jti: revokedJti });
      const token = await tokenFor({ sub: "alice", jti: randomUUID() });
      await until(async () => ((await greet(open.url, "grpc", bearer(revoked))) === "ok" ? undefined : true), 1000, "seen");

      await redis.stop();
      try {
        const stopped = performance.now();
        const { value } = await until(
          async () => {
            const seen = await greet(closed.url, "connect", bearer(token));
            return seen === "ok" ? undefined : seen;
          },
          3000,
          "closed mode refuses once stale",
        );
        const waited = performance.now() - stopped;
        assert.ok(waited > 500, `served from the mirror until it was stale (${waited} ms)`);
        assert.deepEqual(value, { code: 14, reason: "REVOCATION_UNAVAILABLE", detail: "revocation_list", challenge: null });
        for (const protocol of protocols) {
          const seen = await greet(closed.url, protocol, bearer(token));
          assert.deepEqual(
            seen !== "ok" && [seen.code, seen.reason, seen.challenge],
            [14, "REVOCATION_UNAVAILABLE", null],
            protocol,
          );
          assert.equal(await greet(open.url, protocol, bearer(token)), "ok", `${protocol}: open mode serves from its mirror`);
          const still = await greet(open.url, protocol, bearer(revoked));
          assert.equal(still !== "ok" && still.detail, "revoked", `${protocol}: and still refuses what it holds`);
        }
        // On Connect, the HTTP status of Unavailable: 503.
        const [fields, body] = emptyUnaryRequest("connect");
        const raw = await http2Post(
          closed.url,
          `/${GreeterService.typeName}/Greet`,
          [...fields, ["authorization", `Bearer ${token}`]],
          body,
        );
        assert.equal(raw.status, 503);
        assert.equal(raw.headers.get("www-authenticate"), null);
      } finally {
        await redis.start();
      }
      const started = performance.now();
      const back = await until(
        async () => ((await greet(closed.url, "connect", bearer(token))) === "ok" ? true : undefined),
        2000,
        "serving again once Redis is back",
      );
      assert.ok(back.ms < 2000 && performance.now() - started < 2000);
      for (const protocol of protocols) {
        assert.equal(await greet(closed.url, protocol, bearer(token)), "ok", protocol);
        const still = await greet(closed.url, protocol, bearer(revoked));
        assert.equal(still !== "ok" && still.detail, "revoked", `${protocol}: the revocation survived the empty restart`);
      }
    });

    test("a DPoP proof used on one server is a replay on the other, with the Redis replay store (not with memory stores)", async () => {
      const prefix = newPrefix(kind);
      const shared = (connection: TestConnection): DpopOptions => ({
        mode: "required",
        publicOrigin,
        replayStore: createRedisReplayStore({ redis: connection.redis, keyPrefix: `${prefix}dpop:` }),
      });
      const own = (): DpopOptions => ({ mode: "required", publicOrigin, replayStore: createMemoryReplayStore() });
      const [a, b] = [await startInstance(kind, prefix, {}, shared), await startInstance(kind, prefix, {}, shared)];
      const [c, d] = [await startInstance(kind, prefix, {}, own), await startInstance(kind, prefix, {}, own)];
      const key = await proofKey();
      const token = await tokenFor({ sub: "alice", cnf: { jkt: key.jkt } });
      for (const protocol of protocols) {
        const proof = await proofFor(key, token);
        const headers = async () => ({ authorization: `DPoP ${token}`, dpop: proof });
        assert.equal(await greet(a.url, protocol, headers), "ok", protocol);
        const replayed = await greet(b.url, protocol, headers);
        assert.deepEqual(
          replayed !== "ok" && [replayed.code, replayed.reason, replayed.detail],
          [16, "INVALID_DPOP_PROOF", "jti_replay"],
          protocol,
        );
        assert.match(replayed !== "ok" ? (replayed.challenge ?? "") : "", /^DPoP /);
        // The control: servers with a store each accept the same proof once each.
        const other = await proofFor(key, token);
        const otherHeaders = async () => ({ authorization: `DPoP ${token}`, dpop: other });
        assert.equal(await greet(c.url, protocol, otherHeaders), "ok");
        assert.equal(await greet(d.url, protocol, otherHeaders), "ok", "a replay to a server with its own memory store passes");
      }
    });
  });
}

/** A DPoP proof of a Greet call at the fleet's public origin. */
function proofFor(key: ProofKey, token: string): Promise<string> {
  const htu = `${publicOrigin}/${GreeterService.typeName}/Greet`;
  return signProof(key, token, { htm: "POST", htu, iat: Math.floor(Date.now() / 1000), jti: randomUUID() });
}
