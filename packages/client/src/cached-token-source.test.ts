import { test } from "node:test";
import assert from "node:assert/strict";
import { createCachedTokenSource, errorCode } from "./cached-token-source.js";
import type { ClientAuthEvent } from "./client-auth-event.js";
import { clock, loader } from "./test-support/token-loader.js";

test("caches until due, then refreshes in the background while calls keep the current token", async () => {
  const c = clock();
  const l = loader(300);
  const source = createCachedTokenSource({ load: l.load, now: c.now, refreshBeforeMs: 60_000, jitterMs: 0 });
  assert.equal(await source.getToken(), "tok-1");
  c.advance(239_000);
  assert.equal(await source.getToken(), "tok-1");
  assert.equal(l.count, 1, "not due yet: no load");
  c.advance(2_000); // 59 s before expiry: due
  l.hold();
  assert.equal(await source.getToken(), "tok-1", "the current token while the refresh runs");
  assert.equal(await source.getToken(), "tok-1");
  assert.equal(l.count, 2, "one background refresh");
  l.release();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(await source.getToken(), "tok-2");
});

test("500 concurrent calls on an expired token cause exactly one load, and all get the new token", async () => {
  const c = clock();
  const l = loader(60);
  const source = createCachedTokenSource({ load: l.load, now: c.now });
  await source.getToken();
  c.advance(61_000);
  l.hold();
  const all = Array.from({ length: 500 }, () => source.getToken());
  l.release();
  const tokens = await Promise.all(all);
  assert.equal(l.count, 2);
  assert.ok(tokens.every((t) => t === "tok-2"));
});

test("jitter moves the refresh time within its bound, from the injected random()", async () => {
  for (const [random, dueAfter] of [
    [0, 240_000],
    [0.999, 235_005],
  ] as const) {
    const c = clock();
    const l = loader(300);
    const source = createCachedTokenSource({ load: l.load, now: c.now, random: () => random, jitterMs: 5_000 });
    await source.getToken();
    c.advance(dueAfter - 1);
    await source.getToken();
    assert.equal(l.count, 1, `random ${random}: not due at ${dueAfter - 1}`);
    c.advance(1);
    await source.getToken();
    assert.equal(l.count, 2, `random ${random}: due at ${dueAfter}`);
  }
});

test("short-lived tokens: the margin is capped at half the lifetime", async () => {
  const c = clock();
  const l = loader(10);
  const source = createCachedTokenSource({ load: l.load, now: c.now, jitterMs: 0 });
  await source.getToken();
  c.advance(4_999);
  await source.getToken();
  assert.equal(l.count, 1);
  c.advance(1);
  await source.getToken();
  assert.equal(l.count, 2);
});

test("a failed load backs off (doubling, capped) instead of hammering the issuer", async () => {
  const c = clock();
  let n = 0;
  let fail = true;
  const events: ClientAuthEvent[] = [];
  const source = createCachedTokenSource({
    load: async () => {
      n++;
      if (fail) throw Object.assign(new Error("issuer down: secret-ish body"), { code: "ECONNREFUSED" });
      return "ok-token";
    },
    now: c.now,
    backoffMs: 1_000,
    maxBackoffMs: 3_000,
    onEvent: (e) => events.push(e),
  });
  await assert.rejects(source.getToken(), /issuer down/);
  await assert.rejects(source.getToken(), /issuer down/);
  assert.equal(n, 1, "within the back-off: no new load");
  c.advance(1_000);
  await assert.rejects(source.getToken());
  assert.equal(n, 2);
  c.advance(1_999);
  await assert.rejects(source.getToken());
  assert.equal(n, 2, "second back-off is 2 s");
  c.advance(1);
  await assert.rejects(source.getToken());
  c.advance(3_000); // capped at 3 s (would be 4 s)
  fail = false;
  assert.equal(await source.getToken(), "ok-token");
  assert.equal(n, 4);
  assert.deepEqual(
    events.map((e) => e.type === "refresh" && [e.ok, e.error]),
    [
      [false, "ECONNREFUSED"],
      [false, "ECONNREFUSED"],
      [false, "ECONNREFUSED"],
      [true, undefined],
    ],
  );
  assert.ok(!JSON.stringify(events).includes("ok-token"), "events never hold the token");
  const ok = events[3];
  assert.ok(ok?.type === "refresh" && /^[0-9a-f]{8}$/.test(ok.tokenHash ?? ""));
});

test("invalidate(rejected) forgets only that token; many invalidations of it cause one load", async () => {
  const c = clock();
  const l = loader(300);
  const source = createCachedTokenSource({ load: l.load, now: c.now });
  const first = await source.getToken();
  source.invalidate("some-older-token");
  assert.equal(await source.getToken(), first, "another token's invalidation changes nothing");
  const waits = Array.from({ length: 50 }, () => {
    source.invalidate(first);
    return source.getToken();
  });
  assert.deepEqual(new Set(await Promise.all(waits)), new Set(["tok-2"]));
  assert.equal(l.count, 2);
  source.invalidate();
  assert.equal(await source.getToken(), "tok-3");
});

test("a token without expiry is kept until invalidated; a load that throws synchronously still settles", async () => {
  let n = 0;
  const source = createCachedTokenSource({ load: async () => `static-${++n}` });
  assert.equal(await source.getToken(), "static-1");
  assert.equal(await source.getToken(), "static-1");
  const broken = createCachedTokenSource({
    load: (() => {
      throw new Error("sync");
    }) as never,
  });
  await assert.rejects(broken.getToken(), /sync/);
});

test("bad options fail at creation", () => {
  assert.throws(() => createCachedTokenSource({} as never), TypeError);
  assert.throws(() => createCachedTokenSource({ load: async () => "t", jitterMs: -1 }), TypeError);
});

test("errorCode names an error by a short word only, never by free text a loader put in it", () => {
  const secret = "eyJhbGciOiJFUzI1NiJ9.c2VjcmV0.c2ln";
  assert.equal(errorCode(Object.assign(new Error(secret), { code: `${secret} leaked` })), "Error");
  assert.equal(errorCode(Object.assign(new Error("x"), { code: "ECONNREFUSED" })), "ECONNREFUSED");
  assert.equal(
    errorCode(Object.assign(new Error("x"), { code: "OAUTH_RESPONSE_BODY_ERROR", error: "invalid_client" })),
    "OAUTH_RESPONSE_BODY_ERROR invalid_client",
  );
  assert.equal(errorCode(Object.assign(new Error("x"), { code: "E", error: "bad value with spaces" })), "E");
  assert.equal(errorCode("a string"), "unknown");
});
