import { test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, type Interceptor, createClient, createRouterTransport } from "@connectrpc/connect";
import { GreeterService } from "../../example/src/gen/example/v1/greeter_pb.js";
import { type Authenticator, accepted, rejected } from "./authenticator.js";
import { tokenHash } from "@connectauth/core";
import type { DecisionEvent } from "./decision.js";
import { createServerAuth } from "./server-auth.js";

const tokens: Record<string, string[]> = { "greet-token": ["greet"], "admin-token": ["admin", "greet"] };
const fixed: Authenticator = {
  name: "fixed",
  schemes: ["bearer"],
  async authenticate({ value }) {
    if (value === "boom") throw new Error(`cannot check ${value}`);
    const scopes = tokens[value];
    if (scopes === undefined) return rejected("INVALID_TOKEN", { detail: "unknown" });
    return accepted({ subject: `user-of-${value}`, scopes: new Set(scopes), claims: {}, authenticator: "fixed" });
  },
};

function client(gate: boolean, onDecision: (e: DecisionEvent) => void, authorization?: string) {
  const auth = createServerAuth({ authenticators: [fixed], onDecision });
  const setHeader: Interceptor = (next) => (req) => {
    if (authorization !== undefined) req.header.set("authorization", authorization);
    return next(req);
  };
  const transport = createRouterTransport(
    (router) =>
      router.service(GreeterService, {
        greet: () => ({ greeting: "hi" }),
        async *greetStream() {
          yield { greeting: "hi" };
        },
        greetMany: async () => ({ greeting: "" }),
        whoAmI: () => ({}),
        admin: () => ({ message: "ok" }),
        ping: () => ({ message: "pong" }),
      }),
    {
      router: gate ? { requestGate: auth.requestGate, interceptors: [auth.interceptor] } : { interceptors: [auth.interceptor] },
      transport: { interceptors: [setHeader] },
    },
  );
  return createClient(GreeterService, transport);
}

async function events(gate: boolean, authorization: string | undefined, call: (c: ReturnType<typeof client>) => Promise<unknown>) {
  const seen: DecisionEvent[] = [];
  const c = client(gate, (e) => seen.push(e), authorization);
  let code: Code | "OK" = "OK";
  try {
    await call(c);
  } catch (e) {
    code = ConnectError.from(e).code;
  }
  return { seen, code };
}

for (const gate of [true, false]) {
  const mode = gate ? "gate" : "interceptor only";

  test(`${mode}: one allowed event with subject, authenticator and token hash`, async () => {
    const { seen, code } = await events(gate, "Bearer greet-token", (c) => c.greet({}));
    assert.equal(code, "OK");
    assert.equal(seen.length, 1);
    const [e] = seen;
    assert.deepEqual(
      { ...e, durationMs: 0 },
      {
        allowed: true,
        method: "example.v1.GreeterService/Greet",
        code: undefined,
        reason: undefined,
        detail: undefined,
        authenticator: "fixed",
        subject: "user-of-greet-token",
        tokenHash: await tokenHash("greet-token"),
        durationMs: 0,
      },
    );
    assert.ok(e!.durationMs >= 0 && e!.durationMs < 1000);
  });

  test(`${mode}: one denied event per failure, with code and reason`, async () => {
    const cases = [
      { auth: undefined, call: "greet", code: Code.Unauthenticated, reason: "MISSING_CREDENTIALS", hash: false, subject: undefined },
      { auth: "Bearer a b", call: "greet", code: Code.Unauthenticated, reason: "MALFORMED_CREDENTIALS", hash: false, subject: undefined },
      { auth: "Bearer nope", call: "greet", code: Code.Unauthenticated, reason: "INVALID_TOKEN", hash: true, subject: undefined },
      { auth: "Bearer greet-token", call: "admin", code: Code.PermissionDenied, reason: "INSUFFICIENT_SCOPE", hash: true, subject: "user-of-greet-token" },
      { auth: "Bearer boom", call: "greet", code: Code.Internal, reason: undefined, hash: true, subject: undefined },
    ] as const;
    for (const k of cases) {
      const { seen, code } = await events(gate, k.auth, (c) => (k.call === "admin" ? c.admin({}) : c.greet({})));
      assert.equal(code, k.code, String(k.auth));
      assert.equal(seen.length, 1, String(k.auth));
      assert.equal(seen[0]!.allowed, false);
      assert.equal(seen[0]!.code, k.code);
      assert.equal(seen[0]!.reason, k.reason);
      assert.equal(seen[0]!.subject, k.subject);
      assert.equal(seen[0]!.tokenHash !== undefined, k.hash);
    }
    const invalid = await events(gate, "Bearer nope", (c) => c.greet({}));
    assert.equal(invalid.seen[0]!.detail, "unknown");
    assert.equal(invalid.seen[0]!.authenticator, "fixed");
  });

  test(`${mode}: an anonymous call to a public method is allowed without subject`, async () => {
    const { seen } = await events(gate, undefined, (c) => c.ping({}));
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.allowed, true);
    assert.equal(seen[0]!.subject, undefined);
    assert.equal(seen[0]!.tokenHash, undefined);
  });

  test(`${mode}: a throwing listener changes nothing`, async () => {
    const allowed = client(gate, () => {
      throw new Error("listener bug");
    }, "Bearer greet-token");
    assert.equal((await allowed.greet({})).greeting, "hi");
    const denied = client(gate, () => {
      throw new Error("listener bug");
    });
    await assert.rejects(denied.greet({}), (e) => ConnectError.from(e).code === Code.Unauthenticated);
  });
}

test("a condition over the request message still makes exactly one event per call, denied when it refuses", async () => {
  for (const gate of [true, false]) {
    const events: DecisionEvent[] = [];
    const auth = createServerAuth({
      authenticators: [fixed],
      onDecision: (e) => events.push(e),
      authorization: {
        rules: { "example.v1.GreeterService/Greet": { allScopes: ["greet"], condition: 'request.name != "bad"' } },
        services: [GreeterService],
      },
    });
    const bearer: Interceptor = (next) => (req) => (req.header.set("authorization", "Bearer greet-token"), next(req));
    const transport = createRouterTransport(
      (r) =>
        r.service(GreeterService, {
          greet: (req) => {
            if (req.name === "fail") throw new ConnectError("the handler's own failure", Code.Aborted);
            return { greeting: "hi" };
          },
          ping: () => ({}),
        }),
      {
        router: gate ? { requestGate: auth.requestGate, interceptors: [auth.interceptor] } : { interceptors: [auth.interceptor] },
        transport: { interceptors: [bearer] },
      },
    );
    const client = createClient(GreeterService, transport);
    const mode = gate ? "gate" : "interceptor only";

    await client.greet({ name: "ok" });
    assert.deepEqual(events.map((e) => [e.allowed, e.reason]), [[true, undefined]], mode);

    events.length = 0;
    await assert.rejects(client.greet({ name: "bad" }), (e: ConnectError) => e.code === Code.PermissionDenied);
    assert.deepEqual(events.map((e) => [e.allowed, e.code, e.reason, e.detail]), [[false, Code.PermissionDenied, "CLAIMS_REJECTED", "condition"]], mode);
    assert.equal(events[0]!.subject, "user-of-greet-token");

    events.length = 0;
    await assert.rejects(client.greet({ name: "fail" }), (e: ConnectError) => e.code === Code.Aborted);
    assert.deepEqual(events.map((e) => e.allowed), [true], `${mode}: the handler's own failure is not an auth denial`);

    await client.ping({});
    assert.equal(events.length, 2, `${mode}: a public call has its one event at once`);
  }
});
