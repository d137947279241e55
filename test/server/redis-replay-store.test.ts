// The DPoP replay store on a real redis-server (127.0.0.1, a free port), through node-redis and ioredis:
// one SET NX PX per proof, shared by instances, expiring with the proof, and refusing to answer (a
// rejection, so the proof is refused) when Redis is hung or down.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type RedisConnection, ReplayStoreUnavailableError, createRedisReplayStore } from "@connectauth/node/redis";
import type { ReplayStore } from "@connectauth/server";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";
import { redisClientKinds, redisConnections } from "../support/redis-clients.js";

const server: RedisServer = await startRedisServer();
after(() => server.stop());

for (const kind of redisClientKinds) {
  describe(`redis replay store (${kind})`, () => {
    const { connect, closeAll } = redisConnections(kind, () => server.url);
    after(closeAll);
    const prefix = `test:${kind}:`;

    test("a key is new once: then a replay, on this instance and on another", async () => {
      const one: ReplayStore = createRedisReplayStore({ redis: await connect(), keyPrefix: prefix });
      const two: ReplayStore = createRedisReplayStore({ redis: await connect(), keyPrefix: prefix });
      const expiresAtMs = Date.now() + 60_000;
      assert.equal(await one.add("iss\njkt\nproof-1", expiresAtMs), true);
      assert.equal(await one.add("iss\njkt\nproof-1", expiresAtMs), false);
      assert.equal(await two.add("iss\njkt\nproof-1", expiresAtMs), false, "the other instance sees it");
      assert.equal(await two.add("iss\njkt\nproof-2", expiresAtMs), true);
      assert.equal(await server.command("EXISTS", `${prefix}iss\njkt\nproof-1`), ":1", "stored under the prefix");
    });

    test("of many instances given the same proof at once, exactly one is told it is new", async () => {
      const stores = await Promise.all(
        Array.from({ length: 4 }, async () => createRedisReplayStore({ redis: await connect(), keyPrefix: prefix })),
      );
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) => stores[i % stores.length]!.add("race", Date.now() + 60_000)),
      );
      assert.equal(answers.filter(Boolean).length, 1);
    });

    test("the key expires in Redis with the proof: its TTL is expiresAtMs from now, then it is new again", async () => {
      let clock = 1_000_000;
      const store = createRedisReplayStore({ redis: await connect(), keyPrefix: prefix, now: () => clock });
      assert.equal(await store.add("ttl", clock + 30_000), true);
      const pttl = Number((await server.command("PTTL", `${prefix}ttl`)).slice(1));
      assert.ok(pttl > 29_000 && pttl <= 30_000, `PTTL ${pttl}`);
      assert.equal(await store.add("short", clock + 1), true, "a TTL of 1 ms");
      clock += 60_000;
      assert.equal(await store.add("past", clock - 5_000), true, "an expired proof still gets a TTL (1 ms), never none");
      let again = false;
      for (let i = 0; i < 200 && !again; i++) {
        again = await store.add("short", clock + 60_000);
        if (!again) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      assert.equal(again, true, "new again once expired");
      assert.notEqual(await server.command("PTTL", `${prefix}past`), ":-1", "never stored without expiry");
    });

    test("a hung Redis: add rejects with REPLAY_STORE_UNAVAILABLE (timeout) within timeoutMs; answers again after", async () => {
      const store = createRedisReplayStore({ redis: await connect(), keyPrefix: prefix, timeoutMs: 150 });
      assert.equal(await store.add("before-hang", Date.now() + 60_000), true);
      server.hang();
      try {
        await assert.rejects(store.add("during-hang", Date.now() + 60_000), (error: unknown) => {
          assert.ok(error instanceof ReplayStoreUnavailableError);
          assert.equal(error.code, "REPLAY_STORE_UNAVAILABLE");
          assert.equal(error.fault, "timeout");
          assert.equal(error.cause, undefined);
          return true;
        });
      } finally {
        server.resume();
      }
      assert.equal(await store.add("before-hang", Date.now() + 60_000), false, "what it held is kept");
    });

    test("a Redis error rejects with REPLAY_STORE_UNAVAILABLE (error), never true", async () => {
      const failing: RedisConnection = {
        ...(await connect()),
        set: async () => {
          throw new Error("WRONGTYPE with redis://user:secret@host");
        },
      };
      const store = createRedisReplayStore({ redis: failing });
      await assert.rejects(store.add("k", Date.now() + 1000), (error: unknown) => {
        assert.ok(error instanceof ReplayStoreUnavailableError);
        assert.equal(error.fault, "error");
        assert.doesNotMatch(`${error.message} ${String(error.cause)}`, /secret/);
        return true;
      });
    });
  });
}

test("createRedisReplayStore checks its options", () => {
  const redis = { set: async () => "OK" } as unknown as RedisConnection;
  assert.throws(() => createRedisReplayStore({} as never), TypeError);
  assert.throws(() => createRedisReplayStore({ redis, timeoutMs: 0 }), TypeError);
  assert.throws(() => createRedisReplayStore({ redis, timeoutMs: 1.5 }), TypeError);
  assert.throws(() => createRedisReplayStore({ redis, keyPrefix: 1 as never }), TypeError);
});
