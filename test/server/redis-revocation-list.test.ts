// The Redis revocation list on a real redis-server (127.0.0.1, a free port), through node-redis and
// ioredis: revocations of every kind propagated between instances, the catch-up of a late instance and
// of one that missed messages, a hung and a restarted Redis (stale, "unavailable" or the mirror, then
// ready again within 2 s), a flush (the mirror written back), and entries expiring in Redis too.
import { after, afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  type RedisConnection,
  type RedisRevocationEvent,
  type RedisRevocationList,
  type RedisRevocationListOptions,
  RevocationNotStoredError,
  createRedisRevocationList,
} from "@connectauth/node/redis";
import type { RevocationList, RevocationSubject } from "@connectauth/server/protocol";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";
import { redisClientKinds, redisConnections, waitFor } from "../support/redis-clients.js";

const issuer = "https://issuer.example.com/";
const token = (extra: Partial<RevocationSubject> = {}): RevocationSubject => ({ issuer, digest: "none", ...extra });
const nowS = () => Date.now() / 1000;

const server: RedisServer = await startRedisServer();
after(() => server.stop());

for (const kind of redisClientKinds) {
  describe(`redis revocation list (${kind})`, () => {
    const lists: RedisRevocationList[] = [];
    let prefixes = 0;
    let prefix = "";
    const { connect, closeAll } = redisConnections(kind, () => server.url);
    // An instance of the service: its own connection, the test's prefix, its events recorded.
    const instance = async (options: Partial<RedisRevocationListOptions> = {}) => {
      const events: RedisRevocationEvent[] = [];
      const list = createRedisRevocationList({
        redis: await connect(),
        keyPrefix: prefix,
        onEvent: (event) => events.push(event),
        heartbeatMs: 100,
        timeoutMs: 300,
        ...options,
      });
      lists.push(list);
      return { list, events };
    };
    const newPrefix = () => {
      prefix = `test:${kind}:${++prefixes}:`;
    };
    afterEach(async () => {
      for (const list of lists.splice(0)) await list.close();
      closeAll();
    });

    test("a revocation of each kind on one instance is seen by the others within 1 s", async () => {
      newPrefix();
      const instances = [await instance(), await instance(), await instance()];
      await Promise.all(instances.map(({ list }) => list.caughtUp()));
      const [a] = instances.map(({ list }) => list) as [RedisRevocationList];
      const iat = nowS() - 10;
      const cases: [Parameters<RevocationList["revoke"]>[0], RevocationSubject, RevocationSubject][] = [
        [{ issuer, jti: "j1", expiresAt: nowS() + 600 }, token({ jti: "j1" }), token({ jti: "j2" })],
        [{ issuer, digest: "d1", expiresAt: nowS() + 600 }, token({ digest: "d1" }), token({ digest: "d2" })],
        [
          { issuer, subject: "alice", before: nowS() },
          token({ subject: "alice", issuedAt: iat }),
          token({ subject: "alice", issuedAt: nowS() + 5 }),
        ],
        [
          { issuer, clientId: "app", before: nowS() },
          token({ clientId: "app", issuedAt: iat }),
          token({ clientId: "other", issuedAt: iat }),
        ],
      ];
      for (const [revocation, covered, notCovered] of cases) {
        for (const { list } of instances) assert.equal(list.check(covered), "clear");
        await a.revoke(revocation);
        assert.equal(a.check(covered), "revoked", "on the instance that revoked, at once");
        for (const { list } of instances.slice(1)) {
          await waitFor(() => list.check(covered) === "revoked", 1000, `${Object.keys(revocation)[1]} seen by another instance`);
          assert.equal(list.check(notCovered), "clear");
        }
      }
      for (const { list, events } of instances) {
        assert.equal((await list.list()).length, 4);
        assert.deepEqual(list.status(), { ready: true });
        assert.deepEqual(events, [events[0]]);
        assert.equal(events[0]?.type, "ready");
      }
    });

    test("an instance started later catches up with everything before it is ready; until then it fails closed", async () => {
      newPrefix();
      const { list: a } = await instance();
      await a.caughtUp();
      for (let i = 0; i < 300; i++) await a.revoke({ issuer, jti: `late-${i}`, expiresAt: nowS() + 600 });
      const { list: late, events } = await instance();
      assert.equal(late.check(token({ jti: "late-0" })), "unavailable", "not caught up yet: fails closed");
      assert.equal(late.status().ready, false);
      await late.caughtUp();
      for (let i = 0; i < 300; i++) assert.equal(late.check(token({ jti: `late-${i}` })), "revoked");
      assert.deepEqual(events, [{ type: "ready", revocations: 300 }]);
      const { list: open } = await instance({ failMode: "open" });
      assert.equal(open.check(token({ jti: "late-1" })), "clear", "failMode open answers from its (empty) mirror before");
    });

    test("an instance whose subscription missed a write notices the gap at the next heartbeat and catches up", async () => {
      newPrefix();
      const { list: a } = await instance();
      let dropped = 0;
      const subscriber = await connect();
      // A subscription that loses the first write published (as a cut connection would).
      const lossy: RedisConnection = {
        ...subscriber,
        subscribe: (channels, listener) =>
          subscriber.subscribe(channels, (channel, message) => {
            if (channel.endsWith("events") && dropped === 0) dropped++;
            else listener(channel, message);
          }),
      };
      const { list: b, events } = await instance({ subscriber: lossy });
      await Promise.all([a.caughtUp(), b.caughtUp()]);
      await a.revoke({ issuer, jti: "lost", expiresAt: nowS() + 600 });
      await waitFor(() => b.check(token({ jti: "lost" })) === "revoked" && b.status().ready, 2000, "the missed write, caught up");
      assert.equal(dropped, 1);
      assert.deepEqual(
        events.map((e) => e.type),
        ["ready", "fault", "ready"],
      );
      assert.deepEqual(events[1], { type: "fault", error: "gap" });
      await a.revoke({ issuer, jti: "next", expiresAt: nowS() + 600 });
      await waitFor(() => b.check(token({ jti: "next" })) === "revoked", 1000, "the next write, as usual");
    });

    test("a hung Redis: stale past stalenessSeconds, then closed answers unavailable and open the mirror; ready within 2 s of its return", async () => {
      newPrefix();
      let skew = 0;
      const now = () => Date.now() + skew;
      const closed = await instance({ now, stalenessSeconds: 30 });
      const open = await instance({ now, stalenessSeconds: 30, failMode: "open" });
      await Promise.all([closed.list.caughtUp(), open.list.caughtUp()]);
      await closed.list.revoke({ issuer, subject: "mallory", before: nowS() });
      const covered = token({ subject: "mallory", issuedAt: nowS() - 60 });
      await waitFor(() => open.list.check(covered) === "revoked", 1000, "propagated before the outage");
      server.hang();
      let resumed = false;
      try {
        await waitFor(() => !closed.list.status().ready && !open.list.status().ready, 2000, "a missed heartbeat noticed");
        assert.equal(closed.list.status().lastError, "timeout");
        assert.equal(closed.list.check(covered), "revoked", "within stalenessSeconds: the mirror answers");
        assert.equal(closed.list.check(token({ jti: "x" })), "clear");
        await assert.rejects(closed.list.revoke({ issuer, jti: "during", expiresAt: nowS() + 60 }), (error: unknown) => {
          assert.ok(error instanceof RevocationNotStoredError);
          assert.equal(error.code, "REVOCATION_NOT_STORED");
          assert.equal(error.fault, "timeout");
          return true;
        });
        assert.equal(closed.list.check(token({ jti: "during" })), "revoked", "this instance refuses it anyway");
        skew = 31_000; // 31 s later, Redis still hung
        assert.equal(closed.list.check(token({ jti: "x" })), "unavailable", "failMode closed: unavailable for every token");
        assert.equal(closed.list.check(covered), "unavailable");
        assert.equal(open.list.check(covered), "revoked", "failMode open: the mirror still answers");
        assert.equal(open.list.check(token({ jti: "x" })), "clear");
        await waitFor(() => closed.events.some((e) => e.type === "stale"), 1000, "the stale event");
        const stale = closed.events.find((e) => e.type === "stale");
        assert.equal(stale?.type === "stale" && stale.failMode, "closed");
        const status = closed.list.status();
        assert.equal(status.ready, false);
        assert.ok(status.staleSinceMs !== undefined && now() - status.staleSinceMs > 30_000);
        server.resume();
        resumed = true;
        const took = await waitFor(() => closed.list.status().ready && open.list.status().ready, 2000, "ready again");
        assert.ok(took <= 2000);
      } finally {
        if (!resumed) server.resume();
      }
      assert.equal(closed.list.check(token({ jti: "x" })), "clear");
      assert.equal(closed.list.check(covered), "revoked");
      assert.equal(closed.events.at(-1)?.type, "ready");
    });

    test("a Redis restarted empty (down, then up without its data): unavailable while down, the mirror written back, ready within 2 s", async () => {
      newPrefix();
      let skew = 0;
      const now = () => Date.now() + skew;
      const a = await instance({ now, stalenessSeconds: 5 });
      const b = await instance({ now, stalenessSeconds: 5 });
      await Promise.all([a.list.caughtUp(), b.list.caughtUp()]);
      await a.list.revoke({ issuer, jti: "kept", expiresAt: nowS() + 600 });
      await waitFor(() => b.list.check(token({ jti: "kept" })) === "revoked", 1000, "propagated");
      await server.stop();
      try {
        await waitFor(() => !a.list.status().ready && !b.list.status().ready, 2000, "the outage noticed");
        await assert.rejects(a.list.revoke({ issuer, jti: "down", expiresAt: nowS() + 60 }), RevocationNotStoredError);
        skew = 6_000;
        assert.equal(b.list.check(token({ jti: "kept" })), "unavailable");
      } finally {
        await server.start();
      }
      skew = 0;
      const took = await waitFor(() => a.list.status().ready && b.list.status().ready, 2000, "ready again after the restart");
      assert.ok(took <= 2000);
      for (const { list, events } of [a, b]) {
        assert.equal(list.check(token({ jti: "kept" })), "revoked", "a lost revocation is not forgotten");
        assert.ok(events.some((e) => e.type === "fault" && e.error === "flushed"));
        assert.ok(events.some((e) => e.type === "republished"));
      }
      const late = await instance({ now });
      await late.list.caughtUp();
      assert.equal(late.list.check(token({ jti: "kept" })), "revoked", "written back to Redis: a new instance sees it");
      assert.equal(
        late.list.check(token({ jti: "down" })),
        "revoked",
        "and so is what was revoked on one instance during the outage",
      );
    });

    test("FLUSHALL: every instance notices, writes its mirror back, and revoked tokens stay revoked everywhere", async () => {
      newPrefix();
      const a = await instance();
      const b = await instance();
      await Promise.all([a.list.caughtUp(), b.list.caughtUp()]);
      await a.list.revoke({ issuer, clientId: "leaked", before: nowS() });
      await b.list.revoke({ issuer, digest: "d-flush", expiresAt: nowS() + 600 });
      const covered = [token({ clientId: "leaked", issuedAt: nowS() - 1 }), token({ digest: "d-flush" })];
      await waitFor(
        () => covered.every((t) => a.list.check(t) === "revoked" && b.list.check(t) === "revoked"),
        1000,
        "both seen",
      );
      assert.equal(await server.command("FLUSHALL"), "+OK");
      await waitFor(
        () => [a, b].every(({ events }) => events.some((e) => e.type === "republished")) && a.list.status().ready,
        2000,
        "the flush noticed and the mirrors written back",
      );
      assert.ok(a.events.some((e) => e.type === "fault" && e.error === "flushed"));
      for (const t of covered) {
        assert.equal(a.list.check(t), "revoked");
        assert.equal(b.list.check(t), "revoked");
      }
      assert.equal(await server.command("ZCARD", `${prefix}entries`), ":2", "Redis holds them again");
      const late = await instance();
      await late.list.caughtUp();
      for (const t of covered) assert.equal(late.list.check(t), "revoked");
      await late.list.revoke({ issuer, jti: "after-flush", expiresAt: nowS() + 600 });
      await waitFor(() => a.list.check(token({ jti: "after-flush" })) === "revoked", 1000, "writes propagate after the flush");
    });

    test("entries expire in Redis too: each write and catch-up trims those whose tokens have all expired", async () => {
      newPrefix();
      let skew = 0;
      const now = () => Date.now() + skew;
      const options = { now, maxTokenLifetimeSeconds: 3600, clockToleranceSeconds: 0, stalenessSeconds: 86400 };
      const a = await instance(options);
      await a.list.caughtUp();
      await a.list.revoke({ issuer, jti: "short", expiresAt: nowS() + 60 });
      await a.list.revoke({ issuer, subject: "alice", before: nowS() });
      await a.list.revoke({ issuer, jti: "long", expiresAt: nowS() + 7200 });
      assert.equal(await server.command("ZCARD", `${prefix}entries`), ":3");
      skew = 61_000;
      assert.equal(a.list.check(token({ jti: "short" })), "clear", "expired in the mirror");
      await a.list.revoke({ issuer, jti: "another", expiresAt: nowS() + 7200 });
      assert.equal(await server.command("ZCARD", `${prefix}entries`), ":3", "trimmed by the write: short gone, another added");
      skew = 3_601_000;
      const late = await instance(options);
      await late.list.caughtUp();
      assert.equal(
        await server.command("ZCARD", `${prefix}entries`),
        ":2",
        "trimmed by the catch-up: alice's tokens have expired",
      );
      assert.deepEqual(new Set((await late.list.list()).map((r) => ("jti" in r ? r.jti : "?"))), new Set(["long", "another"]));
      assert.equal(late.list.check(token({ subject: "alice", issuedAt: 1 })), "clear");
    });

    test("status and events never carry a token, a revocation or an error's text; close stops the list", async () => {
      newPrefix();
      const a = await instance();
      await a.list.caughtUp();
      await a.list.revoke({ issuer, jti: "secret-jti", expiresAt: nowS() + 60 });
      const text = JSON.stringify([a.events, a.list.status()]);
      assert.doesNotMatch(text, /secret|issuer\.example/);
      await a.list.close();
      await assert.rejects(a.list.caughtUp(), /closed/);
      assert.equal(a.list.status().ready, false);
    });
  });
}

test("createRedisRevocationList checks its options", () => {
  const redis = { eval: async () => null, subscribe: async () => async () => {} } as unknown as RedisConnection;
  const bad: Partial<RedisRevocationListOptions>[] = [
    { redis: undefined },
    { failMode: "maybe" as never },
    { stalenessSeconds: -1 },
    { stalenessSeconds: Number.NaN },
    { heartbeatMs: 0 },
    { timeoutMs: 1.5 },
    { maxTokenLifetimeSeconds: -1 },
    { keyPrefix: 3 as never },
    { subscriber: {} as never },
  ];
  for (const options of bad) {
    assert.throws(() => createRedisRevocationList({ redis, ...options } as RedisRevocationListOptions), TypeError);
  }
});
