// createAuthReadiness(): every source's status, ready() that waits (and times out with AUTH_NOT_READY),
// change events, with hand-made sources and with a remote JWKS on 127.0.0.1 that goes down and up.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startKeyServer } from "../../../test/support/key-server.js";
import { createTestSigner } from "../../../test/support/tokens.js";
import { type AuthenticatorStatus, AuthNotReadyError, type ReadinessSource, createAuthReadiness } from "./auth-readiness.js";
import { keySourceStatusOf } from "./key-source-status.js";
import { remoteKeySource } from "./remote-key-source.js";

const closers: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

/** A source whose status the test sets; it tells its listeners, and counts its prefetches. */
function manualSource(name: string, initial: AuthenticatorStatus = { ready: false }, withEvents = true) {
  let current = initial;
  const listeners = new Set<() => void>();
  const source = {
    name,
    prefetches: 0,
    status: () => current,
    prefetch: async () => {
      source.prefetches++;
    },
    set(next: AuthenticatorStatus) {
      current = next;
      for (const l of listeners) l();
    },
    listeners,
    ...(withEvents
      ? {
          onChange(listener: () => void) {
            listeners.add(listener);
            return () => listeners.delete(listener);
          },
        }
      : {}),
  };
  return source;
}

describe("createAuthReadiness", () => {
  test("misuse throws TypeError at construction", () => {
    const ok = { name: "jwt", status: () => ({ ready: true }) };
    assert.throws(() => createAuthReadiness("jwt" as never), TypeError);
    assert.throws(() => createAuthReadiness([{ ...ok, name: "" }]), /non-empty name/);
    assert.throws(() => createAuthReadiness([ok, ok]), /two sources are named "jwt"/);
    assert.throws(() => createAuthReadiness([{ name: "jwt" } as never]), /status function/);
    assert.throws(() => createAuthReadiness([{ ...ok, onChange: 1 } as never]), /onChange of source "jwt"/);
    assert.doesNotThrow(() => createAuthReadiness([]));
  });

  test("status(): ready when every source is; by name; a throw or a lastError that is not a fixed word fails closed", () => {
    const readiness = createAuthReadiness([
      { name: "jwt", status: () => ({ ready: true, keysAgeMs: 5, nextFetchAtMs: 600_005 }) },
      { name: "partner", status: () => ({ ready: false, lastError: "https://keys.example/jwks?secret=s3cr3t" }) },
      {
        name: "broken",
        status: () => {
          throw new Error("https://keys.example/?token=abc");
        },
      },
      { name: "truthy", status: () => ({ ready: "yes" }) as never },
    ]);
    const s = readiness.status();
    assert.equal(s.ready, false);
    assert.deepEqual(s.authenticators, {
      jwt: { ready: true, keysAgeMs: 5, nextFetchAtMs: 600_005 },
      partner: { ready: false, lastError: "unknown" },
      broken: { ready: false, lastError: "status_failed" },
      truthy: { ready: false },
    });
    assert.ok(!JSON.stringify(s).includes("secret") && !JSON.stringify(s).includes("token"));
    assert.deepEqual(createAuthReadiness([]).status(), { ready: true, authenticators: {} });
  });

  test("ready() resolves at once when ready, and once every source is after a change", async () => {
    const a = manualSource("a", { ready: true });
    await createAuthReadiness([a]).ready({ timeoutMs: 0 });
    const b = manualSource("b");
    const c = manualSource("c");
    const readiness = createAuthReadiness([a, b, c]);
    let settled = false;
    const waiting = readiness.ready({ timeoutMs: 5000 }).then(() => {
      settled = true;
    });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual([a.prefetches, b.prefetches, c.prefetches], [0, 1, 1], "the sources that are not ready are asked to fetch");
    b.set({ ready: true });
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, false, "c is not ready yet");
    c.set({ ready: true });
    await waiting;
    assert.equal(b.listeners.size + c.listeners.size, 0, "unsubscribed once settled");
  });

  test("ready() rejects after timeoutMs with AUTH_NOT_READY, naming the sources and their last error's word", async () => {
    const readiness = createAuthReadiness([
      manualSource("jwt", { ready: false, lastError: "timeout" }),
      manualSource("ok", { ready: true }),
      manualSource("partner"),
    ]);
    const error = await readiness.ready({ timeoutMs: 20 }).then(
      () => assert.fail("expected AUTH_NOT_READY"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof AuthNotReadyError);
    assert.equal(error.code, "AUTH_NOT_READY");
    assert.equal(error.message, "authenticators not ready after 20 ms: jwt (timeout), partner (not fetched yet)");
    assert.deepEqual(error.authenticators, [
      { name: "jwt", lastError: "timeout" },
      { name: "partner", lastError: undefined },
    ]);
    await assert.rejects(readiness.ready({ timeoutMs: -1 }), TypeError);
    const stop = new AbortController();
    const aborted = readiness.ready({ timeoutMs: 60_000, signal: stop.signal });
    stop.abort(new Error("shutting down"));
    await assert.rejects(aborted, /shutting down/);
  });

  test("a source without onChange is polled", async () => {
    let ready = false;
    const readiness = createAuthReadiness([{ name: "quiet", status: () => ({ ready }) }]);
    const waiting = readiness.ready({ timeoutMs: 2000 });
    await new Promise((r) => setImmediate(r));
    ready = true; // tells no one: only a poll sees it
    await waiting;
  });

  test("onChange(): told when a source becomes ready or not or its last error changes, not for the keys' age", async () => {
    const jwt = manualSource("jwt");
    const readiness = createAuthReadiness([jwt]);
    const heard: [boolean, string | undefined][] = [];
    const stop = readiness.onChange((s) => heard.push([s.ready, s.authenticators["jwt"]?.lastError]));
    jwt.set({ ready: false, lastError: "network" });
    jwt.set({ ready: false, lastError: "network", nextFetchAtMs: 1000 });
    jwt.set({ ready: true, keysAgeMs: 0 });
    jwt.set({ ready: true, keysAgeMs: 10 });
    jwt.set({ ready: true, lastError: "http_status" });
    stop();
    jwt.set({ ready: false });
    assert.deepEqual(heard, [
      [false, "network"],
      [true, undefined],
      [true, "http_status"],
    ]);
    assert.equal(jwt.listeners.size, 0);
  });

  test("prefetch(): asks only the sources that are not ready, and ignores their rejections", async () => {
    const up = manualSource("up", { ready: true });
    const down = manualSource("down");
    const failing = { name: "failing", status: () => ({ ready: false }), prefetch: () => Promise.reject(new Error("boom")) };
    await createAuthReadiness([up, down, failing]).prefetch();
    assert.deepEqual([up.prefetches, down.prefetches], [0, 1]);
  });
});

describe("readiness over a remote JWKS", () => {
  test("not ready while the key server is down (AUTH_NOT_READY with its word), ready within 1 s of it coming back", async () => {
    const signer = await createTestSigner("k1");
    const keys = await startKeyServer(signer.jwks);
    closers.push(() => keys.close());
    const getKey = remoteKeySource(keys.jwksUrl, { allowInsecureLoopback: true, failureBackoff: 200 }, { what: "test" });
    const status = keySourceStatusOf(getKey)!;
    closers.push(() => status.close());
    const source: ReadinessSource = { name: "jwt", ...status };
    const readiness = createAuthReadiness([source]);

    keys.mode = "500";
    await assert.rejects(readiness.ready({ timeoutMs: 300 }), {
      code: "AUTH_NOT_READY",
      message: "authenticators not ready after 300 ms: jwt (http_status)",
    });
    assert.ok(keys.requests.jwks >= 1 && keys.requests.jwks <= 3, `fetched, at most once per backoff: ${keys.requests.jwks}`);
    assert.deepEqual([readiness.status().ready, readiness.status().authenticators["jwt"]?.lastError], [false, "http_status"]);

    const heard: boolean[] = [];
    const stop = readiness.onChange((s) => heard.push(s.ready));
    keys.mode = "ok";
    const start = performance.now();
    await readiness.ready({ timeoutMs: 1000 });
    const ms = performance.now() - start;
    stop();
    assert.equal(readiness.status().ready, true);
    assert.deepEqual(heard, [true], "the watcher heard it come back");
    console.log(`# ready ${Math.round(ms)} ms after the key server came back (failureBackoff 200)`);
  });
});
