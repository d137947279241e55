// createHealthService(): Check, List and Watch of grpc.health.v1 following the readiness (AND your own
// checks), through connect's in-memory router transport.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "./gen/grpc/health/v1/health_pb.js";
import { type HealthReadiness, type HealthServiceOptions, createHealthService, healthRoutes } from "./health-service.js";
import { parseReadinessHeader, readinessHeader } from "./readiness-header.js";
import { trackTimers } from "./test-support/timers.js";

const { SERVING, NOT_SERVING, SERVICE_UNKNOWN } = ServingStatus;

/** A readiness the test sets; it counts its listeners and prefetches. */
function manualReadiness(ready = false) {
  const listeners = new Set<() => void>();
  const r = {
    ready,
    prefetches: 0,
    listeners,
    status: () => ({ ready: r.ready }),
    onChange(listener: () => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async prefetch() {
      r.prefetches++;
    },
    set(next: boolean) {
      r.ready = next;
      for (const l of listeners) l();
    },
  };
  return r;
}

function healthClient(options: HealthServiceOptions) {
  return createClient(
    Health,
    createRouterTransport((router) => healthRoutes(router, options)),
  );
}

/** Reads a Watch one message at a time. */
function reader<T>(stream: AsyncIterable<T>) {
  const it = stream[Symbol.asyncIterator]();
  return async () => {
    const next = await it.next();
    assert.equal(next.done, false, "the Watch is still open");
    return next.value as T;
  };
}

describe("createHealthService", () => {
  test("misuse throws TypeError at construction", () => {
    const readiness = manualReadiness();
    assert.throws(() => createHealthService({} as never), /readiness needs status and onChange/);
    assert.throws(() => createHealthService({ readiness: { status: () => ({ ready: true }) } as never }), TypeError);
    assert.throws(() => createHealthService({ readiness, services: [""] }), /non-empty service names/);
    assert.throws(() => createHealthService({ readiness, services: ["a.v1.A", "a.v1.A"] }), /repeat/);
    assert.throws(
      () => createHealthService({ readiness, checks: { db: true as never } }),
      /checks must be an object of functions/,
    );
    assert.throws(() => createHealthService({ readiness, now: 5 as never }), /now must be a function/);
    assert.throws(() => createHealthService({ readiness, readinessHeader: "no" as never }), /readinessHeader must be a boolean/);
  });

  test("Check: NOT_SERVING until the authenticators are ready, overall and per listed service; an unknown name is NotFound", async () => {
    const readiness = manualReadiness();
    const client = healthClient({ readiness, services: ["example.v1.GreeterService"] });
    for (const service of ["", "example.v1.GreeterService"]) {
      assert.equal((await client.check({ service })).status, NOT_SERVING, service);
    }
    assert.ok(readiness.prefetches >= 1, "asked while not ready: the authenticators fetch now");
    readiness.ready = true;
    const before = readiness.prefetches;
    for (const service of ["", "example.v1.GreeterService"]) {
      assert.equal((await client.check({ service })).status, SERVING, service);
    }
    assert.equal(readiness.prefetches, before, "ready: nothing more is fetched");
    await assert.rejects(client.check({ service: "example.v1.Other" }), (e: unknown) => {
      assert.ok(e instanceof ConnectError);
      assert.equal(e.code, Code.NotFound);
      assert.ok(!e.rawMessage.includes("example.v1.Other"), "the name asked is not echoed");
      return true;
    });
  });

  test("your own checks AND the readiness: false, a throw, a rejection, an answer that is not true, or a hang fails", async () => {
    const readiness = manualReadiness(true);
    const failing: Record<string, () => boolean | Promise<boolean>> = {
      no: () => false,
      throws: () => {
        throw new Error("db down");
      },
      rejects: () => Promise.reject(new Error("db down")),
      truthy: () => 1 as never,
      hangs: () => new Promise<boolean>(() => {}),
    };
    for (const [name, check] of Object.entries(failing)) {
      let clock = 0;
      const client = healthClient({ readiness, checks: { ok: () => true, [name]: check }, now: () => (clock += 1000) });
      assert.equal((await client.check({})).status, NOT_SERVING, name);
    }
    const client = healthClient({ readiness, checks: { ok: () => true, alsoOk: async () => true } });
    assert.equal((await client.check({})).status, SERVING);
  });

  test("Check tells why in the connectauth-readiness header: each authenticator's word and each check's, fixed words only", async () => {
    const authenticators: Record<string, { ready: boolean; lastError?: string }> = {
      jwt: { ready: false, lastError: "network" },
      partner: { ready: false },
      apikey: { ready: true },
      "https://issuer.example/": { ready: false, lastError: "https://jwks.example/?key=secret" },
    };
    const readiness = { ...manualReadiness(), status: () => ({ ready: false, authenticators }) };
    const header = async (options: Partial<HealthServiceOptions> = {}) => {
      let seen: string | null = null;
      const res = await healthClient({ readiness, checks: { db: () => true, cache: () => false }, ...options }).check(
        {},
        { onHeader: (h) => (seen = h.get(readinessHeader)) },
      );
      assert.equal(res.status, NOT_SERVING);
      return seen as string | null;
    };
    const value = await header();
    assert.equal(
      value,
      "auth:jwt=network, auth:partner=not_fetched, auth:apikey=ready, auth:_=unknown, check:db=ok, check:cache=failed",
    );
    assert.ok(!value?.includes("secret") && !value?.includes("example"), "no URL, no name that is not a plain word");
    assert.deepEqual(parseReadinessHeader(value).slice(0, 2), [
      { kind: "auth", name: "jwt", word: "network" },
      { kind: "auth", name: "partner", word: "not_fetched" },
    ]);
    assert.equal(await header({ readinessHeader: false }), null, "readinessHeader: false sends none");
    let plain: string | null = "unset";
    await healthClient({ readiness: manualReadiness(true) }).check({}, { onHeader: (h) => (plain = h.get(readinessHeader)) });
    assert.equal(plain, null, "nothing to tell (no authenticator status, no check): no header");
  });

  test("parseReadinessHeader keeps the items that fit the grammar, in order, and drops the rest", () => {
    assert.deepEqual(parseReadinessHeader(null), []);
    assert.deepEqual(parseReadinessHeader(""), []);
    assert.deepEqual(parseReadinessHeader("auth:jwt=ready,check:db=failed , bogus, auth:a b=ready, auth:x=Network, other:y=ok"), [
      { kind: "auth", name: "jwt", word: "ready" },
      { kind: "check", name: "db", word: "failed" },
    ]);
  });

  test("the checks run at most once per 500 ms by the clock, shared by every call", async () => {
    let clock = 0;
    let runs = 0;
    let healthy = true;
    const client = healthClient({
      readiness: manualReadiness(true),
      checks: {
        db: () => {
          runs++;
          return healthy;
        },
      },
      now: () => clock,
    });
    await Promise.all([client.check({}), client.check({}), client.list({})]);
    assert.equal(runs, 1);
    healthy = false;
    clock = 499;
    assert.equal((await client.check({})).status, SERVING, "the answer of 499 ms ago");
    assert.equal(runs, 1);
    clock = 500;
    assert.equal((await client.check({})).status, NOT_SERVING);
    assert.equal(runs, 2);
  });

  test("List: the overall status and each listed service's", async () => {
    const readiness = manualReadiness();
    const client = healthClient({ readiness, services: ["a.v1.A", "b.v1.B"] });
    const statuses = (r: Awaited<ReturnType<typeof client.list>>) =>
      Object.fromEntries(Object.entries(r.statuses).map(([k, v]) => [k, v.status]));
    assert.deepEqual(statuses(await client.list({})), { "": NOT_SERVING, "a.v1.A": NOT_SERVING, "b.v1.B": NOT_SERVING });
    readiness.ready = true;
    assert.deepEqual(statuses(await client.list({})), { "": SERVING, "a.v1.A": SERVING, "b.v1.B": SERVING });
    const many = Array.from({ length: 100 }, (_, i) => `s${i}.v1.S`);
    await assert.rejects(healthClient({ readiness, services: many }).list({}), { code: Code.ResourceExhausted });
  });

  test("Watch: the current status, then each change (readiness events, the checks' polls); ends on abort with no timer or listener left", async () => {
    const timers = trackTimers("health-service.ts");
    try {
      const readiness = manualReadiness();
      let healthy = true;
      const client = healthClient({ readiness, checks: { db: () => healthy } });
      const abort = new AbortController();
      const next = reader(client.watch({}, { signal: abort.signal }));
      assert.equal((await next()).status, NOT_SERVING);
      assert.equal(readiness.listeners.size, 1, "the Watch follows the readiness");
      readiness.set(true);
      assert.equal((await next()).status, SERVING);
      healthy = false; // no event: the next poll of the checks sees it
      const start = performance.now();
      assert.equal((await next()).status, NOT_SERVING);
      const polledAfter = performance.now() - start;
      assert.ok(polledAfter < 1000, `seen within 1 s (${Math.round(polledAfter)} ms)`);
      assert.ok(timers.created() > 0, "the Watch polls the checks on a timer");
      abort.abort();
      await new Promise((r) => setTimeout(r, 10));
      assert.equal(readiness.listeners.size, 0, "unsubscribed once the call ended");
      assert.equal(timers.live(), 0, "no timer left behind");
    } finally {
      timers.restore();
    }
  });

  test("Watch sends nothing while the status stays the same", async () => {
    const readiness = manualReadiness();
    const client = healthClient({ readiness });
    const abort = new AbortController();
    const next = reader(client.watch({}, { signal: abort.signal }));
    assert.equal((await next()).status, NOT_SERVING);
    const second = next();
    readiness.set(false); // an event without a change of status
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    readiness.set(true);
    assert.equal((await second).status, SERVING, "the message after NOT_SERVING is the change, not a repeat");
    abort.abort();
  });

  test("Watch of an unknown service: SERVICE_UNKNOWN, and the call stays open until it is cancelled", async () => {
    const client = healthClient({ readiness: manualReadiness(true) });
    const abort = new AbortController();
    const stream = client.watch({ service: "example.v1.Nope" }, { signal: abort.signal });
    const it = stream[Symbol.asyncIterator]();
    assert.equal((await it.next()).value?.status, SERVICE_UNKNOWN);
    let ended = false;
    const rest = it.next().then(
      () => (ended = true),
      () => (ended = true),
    );
    await new Promise((r) => setImmediate(r));
    assert.equal(ended, false, "not terminated");
    abort.abort();
    await rest;
  });
});

// A readiness of createAuthReadiness fits HealthReadiness as it is.
export type _Fits = ReturnType<typeof import("./auth-readiness.js").createAuthReadiness> extends HealthReadiness ? true : never;
