// Streams that end with their credential, in memory (createRouterTransport): the end's error, challenge
// and event; what turns it off; revalidate; the options' checks. Time is a fake clock where the test is
// about the decision, and the real one (a second) where it is about revalidate's ticks. Over the wire, on
// every protocol and with real 2 s tokens: test/server/stream-lifetime.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Code, type ServiceImpl, createContextValues } from "@connectrpc/connect";
import { Reason } from "@connectauth/core";
import { failure } from "../../../test/support/failure.js";
import { type Authenticator, type AuthOutcome, accepted, rejected } from "./authenticator.js";
import type { DecisionEvent } from "./decision.js";
import type { AuthIdentity } from "./identity.js";
import { type ServerAuthOptions, createServerAuth } from "./server-auth.js";
import { GreeterService, greeterClient } from "./test-support/greeter.js";
import { trackTimers } from "./test-support/timers.js";

const nowMs = 1_700_000_000_000;
const nowS = nowMs / 1000;

/**
 * Bearer (and DPoP) tokens `exp-<seconds>` (the identity's claims.exp; `exp-none` has none), subject
 * `alice`, scope `greet`, from the authenticator `timed`, with the given `revalidate`.
 */
function timedAuthenticator(revalidate?: (identity: AuthIdentity) => AuthOutcome | undefined): Authenticator {
  return {
    name: "timed",
    schemes: ["bearer", "dpop"],
    challenge: { schemes: ["Bearer", "DPoP"], dpopAlgorithms: ["ES256"] },
    async authenticate({ value }) {
      const m = /^exp-(none|\d+)$/.exec(value);
      if (m === null) return rejected(Reason.InvalidToken);
      const claims = m[1] === "none" ? {} : { exp: Number(m[1]) };
      return accepted({ subject: "alice", scopes: new Set(["greet"]), claims, authenticator: "timed" });
    },
    ...(revalidate === undefined ? {} : { revalidate }),
  };
}

/** What the handlers saw: how many greetings were sent, whether a generator's finally ran, whether its signal aborted. */
interface Seen {
  sent: number;
  finallyRan: boolean;
  aborted: boolean;
}

/** greetStream: one greeting, then one each time `step` resolves, until `count`; greetMany: the names read. */
function handlers(seen: Seen, step: () => Promise<void>, count = 1000): Partial<ServiceImpl<typeof GreeterService>> {
  return {
    async *greetStream(_req, ctx) {
      ctx.signal.addEventListener("abort", () => {
        seen.aborted = true;
      });
      try {
        for (let i = 0; i < count; i++) {
          if (i > 0) await step();
          seen.sent++;
          yield { greeting: `#${i}` };
        }
      } finally {
        seen.finallyRan = true;
      }
    },
    async greetMany(requests, ctx) {
      ctx.signal.addEventListener("abort", () => {
        seen.aborted = true;
      });
      const names: string[] = [];
      for await (const r of requests) names.push(r.name);
      return { greeting: names.join(" ") };
    },
  };
}

function setup(
  token: string,
  options: Partial<ServerAuthOptions> & { step?: () => Promise<void>; count?: number } = {},
): { client: ReturnType<typeof greeterClient>; seen: Seen; events: DecisionEvent[] } {
  const events: DecisionEvent[] = [];
  const { step = () => new Promise((r) => setTimeout(r, 5)), count, ...rest } = options;
  const auth = createServerAuth({
    authenticators: [timedAuthenticator()],
    realm: "test",
    onDecision: (e) => events.push(e),
    ...rest,
    streams: { now: () => nowMs, ...rest.streams },
  });
  const seen: Seen = { sent: 0, finallyRan: false, aborted: false };
  const client = greeterClient({
    router: auth.install({}),
    header: { authorization: token },
    impl: handlers(seen, step, count),
  });
  return { client, seen, events };
}

async function drain<T>(stream: AsyncIterable<T>, into: T[] = []): Promise<T[]> {
  for await (const m of stream) into.push(m);
  return into;
}

const waitFor = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 2));
};

/**
 * Awaits `promise` while keeping the event loop alive: the stream timers are unref'd (they never hold a
 * process), and in memory nothing else is pending while a handler waits for them.
 */
async function alive<T>(promise: Promise<T>): Promise<T> {
  let settled = false;
  const p = promise.finally(() => {
    settled = true;
  });
  await waitFor(() => settled);
  return p;
}

test("a server stream whose token expired (by the server's clock) ends with TOKEN_EXPIRED, after what was sent", async () => {
  // exp + 30 s tolerance is 1 s ago by the fake clock: the stream ends at once.
  const { client, seen, events } = setup(`Bearer exp-${nowS - 31}`);
  const got: unknown[] = [];
  const f = await failure(drain(client.greetStream({}), got));
  assert.equal(f.code, Code.Unauthenticated);
  assert.equal(f.failure?.reason, "TOKEN_EXPIRED");
  assert.equal(f.failure?.metadata["detail"], "exp");
  assert.equal(f.failure?.metadata["authenticator"], "timed");
  assert.equal(f.wwwAuthenticate, 'Bearer realm="test", error="invalid_token"');
  assert.ok(got.length >= 1 && got.length < 1000, `got ${got.length} messages before the end`);
  await waitFor(() => seen.finallyRan);
  assert.equal(seen.aborted, true, "the handler's signal aborts");
  // Two events: the admission, then the end.
  assert.deepEqual(
    events.map((e) => [e.allowed, e.reason, e.detail, e.subject, e.authenticator]),
    [
      [true, undefined, undefined, "alice", "timed"],
      [false, "TOKEN_EXPIRED", "exp", "alice", "timed"],
    ],
  );
  assert.equal(events[1]!.durationMs, 0);
  assert.equal(events[1]!.tokenHash, events[0]!.tokenHash);
  assert.equal(events[1]!.code, Code.Unauthenticated);
});

test("the tolerance and the grace come after exp; a token within them is not ended", async () => {
  // exp was 20 s ago: within the default 30 s tolerance, the stream runs to its end.
  const within = setup(`Bearer exp-${nowS - 20}`, { count: 5 });
  assert.equal((await drain(within.client.greetStream({}))).length, 5);
  // With a tolerance of 0 the same stream ends; with a grace of 25 s on top, it does not.
  const ended = setup(`Bearer exp-${nowS - 20}`, { streams: { clockToleranceSeconds: 0 } });
  assert.equal((await failure(drain(ended.client.greetStream({})))).failure?.reason, "TOKEN_EXPIRED");
  const graced = setup(`Bearer exp-${nowS - 20}`, { count: 5, streams: { clockToleranceSeconds: 0, graceSeconds: 25 } });
  assert.equal((await drain(graced.client.greetStream({}))).length, 5);
});

test("a DPoP call's stream ends with a DPoP challenge", async () => {
  const { client } = setup(`DPoP exp-${nowS - 31}`);
  const f = await failure(drain(client.greetStream({})));
  assert.equal(f.failure?.reason, "TOKEN_EXPIRED");
  assert.equal(f.wwwAuthenticate, 'DPoP realm="test", error="invalid_token", algs="ES256"');
});

test("a client stream ends with TOKEN_EXPIRED while the handler reads it", async () => {
  const { client, seen } = setup(`Bearer exp-${nowS - 31}`);
  let sent = 0;
  async function* names() {
    for (;;) {
      sent++;
      yield { name: `n${sent}` };
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  const f = await failure(client.greetMany(names()));
  assert.equal(f.failure?.reason, "TOKEN_EXPIRED");
  assert.ok(sent >= 1);
  assert.equal(seen.aborted, true);
});

test("not ended: a token without exp, endOnExpiry false, a method or service in keepOpen, a unary call", async () => {
  const expired = `Bearer exp-${nowS - 3600}`;
  const cases: [string, Partial<ServerAuthOptions>][] = [
    ["Bearer exp-none", {}],
    [expired, { streams: { endOnExpiry: false } }],
    [expired, { streams: { keepOpen: ["test.v1.GreeterService/GreetStream"] } }],
    [expired, { streams: { keepOpen: ["test.v1.GreeterService"] } }],
  ];
  for (const [token, options] of cases) {
    const { client, events } = setup(token, { ...options, count: 20 });
    assert.equal((await drain(client.greetStream({}))).length, 20, JSON.stringify(options));
    assert.deepEqual(
      events.map((e) => e.allowed),
      [true],
    );
  }
  // Unary calls are judged once, when they come: never ended.
  const { client } = setup(expired);
  assert.equal((await client.greet({ name: "x" })).greeting, "hi x from alice");
});

test("a revalidate rejection ends the stream with it, within about a second; keepOpen does not keep it", async () => {
  let revoked = false;
  let asked = 0;
  const revalidate = () => {
    asked++;
    return revoked ? rejected(Reason.InvalidToken, { detail: "revoked", message: "revoked" }) : undefined;
  };
  const events: DecisionEvent[] = [];
  const auth = createServerAuth({
    authenticators: [timedAuthenticator(revalidate)],
    onDecision: (e) => events.push(e),
    streams: { keepOpen: ["test.v1.GreeterService"] },
  });
  const seen: Seen = { sent: 0, finallyRan: false, aborted: false };
  let tick: () => void = () => {};
  const client = greeterClient({
    router: auth.install({}),
    header: { authorization: "Bearer exp-none" },
    impl: handlers(seen, () => new Promise((r) => (tick = r as () => void))),
  });
  const got: unknown[] = [];
  const done = failure(drain(client.greetStream({}), got));
  await waitFor(() => got.length === 1);
  await waitFor(() => asked >= 1); // the first look, about a second in: the identity still holds
  assert.equal(seen.finallyRan, false);
  tick();
  await waitFor(() => got.length === 2);
  revoked = true;
  const f = await alive(done);
  assert.equal(f.code, Code.Unauthenticated);
  assert.equal(f.failure?.reason, "INVALID_TOKEN");
  assert.equal(f.failure?.metadata["detail"], "revoked");
  assert.equal(f.failure?.metadata["authenticator"], "timed");
  assert.equal(got.length, 2);
  assert.equal(seen.aborted, true);
  assert.deepEqual(
    events.map((e) => [e.allowed, e.reason, e.detail]),
    [
      [true, undefined, undefined],
      [false, "INVALID_TOKEN", "revoked"],
    ],
  );
  // The handler was waiting on its step, which never comes: closed, it runs its finally at the next yield.
  tick();
  await waitFor(() => seen.finallyRan);
});

test("revalidate fails closed: a throw, or an answer that is not an outcome, ends the stream as Internal", async () => {
  for (const revalidate of [
    () => {
      throw new Error("secret-token-text");
    },
    () => "yes" as unknown as AuthOutcome,
  ]) {
    const auth = createServerAuth({ authenticators: [timedAuthenticator(revalidate)] });
    const seen: Seen = { sent: 0, finallyRan: false, aborted: false };
    const client = greeterClient({
      router: auth.install({}),
      header: { authorization: "Bearer exp-none" },
      impl: handlers(seen, () => new Promise((r) => setTimeout(r, 20))),
    });
    const f = await alive(failure(drain(client.greetStream({}))));
    assert.equal(f.code, Code.Internal);
    assert.equal(f.failure, undefined);
    assert.ok(!f.error.rawMessage.includes("secret-token-text"));
  }
});

test("no timer is left behind: not by streams that end, fail, are ended or are cancelled", async () => {
  const timers = trackTimers();
  const quick = setup(`Bearer exp-${nowS + 3600}`, { count: 3, step: async () => {} });
  for (let i = 0; i < 20; i++) assert.equal((await drain(quick.client.greetStream({}))).length, 3);
  const ended = setup(`Bearer exp-${nowS - 31}`, { step: () => new Promise((r) => setTimeout(r, 1)) });
  for (let i = 0; i < 20; i++) await failure(drain(ended.client.greetStream({})));
  // Cancelled by the client after one message.
  const long = setup(`Bearer exp-${nowS + 3600}`, { step: () => new Promise((r) => setTimeout(r, 1)) });
  for (let i = 0; i < 20; i++) {
    const controller = new AbortController();
    const it = long.client.greetStream({}, { signal: controller.signal })[Symbol.asyncIterator]();
    await it.next();
    controller.abort();
    await assert.rejects(it.next());
  }
  try {
    await new Promise((r) => setTimeout(r, 30)); // the handlers' own 1 ms pauses
    assert.equal(timers.live(), 0);
  } finally {
    timers.restore();
  }
});

test("options are checked at construction", () => {
  const authenticators = [timedAuthenticator()];
  const bad: [ServerAuthOptions["streams"], RegExp][] = [
    [{ clockToleranceSeconds: -1 }, /streams\.clockToleranceSeconds/],
    [{ graceSeconds: Number.NaN }, /streams\.graceSeconds/],
    [{ endOnExpiry: "no" as unknown as boolean }, /streams\.endOnExpiry/],
    [{ now: 5 as unknown as () => number }, /streams\.now/],
    [{ keepOpen: ["not a name"] }, /streams\.keepOpen/],
    [{ keepOpen: "test.v1.GreeterService" as unknown as string[] }, /streams\.keepOpen/],
  ];
  for (const [streams, message] of bad) {
    assert.throws(() => createServerAuth({ authenticators, streams }), { name: "TypeError", message });
  }
  // Against the listed services, when there are some.
  assert.throws(
    () =>
      createServerAuth({
        authenticators,
        authorization: { services: [GreeterService] },
        streams: { keepOpen: ["test.v1.GreeterService/Nope"] },
      }),
    { name: "TypeError", message: /"test\.v1\.GreeterService\/Nope", which is no method or service/ },
  );
  createServerAuth({
    authenticators,
    authorization: { services: [GreeterService] },
    streams: { keepOpen: ["test.v1.GreeterService/GreetStream"] },
  });
  // A hook that is not a function.
  assert.throws(
    () => createServerAuth({ authenticators: [{ ...timedAuthenticator(), revalidate: 1 as unknown as () => undefined }] }),
    { name: "TypeError", message: /revalidate of authenticator "timed" must be a function/ },
  );
});

test("context values carry no identity across calls: each stream watches its own", async () => {
  // Two streams, one expired and one not, through one server: only the expired one ends.
  const auth = createServerAuth({ authenticators: [timedAuthenticator()], streams: { now: () => nowMs } });
  const seen: Seen = { sent: 0, finallyRan: false, aborted: false };
  const client = (token: string) =>
    greeterClient({
      router: auth.install({}),
      header: { authorization: token },
      impl: handlers(seen, () => new Promise((r) => setTimeout(r, 5)), 10),
    });
  const [ok, ended] = await Promise.allSettled([
    drain(client(`Bearer exp-${nowS + 60}`).greetStream({}, { contextValues: createContextValues() })),
    drain(client(`Bearer exp-${nowS - 60}`).greetStream({})),
  ]);
  assert.equal(ok.status === "fulfilled" && ok.value.length, 10);
  assert.equal(ended.status, "rejected");
});

test("a stream whose rule reads the request, and a server with the interceptor alone, end all the same", async () => {
  for (const router of ["install", "interceptor"] as const) {
    const events: DecisionEvent[] = [];
    const auth = createServerAuth({
      authenticators: [timedAuthenticator()],
      authorization: {
        services: [GreeterService],
        rules: { "test.v1.GreeterService/GreetMany": { allScopes: ["greet"], condition: 'request.name != "stop"' } },
      },
      onDecision: (e) => events.push(e),
      onWarning: () => {},
      streams: { now: () => nowMs },
    });
    const seen: Seen = { sent: 0, finallyRan: false, aborted: false };
    const client = greeterClient({
      router: router === "install" ? auth.install({}) : { interceptors: [auth.interceptor] },
      header: { authorization: `Bearer exp-${nowS - 31}` },
      impl: handlers(seen, async () => {}),
    });
    async function* names() {
      for (let i = 0; ; i++) {
        yield { name: `n${i}` };
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    const f = await failure(client.greetMany(names()));
    assert.equal(f.failure?.reason, "TOKEN_EXPIRED", router);
    // The admission's event waits for the condition's last message, so it may come after the end's.
    await waitFor(() => events.length === 2);
    assert.deepEqual(
      events.map((e) => [e.allowed, e.reason]).sort(([a], [b]) => Number(b) - Number(a)),
      [
        [true, undefined],
        [false, "TOKEN_EXPIRED"],
      ],
      router,
    );
  }
});
