import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { GreeterService } from "./test-support/gen/test/v1/test_pb.js";
import { createAuthInterceptor } from "./auth-interceptor.js";
import { createCachedTokenSource } from "./cached-token-source.js";
import { type TokenSourceState, tokenSourceStateOf, watchTokenSource } from "./token-source-state.js";
import { clock, loader } from "./test-support/token-loader.js";

const tick = () => new Promise((r) => setTimeout(r, 0));

function watched(source: Parameters<typeof watchTokenSource>[0]) {
  const view = watchTokenSource(source);
  assert.ok(view !== undefined, "a caching source has a state");
  const seen: TokenSourceState[] = [];
  view.onStateChange((s) => seen.push(s));
  return { view, seen };
}

test("state: empty, then refreshing while the first load runs, then fresh with the token's expiry", async () => {
  const c = clock();
  const l = loader();
  const source = createCachedTokenSource({ load: l.load, now: c.now, jitterMs: 0 });
  const { view, seen } = watched(source);
  assert.deepEqual(view.state(), { status: "empty" });
  l.hold();
  const got = source.getToken();
  assert.deepEqual(view.state(), { status: "refreshing" });
  l.release();
  assert.equal(await got, "tok-1");
  assert.deepEqual(view.state(), { status: "fresh", expiresAt: 1_300_000 });
  assert.deepEqual(seen, [{ status: "refreshing" }, { status: "fresh", expiresAt: 1_300_000 }]);
});

test("state: the change is told before the calls waiting on the load go on", async () => {
  const l = loader();
  const source = createCachedTokenSource({ load: l.load });
  const { seen } = watched(source);
  await source.getToken();
  assert.deepEqual(
    seen.map((s) => s.status),
    ["refreshing", "fresh"],
  );
});

test("state: a background refresh keeps the held token's expiry while refreshing, then fresh again; one event per change", async () => {
  const c = clock();
  const l = loader();
  const source = createCachedTokenSource({ load: l.load, now: c.now, jitterMs: 0, refreshBeforeMs: 60_000 });
  await source.getToken();
  const { view, seen } = watched(source);
  assert.deepEqual(view.state(), { status: "fresh", expiresAt: 1_300_000 }, "a watch sees the state it comes to");
  c.advance(240_000);
  assert.equal(seen.length, 0, "time alone changes nothing");
  l.hold();
  assert.equal(await source.getToken(), "tok-1");
  assert.equal(await source.getToken(), "tok-1", "a second call during the refresh");
  assert.deepEqual(view.state(), { status: "refreshing", expiresAt: 1_300_000 });
  l.release();
  await tick();
  assert.deepEqual(view.state(), { status: "fresh", expiresAt: 1_540_000 });
  assert.deepEqual(
    seen.map((s) => s.status),
    ["refreshing", "fresh"],
    "one event per change",
  );
});

test("state: failing with TOKEN_UNAVAILABLE, the failure's code and the next try; never the token or the message; then recovers", async () => {
  const c = clock();
  const l = loader();
  const source = createCachedTokenSource({ load: l.load, now: c.now, backoffMs: 1_000, jitterMs: 0 });
  await source.getToken();
  const { view, seen } = watched(source);
  l.fail = true;
  source.invalidate("tok-1");
  assert.deepEqual(view.state(), { status: "empty" }, "an invalidation drops the token");
  await assert.rejects(source.getToken(), /issuer down/);
  const failing = { status: "failing", reason: "TOKEN_UNAVAILABLE", cause: "ECONNREFUSED", retryAt: 1_001_000 };
  assert.deepEqual(view.state(), failing);
  await assert.rejects(source.getToken(), /issuer down/);
  assert.deepEqual(view.state(), failing, "within the back-off: still failing, same next try");
  c.advance(1_000);
  await assert.rejects(source.getToken());
  assert.deepEqual(view.state(), { ...failing, retryAt: 1_003_000 }, "the back-off doubled");
  c.advance(2_000);
  l.fail = false;
  assert.equal(await source.getToken(), "tok-4");
  assert.deepEqual(view.state(), { status: "fresh", expiresAt: 1_303_000 });
  assert.deepEqual(
    seen.map((s) => s.status),
    ["empty", "refreshing", "failing", "refreshing", "failing", "refreshing", "fresh"],
  );
  const text = JSON.stringify([seen, view.state()]);
  assert.ok(!text.includes("tok-"), "no token (nor the message that quotes one) in any state");
  assert.ok(!text.includes("issuer down"));
});

test("state: a failed background refresh is failing while the held token still serves", async () => {
  const c = clock();
  const l = loader();
  const source = createCachedTokenSource({ load: l.load, now: c.now, jitterMs: 0, backoffMs: 500 });
  await source.getToken();
  const { view } = watched(source);
  c.advance(250_000);
  l.fail = true;
  assert.equal(await source.getToken(), "tok-1");
  await tick();
  assert.deepEqual(view.state(), {
    status: "failing",
    reason: "TOKEN_UNAVAILABLE",
    cause: "ECONNREFUSED",
    retryAt: 1_250_500,
    expiresAt: 1_300_000,
  });
});

test("onStateChange: the returned function removes the listener; a listener that throws is ignored", async () => {
  const l = loader();
  const source = createCachedTokenSource({ load: l.load });
  const view = watchTokenSource(source);
  assert.ok(view !== undefined);
  const seen: string[] = [];
  view.onStateChange(() => {
    throw new Error("listener bug");
  });
  const off = view.onStateChange((s) => seen.push(s.status));
  assert.equal(await source.getToken(), "tok-1");
  off();
  source.invalidate();
  assert.equal(await source.getToken(), "tok-2");
  assert.deepEqual(seen, ["refreshing", "fresh"]);
  assert.equal(view.state().status, "fresh");
});

test("watchTokenSource: one view per source; none for a source without state", () => {
  const source = createCachedTokenSource({ load: async () => "t" });
  assert.equal(watchTokenSource(source), watchTokenSource(source));
  assert.equal(watchTokenSource({ getToken: async () => "t" }), undefined);
  assert.throws(
    () => watchTokenSource(Object.freeze(createCachedTokenSource({ load: async () => "t" }))),
    TypeError,
    "a frozen source cannot be watched",
  );
});

test("tokenSourceStateOf: the state of the interceptor's source as its calls change it; none for other interceptors or stateless tokens", async () => {
  const l = loader();
  const source = createCachedTokenSource({ load: l.load });
  const auth = createAuthInterceptor({ token: source });
  const view = tokenSourceStateOf(auth);
  assert.ok(view !== undefined);
  assert.deepEqual(Object.keys(view).sort(), ["onStateChange", "state"], "read only: no getToken");
  const seen: string[] = [];
  view.onStateChange((s) => seen.push(s.status));
  const transport = createRouterTransport((router) => router.service(GreeterService, { greet: () => ({}), ping: () => ({}) }), {
    transport: { baseUrl: "https://api.test", interceptors: [auth] },
  });
  await createClient(GreeterService, transport).greet({});
  assert.deepEqual(seen, ["refreshing", "fresh"]);
  assert.equal(tokenSourceStateOf(createAuthInterceptor({ token: "static-token" })), undefined);
  assert.equal(tokenSourceStateOf(createAuthInterceptor({ token: () => "fn-token" })), undefined);
  assert.equal(
    tokenSourceStateOf((next) => next),
    undefined,
  );
});
