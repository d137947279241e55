// The retry after a token rejection, in memory (createRouterTransport): which calls are retried, how often,
// with which token, and what events say.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { Reason, createAuthError, tokenHash } from "@connectauth/core";
import { GreeterService } from "./test-support/gen/test/v1/test_pb.js";
import { createAuthInterceptor, type AuthInterceptorOptions } from "./auth-interceptor.js";
import { createCachedTokenSource } from "./cached-token-source.js";
import { withCallToken } from "./call-token.js";
import { readAuthFailure } from "./index.js";
import type { ClientAuthEvent } from "./client-auth-event.js";

/** A server that rejects the tokens in `rejected` with `reason`, and records every token it saw. */
function setup(options: Partial<AuthInterceptorOptions> & { rejected?: Set<string>; reason?: Reason }) {
  const seen: string[] = [];
  const rejected = options.rejected ?? new Set<string>();
  const check = (header: Headers) => {
    const token = (header.get("authorization") ?? "").replace(/^Bearer /, "");
    seen.push(token);
    if (rejected.has(token)) throw createAuthError(options.reason ?? Reason.TokenExpired, { realm: "t" });
  };
  const events: ClientAuthEvent[] = [];
  const transport = createRouterTransport(
    (router) =>
      router.service(GreeterService, {
        greet: (req, ctx) => {
          check(ctx.requestHeader);
          return { greeting: `hi ${req.name}` };
        },
        async *greetStream(req, ctx) {
          check(ctx.requestHeader);
          for (let i = 1; i <= req.count; i++) {
            yield { greeting: `${i}` };
            if (req.name === "fail-after-first") throw createAuthError(Reason.TokenExpired);
          }
        },
        async greetMany(reqs, ctx) {
          check(ctx.requestHeader);
          let n = 0;
          for await (const _ of reqs) n++;
          return { greeting: `${n}` };
        },
      }),
    {
      transport: {
        baseUrl: "https://api.test",
        interceptors: [createAuthInterceptor({ token: "unused", onEvent: (e) => events.push(e), ...options })],
      },
    },
  );
  return { client: createClient(GreeterService, transport), seen, events };
}

/** A caching source whose loads answer t1, t2, t3…, counting them. */
function counting() {
  let n = 0;
  const source = createCachedTokenSource({ load: async () => `t${++n}` });
  return { source, loads: () => n };
}

test("unary: a rejected token is invalidated, a new one fetched, the call retried once and it succeeds", async () => {
  const { source, loads } = counting();
  const { client, seen, events } = setup({ token: source, rejected: new Set(["t1"]) });
  assert.equal((await client.greet({ name: "a" })).greeting, "hi a");
  assert.deepEqual(seen, ["t1", "t2"]);
  assert.equal(loads(), 2);
  // The interceptor's onEvent also sees the caching source's refreshes (through observe).
  assert.deepEqual(
    events.map((e) => (e.type === "refresh" ? { type: e.type, ok: e.ok, trigger: e.trigger, tokenHash: e.tokenHash } : e)),
    [
      { type: "refresh", ok: true, trigger: "initial", tokenHash: await tokenHash("t1") },
      { type: "refresh", ok: true, trigger: "invalidated", tokenHash: await tokenHash("t2") },
      { type: "retry", procedure: "/test.v1.GreeterService/Greet", reason: "TOKEN_EXPIRED", tokenHash: await tokenHash("t1") },
    ],
  );
  assert.ok(!JSON.stringify(events).includes('"t1"') && !JSON.stringify(events).includes('"t2"'), "never a token");
  await client.greet({});
  assert.deepEqual(seen, ["t1", "t2", "t2"], "the new token is cached");
});

test("500 concurrent calls rejected with the same token cause one refresh, and all succeed on retry", async () => {
  const { source, loads } = counting();
  const { client, seen } = setup({ token: source, rejected: new Set(["t1"]) });
  const results = await Promise.all(Array.from({ length: 500 }, (_, i) => client.greet({ name: `${i}` })));
  assert.deepEqual(
    results.map((r) => r.greeting),
    Array.from({ length: 500 }, (_, i) => `hi ${i}`),
  );
  assert.equal(loads(), 2, "t1, then exactly one refresh to t2");
  assert.equal(seen.filter((t) => t === "t1").length, 500);
  assert.equal(seen.filter((t) => t === "t2").length, 500);
});

test("never loops: a server that rejects every token sees exactly two attempts", async () => {
  const { source } = counting();
  const { client, seen, events } = setup({ token: source, rejected: new Set(["t1", "t2", "t3", "t4"]) });
  await assert.rejects(client.greet({}), (e: unknown) => readAuthFailure(e)?.reason === "TOKEN_EXPIRED");
  assert.deepEqual(seen, ["t1", "t2"]);
  assert.equal(events.filter((e) => e.type === "retry").length, 1);
});

test("not retried: PermissionDenied, Unavailable, missing credentials, or the same token again", async () => {
  for (const reason of [Reason.InsufficientScope, Reason.KeysUnavailable, Reason.MissingCredentials]) {
    const { source } = counting();
    const { client, seen } = setup({ token: source, rejected: new Set(["t1"]), reason });
    await assert.rejects(client.greet({}));
    assert.deepEqual(seen, ["t1"], reason);
  }
  const { client, seen } = setup({ token: "static", rejected: new Set(["static"]) });
  await assert.rejects(client.greet({}), (e: unknown) => ConnectError.from(e).code === Code.Unauthenticated);
  assert.deepEqual(seen, ["static"], "a source that cannot give another token is not retried");
  const off = setup({ token: counting().source, rejected: new Set(["t1"]), retryOnTokenRejection: false });
  await assert.rejects(off.client.greet({}));
  assert.deepEqual(off.seen, ["t1"], "retry can be switched off");
});

test("server streaming: retried when rejected before the first message, not after", async () => {
  const { source } = counting();
  const { client, seen } = setup({ token: source, rejected: new Set(["t1"]) });
  const got: string[] = [];
  for await (const m of client.greetStream({ name: "x", count: 3 })) got.push(m.greeting);
  assert.deepEqual(got, ["1", "2", "3"]);
  assert.deepEqual(seen, ["t1", "t2"]);

  const after = setup({ token: counting().source });
  const partial: string[] = [];
  await assert.rejects(async () => {
    for await (const m of after.client.greetStream({ name: "fail-after-first", count: 3 })) partial.push(m.greeting);
  });
  assert.deepEqual(partial, ["1"]);
  assert.deepEqual(after.seen, ["t1"], "a stream that already delivered a message is not retried");
});

test("client streaming is never retried", async () => {
  const { source } = counting();
  const { client, seen } = setup({ token: source, rejected: new Set(["t1"]) });
  async function* names() {
    yield { name: "a" };
    yield { name: "b" };
  }
  await assert.rejects(client.greetMany(names()), (e: unknown) => readAuthFailure(e)?.action === "sign_in");
  assert.deepEqual(seen, ["t1"]);
});

test("per call: withCallToken overrides the interceptor's token, and is retried the same way", async () => {
  const { source } = counting();
  const other = createCachedTokenSource({
    load: (() => {
      let n = 0;
      return async () => `other-${++n}`;
    })(),
  });
  const { client, seen } = setup({ token: source, rejected: new Set(["other-1"]) });
  await client.greet({}, { contextValues: withCallToken(other) });
  await client.greet({}, { contextValues: withCallToken("literal") });
  await client.greet({});
  assert.deepEqual(seen, ["other-1", "other-2", "literal", "t1"]);
});

test("a failing token source: Unavailable TOKEN_UNAVAILABLE with the cause's code only, and a refusal event", async () => {
  const { client, seen, events } = setup({
    token: async () => {
      throw Object.assign(new Error("401 from issuer, body: client_secret=hunter2"), {
        code: "OAUTH_RESPONSE_BODY_ERROR",
        error: "invalid_client",
      });
    },
  });
  const error = await client.greet({}).then(
    () => assert.fail("expected a failure"),
    (e: unknown) => ConnectError.from(e),
  );
  assert.equal(error.code, Code.Unavailable);
  const failure = readAuthFailure(error);
  assert.equal(failure?.reason, "TOKEN_UNAVAILABLE");
  assert.equal(failure?.action, "try_later");
  assert.equal(failure?.metadata["cause"], "OAUTH_RESPONSE_BODY_ERROR invalid_client");
  assert.ok(!error.message.includes("hunter2") && error.cause === undefined);
  assert.deepEqual(seen, []);
  assert.deepEqual(events, [{ type: "refusal", procedure: "/test.v1.GreeterService/Greet", reason: "TOKEN_UNAVAILABLE" }]);
});

test("the retry: a refreshed token that is not a token68 is not sent (TOKEN_UNAVAILABLE, malformed_token), nor quoted", async () => {
  for (const fresh of ["secret\r\nx-injected: 1", "secret token", ""]) {
    // A source of the app's own: t1, and after the rejection invalidates it, the malformed value.
    let current = "t1";
    const source = {
      getToken: async () => current,
      invalidate: () => {
        current = fresh;
      },
    };
    const { client, seen, events } = setup({ token: source, rejected: new Set(["t1"]) });
    const calls: [string, () => Promise<unknown>][] = [
      ["Greet", () => client.greet({})],
      [
        "GreetStream",
        async () => {
          for await (const _ of client.greetStream({ count: 1 }));
        },
      ],
    ];
    for (const [method, call] of calls) {
      seen.length = 0;
      events.length = 0;
      current = "t1";
      const error = await call().then(
        () => assert.fail("expected a failure"),
        (e: unknown) => ConnectError.from(e),
      );
      assert.equal(error.code, Code.Unavailable);
      assert.equal(readAuthFailure(error)?.reason, "TOKEN_UNAVAILABLE");
      assert.equal(readAuthFailure(error)?.metadata["detail"], "malformed_token");
      assert.ok(
        !JSON.stringify([error.message, String(error.cause), [...error.metadata]]).includes("secret"),
        JSON.stringify(fresh),
      );
      assert.deepEqual(seen, ["t1"], "the first attempt only: the malformed token was never sent");
      assert.deepEqual(
        events.filter((e) => e.type !== "refresh"),
        [{ type: "refusal", procedure: `/test.v1.GreeterService/${method}`, reason: "TOKEN_UNAVAILABLE" }],
        "a refusal and no retry event",
      );
    }
  }
});
