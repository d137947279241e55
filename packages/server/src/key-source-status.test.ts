// keySourceStatusOf(): what a key source tells of its keys (ready, age, the last fault's word, the next
// fetch), its prefetch, and its change events with the background fetch while watched and down, against
// key servers on 127.0.0.1.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { JWTVerifyGetKey } from "jose";
import { type KeyServer, type KeyServerMode, startKeyServer } from "../../../test/support/key-server.js";
import { type TestSigner, createTestSigner } from "../../../test/support/tokens.js";
import type { AuthenticatorStatus } from "./auth-readiness.js";
import { discoveryKeySource } from "./discovery-key-source.js";
import { resolveKeySource } from "./key-source.js";
import { type KeySourceStatus, combineKeySourceStatus, keySourceStatusOf } from "./key-source-status.js";
import { remoteKeySource } from "./remote-key-source.js";
import { trackTimers } from "./test-support/timers.js";

const closers: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

async function keyServer(): Promise<{ keys: KeyServer; signer: TestSigner }> {
  const signer = await createTestSigner("k1");
  const keys = await startKeyServer(signer.jwks);
  closers.push(() => keys.close());
  return { keys, signer };
}

// failureBackoff 0 and a clock of the test's: every prefetch fetches, and ages are exact.
const remote = { allowInsecureLoopback: true, failureBackoff: 0, timeoutDuration: 300, cacheMaxAge: 60_000 };

function statusOf(getKey: JWTVerifyGetKey): KeySourceStatus {
  const status = keySourceStatusOf(getKey);
  assert.ok(status !== undefined, "our key sources report a status");
  closers.push(() => status.close());
  return status;
}

const keyFor = async (getKey: JWTVerifyGetKey, kid: string) => getKey({ alg: "ES256", kid }, { payload: "", signature: "" });

describe("the status of a key source", () => {
  test("keys held in memory are always ready; your own lookup has no status", async () => {
    const { signer } = await keyServer();
    for (const keys of [signer.jwks, signer.publicKey, signer.jwks.keys[0]!, new Uint8Array(32).fill(7)]) {
      const status = keySourceStatusOf(resolveKeySource(keys, {}, "t").getKey);
      assert.deepEqual(status?.status(), { ready: true });
    }
    const own: JWTVerifyGetKey = async () => signer.publicKey;
    assert.equal(keySourceStatusOf(resolveKeySource(own, {}, "t").getKey), undefined);
  });

  test("a JWKS URL: not ready before any fetch; prefetch fetches once, then reports the keys' age and next fetch", async () => {
    const { keys } = await keyServer();
    let clock = 10_000;
    const getKey = remoteKeySource(keys.jwksUrl, remote, { what: "test", now: () => clock });
    const status = statusOf(getKey);
    assert.deepEqual(status.status(), { ready: false });
    assert.equal(keys.requests.jwks, 0, "nothing is fetched until asked");
    await status.prefetch();
    assert.equal(keys.requests.jwks, 1);
    clock += 250;
    assert.deepEqual(status.status(), { ready: true, keysAgeMs: 250, nextFetchAtMs: 70_000 });
    await status.prefetch();
    await keyFor(getKey, "k1");
    assert.equal(keys.requests.jwks, 1, "ready and up: prefetch fetches nothing, and the lookup uses the keys fetched");
  });

  test("lastError is a fixed word for each way a JWKS fetch fails, never a URL", async () => {
    const { keys } = await keyServer();
    const getKey = remoteKeySource(keys.jwksUrl, { ...remote, timeoutDuration: 100 }, { what: "test" });
    const status = statusOf(getKey);
    const words: Record<KeyServerMode, string> = {
      "500": "http_status",
      drop: "network",
      "not-json": "invalid_jwks",
      "bad-jwks": "invalid_jwks",
      slow: "timeout",
      ok: "",
    };
    keys.slowMs = 1000;
    for (const mode of ["500", "drop", "not-json", "bad-jwks", "slow"] as const) {
      keys.mode = mode;
      await status.prefetch();
      const s = status.status();
      assert.equal(s.ready, false, mode);
      assert.equal(s.lastError, words[mode], mode);
      assert.ok(!JSON.stringify(s).includes("127.0.0.1"), "no URL in the status");
    }
    keys.mode = "ok";
    keys.jwks = { keys: [] };
    await status.prefetch();
    assert.deepEqual(
      { ready: status.status().ready, lastError: status.status().lastError },
      { ready: false, lastError: "no_keys" },
      "a valid set without keys is not ready",
    );
    keys.jwks = (await createTestSigner("k2")).jwks;
    await status.prefetch();
    assert.equal(status.status().ready, true);
    assert.equal(status.status().lastError, undefined, "a fetch that succeeds clears the last error");
  });

  test("discovery: its request's failures are timeout and network, a document that does not fit is discovery", async () => {
    const { keys } = await keyServer();
    const getKey = discoveryKeySource(keys.url, { ...remote, timeoutDuration: 100 }, { what: "test" });
    const status = statusOf(getKey);
    const cases: [KeyServerMode, string | undefined, string][] = [
      ["drop", undefined, "network"],
      ["slow", undefined, "timeout"],
      ["500", undefined, "discovery"],
      ["not-json", undefined, "discovery"],
      ["ok", "https://another.example", "discovery"],
    ];
    keys.slowMs = 1000;
    for (const [mode, discoveredIssuer, word] of cases) {
      keys.mode = mode;
      keys.discoveredIssuer = discoveredIssuer;
      await status.prefetch();
      assert.equal(status.status().lastError, word, `${mode} ${discoveredIssuer ?? ""}`);
      assert.equal(status.status().ready, false);
    }
    keys.discoveredIssuer = undefined;
    await status.prefetch();
    assert.deepEqual([status.status().ready, status.status().lastError], [true, undefined]);
  });

  test("an outage with keys fetched before stays ready, with the fault's word; the backoff holds for prefetch too", async () => {
    const { keys } = await keyServer();
    let clock = 0;
    const outage = { ...remote, failureBackoff: 1000, cooldownDuration: 0 }; // an unknown kid fetches at once
    const getKey = remoteKeySource(keys.jwksUrl, outage, { what: "test", now: () => clock });
    const status = statusOf(getKey);
    await status.prefetch();
    keys.mode = "500";
    await assert.rejects(keyFor(getKey, "rotated"), { code: "KEYS_UNAVAILABLE" }, "an unknown kid fetches, and fails");
    assert.equal(keys.requests.jwks, 2);
    assert.deepEqual(status.status(), { ready: true, keysAgeMs: 0, lastError: "http_status", nextFetchAtMs: 1000 });
    keys.mode = "ok";
    clock = 999;
    await status.prefetch();
    assert.equal(keys.requests.jwks, 2, "no fetch within the backoff");
    assert.equal(status.status().lastError, "http_status");
    clock = 1000;
    await status.prefetch();
    assert.equal(keys.requests.jwks, 3);
    assert.deepEqual(status.status(), { ready: true, keysAgeMs: 0, nextFetchAtMs: 61_000 });
  });

  test("concurrent prefetches share one fetch", async () => {
    const { keys } = await keyServer();
    const status = statusOf(remoteKeySource(keys.jwksUrl, remote, { what: "test" }));
    await Promise.all([status.prefetch(), status.prefetch(), status.prefetch()]);
    assert.equal(keys.requests.jwks, 1);
  });
});

/** A JWKS server on 127.0.0.1 that can be turned off (every connection dropped) and on, and logs when each request came. */
async function switchableJwks(jwks: object) {
  const sockets = new Set<Socket>();
  const requestTimes: number[] = [];
  let up = false;
  const server = http.createServer((req, res) => {
    requestTimes.push(performance.now());
    if (!up) {
      req.socket.destroy();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks));
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return {
    url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`),
    requestTimes,
    set up(value: boolean) {
      up = value;
    },
  };
}

/** The next status a listener is told, or a failure after `withinMs`. */
function nextChange(status: KeySourceStatus, withinMs: number): Promise<{ status: AuthenticatorStatus; afterMs: number }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no change within ${withinMs} ms`));
    }, withinMs);
    const stop = status.onChange((s) => {
      clearTimeout(timer);
      stop();
      resolve({ status: s, afterMs: performance.now() - start });
    });
  });
}

describe("change events, and the background fetch while watched and down", () => {
  test("a watched source that is down fetches again at most once per failureBackoff, and is ready within 1 s of the keys coming back", async () => {
    const { jwks } = await createTestSigner("k1");
    const server = await switchableJwks(jwks);
    const failureBackoff = 300;
    const getKey = remoteKeySource(server.url, { ...remote, failureBackoff }, { what: "test" });
    const status = statusOf(getKey);
    // Watching a source never fetched fetches it at once: down, the listener hears "network".
    const down = await nextChange(status, 1000);
    assert.deepEqual([down.status.ready, down.status.lastError], [false, "network"]);
    const watching = status.onChange(() => {});
    closers.push(watching);
    await new Promise((r) => setTimeout(r, 3 * failureBackoff + 50));
    const gaps = server.requestTimes.slice(1).map((t, i) => t - server.requestTimes[i]!);
    assert.ok(gaps.length >= 2, `retried in the background (${gaps.length} gaps)`);
    assert.ok(
      gaps.every((g) => g >= failureBackoff - 5),
      `at most one fetch per failureBackoff: ${gaps.map(Math.round)}`,
    );

    server.up = true;
    const back = await nextChange(status, 1000);
    assert.equal(back.status.ready, true);
    assert.equal(back.status.lastError, undefined);
    const requests = server.requestTimes.length;
    await status.prefetch();
    assert.equal(server.requestTimes.length, requests, "up again: prefetch fetches nothing");
    console.log(`# ready ${Math.round(back.afterMs)} ms after the keys came back (failureBackoff ${failureBackoff})`);
  });

  test("unwatched or closed: no timer is left behind, no fetch happens", async () => {
    const timers = trackTimers("key-source-status.ts");
    try {
      const { jwks } = await createTestSigner("k1");
      const server = await switchableJwks(jwks);
      const status = statusOf(remoteKeySource(server.url, { ...remote, failureBackoff: 300 }, { what: "test" }));
      await nextChange(status, 1000); // watched once (the helper unsubscribes): fetched, down
      await status.prefetch(); // within the backoff: waits for that fetch to end, fetches nothing
      assert.equal(server.requestTimes.length, 1);
      const stop = status.onChange(() => {});
      assert.equal(timers.live(), 1, "a background fetch is due while watched");
      stop();
      assert.equal(timers.live(), 0, "unwatched: the timer is cleared");
      status.onChange(() => {});
      assert.equal(timers.live(), 1);
      status.close();
      assert.equal(timers.live(), 0, "closed: the timer is cleared");
      status.onChange(() => {});
      assert.equal(timers.live(), 0, "closed: no background fetch any more");
    } finally {
      timers.restore();
    }
  });

  test("one status over several sources: ready when all are, the first fault, events from each", async () => {
    const a = await keyServer();
    const b = await keyServer();
    const sa = statusOf(remoteKeySource(a.keys.jwksUrl, remote, { what: "test" }));
    const sb = statusOf(remoteKeySource(b.keys.jwksUrl, remote, { what: "test" }));
    const both = combineKeySourceStatus([sa, sb]);
    b.keys.mode = "500";
    await both.prefetch();
    assert.deepEqual([both.status().ready, both.status().lastError], [false, "http_status"]);
    b.keys.mode = "ok";
    const heard: boolean[] = [];
    const stop = both.onChange((s) => heard.push(s.ready));
    await sb.prefetch();
    stop();
    assert.deepEqual(heard, [true]);
    assert.equal(both.status().ready, true);
    assert.equal(combineKeySourceStatus([sa]), sa);
  });
});
