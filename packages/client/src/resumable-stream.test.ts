// resumableStream in memory (createRouterTransport): a server stream that the server ends with a token
// reason is opened again with a fresh token and the resume input; what ends it instead. Over the wire,
// against createServerAuth ending streams whose tokens expire: test/server/stream-lifetime.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { Reason, createAuthError } from "@connectauth/core";
import { GreeterService } from "./test-support/gen/test/v1/test_pb.js";
import { createAuthInterceptor } from "./auth-interceptor.js";
import { createCachedTokenSource } from "./cached-token-source.js";
import { type ResumeEvent, resumableStream } from "./resumable-stream.js";

/**
 * A server whose greetStream sends the numbers after `name` (a number, "" for 0) up to `count`, and ends
 * a stream after `budget(token)` messages with `end(token)` (default TOKEN_EXPIRED); it records each
 * attempt's token and request.
 */
function setup(options: { budget: (token: string) => number; end?: (token: string) => ConnectError }) {
  const attempts: { token: string; after: number }[] = [];
  let n = 0;
  const invalidated: (string | undefined)[] = [];
  const cached = createCachedTokenSource({ load: async () => `t${++n}` });
  // The interceptor's source and the stream's: one object.
  const source = {
    getToken: () => cached.getToken(),
    invalidate: (t?: string) => {
      invalidated.push(t);
      cached.invalidate(t);
    },
  };
  const transport = createRouterTransport(
    (router) =>
      router.service(GreeterService, {
        async *greetStream(req, ctx) {
          const token = (ctx.requestHeader.get("authorization") ?? "").replace(/^Bearer /, "");
          const after = Number(req.name || "0");
          attempts.push({ token, after });
          let budget = options.budget(token);
          for (let i = after + 1; i <= req.count; i++) {
            if (budget-- === 0) throw options.end?.(token) ?? createAuthError(Reason.TokenExpired);
            yield { greeting: String(i) };
          }
        },
      }),
    { transport: { baseUrl: "https://api.test", interceptors: [createAuthInterceptor({ token: source })] } },
  );
  const client = createClient(GreeterService, transport);
  const resumes: ResumeEvent[] = [];
  const stream = (count: number, signal?: AbortSignal) =>
    resumableStream(
      (req, o) => client.greetStream(req, o),
      { name: "", count },
      {
        token: source,
        resume: (last, first) => ({ ...first, name: last.greeting }),
        onResume: (e) => resumes.push(e),
        signal,
      },
    );
  return { stream, attempts, invalidated, resumes, loads: () => n };
}

async function drain(stream: AsyncIterable<{ greeting: string }>, into: string[] = []): Promise<string[]> {
  for await (const m of stream) into.push(m.greeting);
  return into;
}

test("a stream ended with TOKEN_EXPIRED goes on with a fresh token, from after the last message", async () => {
  const s = setup({ budget: () => 3 });
  assert.deepEqual(await drain(s.stream(10)), ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]);
  assert.deepEqual(s.attempts, [
    { token: "t1", after: 0 },
    { token: "t2", after: 3 },
    { token: "t3", after: 6 },
    { token: "t4", after: 9 },
  ]);
  assert.deepEqual(s.invalidated, ["t1", "t2", "t3"], "the token that was used, each time");
  assert.deepEqual(s.resumes, [
    { reason: "TOKEN_EXPIRED", received: 3 },
    { reason: "TOKEN_EXPIRED", received: 3 },
    { reason: "TOKEN_EXPIRED", received: 3 },
  ]);
});

test("INVALID_TOKEN (revoked) is a token reason too", async () => {
  const s = setup({
    budget: (t) => (t === "t1" ? 2 : 100),
    end: () => createAuthError(Reason.InvalidToken, { metadata: { detail: "revoked" } }),
  });
  assert.deepEqual(await drain(s.stream(4)), ["1", "2", "3", "4"]);
  assert.deepEqual(s.resumes, [{ reason: "INVALID_TOKEN", received: 2 }]);
});

test("a rejection right after a re-open, with nothing received, ends the stream with it", async () => {
  const s = setup({ budget: (t) => (t === "t1" ? 2 : 0) });
  const got: string[] = [];
  await assert.rejects(drain(s.stream(10), got), (e: unknown) => {
    assert.ok(e instanceof ConnectError);
    assert.equal(e.code, Code.Unauthenticated);
    return true;
  });
  assert.deepEqual(got, ["1", "2"]);
  // t1, t2 (re-opened, rejected at once). The interceptor's own retry (before the first message) asks
  // the same source, which gives t2 again: no third attempt.
  assert.deepEqual(
    s.attempts.map((a) => a.token),
    ["t1", "t2"],
  );
  assert.equal(s.loads(), 2);
});

test("the first attempt rejected before any message is retried once, with the first request", async () => {
  const s = setup({ budget: (t) => (t === "t1" ? 0 : 100) });
  assert.deepEqual(await drain(s.stream(3)), ["1", "2", "3"]);
  assert.deepEqual(s.attempts, [
    { token: "t1", after: 0 },
    { token: "t2", after: 0 },
  ]);
});

test("other errors pass through at once: PermissionDenied, Unavailable, the application's own", async () => {
  for (const end of [
    () => createAuthError(Reason.InsufficientScope),
    () => createAuthError(Reason.KeysUnavailable),
    () => new ConnectError("boom", Code.Internal),
  ]) {
    const s = setup({ budget: () => 1, end });
    const got: string[] = [];
    await assert.rejects(drain(s.stream(5), got), (e: unknown) => e instanceof ConnectError && e.code === end().code);
    assert.deepEqual(got, ["1"]);
    assert.equal(s.attempts.length, 1);
    assert.deepEqual(s.invalidated, []);
  }
});

test("the same token again after the invalidation ends the stream, without re-opening it", async () => {
  const attempts: string[] = [];
  let invalidations = 0;
  const source = { getToken: async () => "always", invalidate: () => void invalidations++ };
  const transport = createRouterTransport(
    (router) =>
      router.service(GreeterService, {
        async *greetStream(_req, ctx) {
          attempts.push(ctx.requestHeader.get("authorization") ?? "");
          yield { greeting: "1" };
          throw createAuthError(Reason.TokenExpired);
        },
      }),
    { transport: { baseUrl: "https://api.test", interceptors: [createAuthInterceptor({ token: source })] } },
  );
  const client = createClient(GreeterService, transport);
  const stream = resumableStream((req, o) => client.greetStream(req, o), {}, { token: source, resume: (_l, f) => f });
  await assert.rejects(drain(stream), { code: Code.Unauthenticated });
  assert.deepEqual(attempts, ["Bearer always"]);
  assert.equal(invalidations, 1);
});

test("an aborted signal ends the stream and is not resumed", async () => {
  const s = setup({ budget: () => 2 });
  const controller = new AbortController();
  const got: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const m of s.stream(10, controller.signal)) {
        got.push(m.greeting);
        if (got.length === 1) controller.abort();
      }
    })(),
  );
  assert.equal(s.attempts.length, 1);
  assert.deepEqual(s.invalidated, []);
});

test("options are checked when the stream is made", () => {
  const open = () => (async function* () {})();
  assert.throws(() => resumableStream(5 as never, {}, { token: "t", resume: (l) => l }), {
    name: "TypeError",
    message: /open must be a function/,
  });
  assert.throws(() => resumableStream(open, {}, { token: "t", resume: undefined as never }), {
    name: "TypeError",
    message: /resume must be a function/,
  });
  assert.throws(() => resumableStream(open, {}, { token: 5 as never, resume: (l) => l }), { name: "TypeError" });
  assert.throws(() => resumableStream(open, {}, { token: "t", resume: (l) => l, onResume: 1 as never }), {
    name: "TypeError",
    message: /onResume must be a function/,
  });
});
