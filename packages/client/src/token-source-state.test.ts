import { test } from "node:test";
import assert from "node:assert/strict";
import { createCachedTokenSource } from "./cached-token-source.js";
import type { TokenSourceState } from "./token-source.js";

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** A load answering `tok-N` valid 300 s, held until released, failing while `fail` is set. */
function loader() {
  let n = 0;
  let release: () => void = () => undefined;
  let gate: Promise<void> = Promise.resolve();
  const l = {
    fail: false,
    get count() {
      return n;
    },
    hold() {
      gate = new Promise((r) => (release = r));
    },
    release: () => release(),
    load: async () => {
      n++;
      await gate;
      if (l.fail) throw Object.assign(new Error("issuer down: body quotes tok-secret"), { code: "ECONNREFUSED" });
      return { token: `tok-${n}`, expiresIn: 300 };
    },
  };
  return l;
}

const tick = () => new Promise((r) => setTimeout(r, 0));

test("state: empty, then refreshing while the first load runs, then fresh with the token's expiry", async () => {
  const c = clock();
  const l = loader();
  const source = createCachedTokenSource({ load: l.load, now: c.now, jitterMs: 0 });
  const seen: TokenSourceState[] = [];
  source.onStateChange((s) => seen.push(s));
  assert.deepEqual(source.state(), { status: "empty" });
  l.hold();
  const got = source.getToken();
  assert.deepEqual(source.state(), { status: "refreshing" });
  l.release();
  assert.equal(await got, "tok-1");
  assert.deepEqual(source.state(), { status: "fresh", expiresAt: 1_300_000 });
  assert.deepEqual(seen, [{ status: "refreshing" }, { status: "fresh", expiresAt: 1_300_000 }]);
});

test("state: fresh, then expiring when due, refreshing (the held token's expiry kept) and fresh again", async () => {
  const c = clock();
  const l = loader();
  const source = createCachedTokenSource({ load: l.load, now: c.now, jitterMs: 0, refreshBeforeMs: 60_000 });
  await source.getToken();
  const seen: string[] = [];
  source.onStateChange((s) => seen.push(s.status));
  c.advance(240_000);
  assert.deepEqual(source.state(), { status: "expiring", expiresAt: 1_300_000 }, "due: time alone, no event");
  assert.deepEqual(seen, []);
  l.hold();
  assert.equal(await source.getToken(), "tok-1");
  assert.deepEqual(source.state(), { status: "refreshing", expiresAt: 1_300_000 });
  l.release();
  await tick();
  assert.deepEqual(source.state(), { status: "fresh", expiresAt: 1_540_000 });
  assert.deepEqual(seen, ["refreshing", "fresh"], "one event per change");
});

test("state: a failing load is failing with its code and the next try, never the token or the message; then recovers", async () => {
  const c = clock();
  const l = loader();
  const source = createCachedTokenSource({ load: l.load, now: c.now, backoffMs: 1_000, jitterMs: 0 });
  await source.getToken();
  const seen: TokenSourceState[] = [];
  source.onStateChange((s) => seen.push(s));
  l.fail = true;
  source.invalidate("tok-1");
  await assert.rejects(source.getToken(), /issuer down/);
  const failing = { status: "failing", reason: "ECONNREFUSED", retryAt: 1_001_000 };
  assert.deepEqual(source.state(), failing);
  await assert.rejects(source.getToken(), /issuer down/);
  assert.deepEqual(source.state(), failing, "within the back-off: still failing, same next try");
  c.advance(1_000);
  await assert.rejects(source.getToken());
  assert.deepEqual(source.state(), { status: "failing", reason: "ECONNREFUSED", retryAt: 1_003_000 }, "doubled");
  c.advance(2_000);
  l.fail = false;
  assert.equal(await source.getToken(), "tok-4");
  assert.deepEqual(source.state(), { status: "fresh", expiresAt: 1_303_000 });
  assert.deepEqual(
    seen.map((s) => s.status),
    ["empty", "refreshing", "failing", "refreshing", "failing", "refreshing", "fresh"],
  );
  const text = JSON.stringify([seen, source.state()]);
  assert.ok(!text.includes("tok-"), "no token (nor the message that quotes one) in any state");
  assert.ok(!text.includes("issuer down"));
});

test("state: a failed background refresh is failing while the held token still serves", async () => {
  const c = clock();
  const l = loader();
  const source = createCachedTokenSource({ load: l.load, now: c.now, jitterMs: 0, backoffMs: 500 });
  await source.getToken();
  c.advance(250_000);
  l.fail = true;
  assert.equal(await source.getToken(), "tok-1");
  await tick();
  assert.deepEqual(source.state(), { status: "failing", expiresAt: 1_300_000, reason: "ECONNREFUSED", retryAt: 1_250_500 });
});

test("onStateChange: the returned function removes the listener; a listener that throws is ignored", async () => {
  const l = loader();
  const source = createCachedTokenSource({ load: l.load });
  const seen: string[] = [];
  source.onStateChange(() => {
    throw new Error("listener bug");
  });
  const off = source.onStateChange((s) => seen.push(s.status));
  assert.equal(await source.getToken(), "tok-1");
  off();
  source.invalidate();
  assert.equal(await source.getToken(), "tok-2");
  assert.deepEqual(seen, ["refreshing", "fresh"]);
  assert.equal(source.state().status, "fresh");
});
