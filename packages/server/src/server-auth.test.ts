import { test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, type Interceptor, createClient, createRouterTransport } from "@connectrpc/connect";
import { readAuthFailure } from "@connectauth/core";
import { GreeterService } from "../../example/src/gen/example/v1/greeter_pb.js";
import { type Authenticator, accepted, rejected, rememberOutcomes } from "./authenticator.js";
import { getAuth } from "./identity.js";
import { createServerAuth } from "./server-auth.js";

// An authenticator of fixed tokens, so these tests are about the gate, not about JWTs.
const tokens: Record<string, string[]> = { "greet-token": ["greet"], "admin-token": ["admin", "greet"], "no-scope": [] };
const fixed: Authenticator = {
  name: "fixed",
  schemes: ["bearer"],
  async authenticate({ value }) {
    const scopes = tokens[value];
    if (scopes === undefined) return rejected("INVALID_TOKEN", { detail: "unknown" });
    return accepted({ subject: `user-of-${value}`, scopes: new Set(scopes), claims: {}, authenticator: "fixed" });
  },
};

let handlerRuns = 0;
function client(options: { gate: boolean; header?: Record<string, string> }) {
  const auth = createServerAuth({ authenticators: [fixed], realm: "test" });
  const setHeader: Interceptor = (next) => (req) => {
    for (const [k, v] of Object.entries(options.header ?? {})) req.header.set(k, v);
    return next(req);
  };
  const transport = createRouterTransport(
    (router) =>
      router.service(GreeterService, {
        greet: (req, ctx) => {
          handlerRuns++;
          return { greeting: `hi ${req.name} from ${getAuth(ctx)?.subject}` };
        },
        async *greetStream(_req, ctx) {
          yield { greeting: getAuth(ctx)?.subject ?? "" };
        },
        greetMany: async () => ({ greeting: "" }),
        whoAmI: (_req, ctx) => {
          const a = getAuth(ctx);
          return { subject: a?.subject ?? "", scopes: [...(a?.scopes ?? [])], authenticator: a?.authenticator ?? "" };
        },
        admin: () => ({ message: "ok" }),
        ping: (_req, ctx) => ({ message: getAuth(ctx)?.subject ?? "anonymous" }),
      }),
    {
      router: options.gate
        ? { requestGate: auth.requestGate, interceptors: [auth.interceptor] }
        : { interceptors: [auth.interceptor] },
      transport: { interceptors: [setHeader] },
    },
  );
  return createClient(GreeterService, transport);
}

async function failure(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ConnectError);
    return { code: e.code, failure: readAuthFailure(e), error: e };
  }
  assert.fail("expected the call to fail");
}

for (const gate of [true, false]) {
  const mode = gate ? "gate" : "interceptor only";

  test(`${mode}: identity reaches the handler`, async () => {
    const c = client({ gate, header: { authorization: "Bearer admin-token" } });
    assert.equal((await c.greet({ name: "x" })).greeting, "hi x from user-of-admin-token");
    assert.deepEqual(await c.whoAmI({}).then((r) => [r.subject, r.scopes.sort(), r.authenticator]), [
      "user-of-admin-token",
      ["admin", "greet"],
      "fixed",
    ]);
    for await (const m of c.greetStream({})) assert.equal(m.greeting, "user-of-admin-token");
  });

  test(`${mode}: public method is anonymous without a credential, but a bad credential still fails`, async () => {
    assert.equal((await client({ gate }).ping({})).message, "anonymous");
    const f = await failure(client({ gate, header: { authorization: "Bearer nope" } }).ping({}));
    assert.equal(f.failure?.reason, "INVALID_TOKEN");
    assert.equal(f.failure?.metadata["detail"], "unknown");
    assert.equal(f.failure?.metadata["authenticator"], "fixed");
  });

  test(`${mode}: each failure has its code, reason and challenge`, async () => {
    const cases: [Record<string, string> | undefined, Code, string, string | null][] = [
      [undefined, Code.Unauthenticated, "MISSING_CREDENTIALS", 'Bearer realm="test"'],
      [{ authorization: "Bearer" }, Code.Unauthenticated, "MALFORMED_CREDENTIALS", 'Bearer realm="test", error="invalid_request"'],
      [{ authorization: "Basic dXNlcjpwYXNz" }, Code.Unauthenticated, "MALFORMED_CREDENTIALS", null],
      [{ authorization: "Bearer a, Bearer b" }, Code.Unauthenticated, "MULTIPLE_CREDENTIALS", null],
      [{ authorization: "Bearer nope" }, Code.Unauthenticated, "INVALID_TOKEN", 'Bearer realm="test", error="invalid_token"'],
      [{ authorization: "Bearer no-scope" }, Code.PermissionDenied, "INSUFFICIENT_SCOPE",
        'Bearer realm="test", error="insufficient_scope", scope="greet"'],
    ];
    for (const [header, code, reason, challenge] of cases) {
      const f = await failure(client({ gate, header }).greet({}));
      assert.equal(f.code, code, reason);
      assert.equal(f.failure?.reason, reason);
      if (challenge !== null) assert.equal(f.error.metadata.get("www-authenticate"), challenge);
    }
  });

  test(`${mode}: scopes of the rule, all-of`, async () => {
    const f = await failure(client({ gate, header: { authorization: "Bearer greet-token" } }).admin({}));
    assert.equal(f.code, Code.PermissionDenied);
    assert.deepEqual(f.failure?.requiredScopes, ["admin", "greet"]);
    assert.equal(f.failure?.metadata["missing_scopes"], "admin");
  });
}

test("the gate stops a call before the handler runs", async () => {
  const before = handlerRuns;
  await failure(client({ gate: true }).greet({ name: "x" }));
  assert.equal(handlerRuns, before);
});

test("an authenticator that throws gives Internal, without its error as cause", async () => {
  const secret = "Bearer super-secret-token";
  const auth = createServerAuth({
    authenticators: [{ name: "boom", schemes: ["bearer"], authenticate: () => Promise.reject(new Error(secret)) }],
  });
  const transport = createRouterTransport((r) => r.service(GreeterService, { greet: () => ({}) }), {
    router: { requestGate: auth.requestGate },
    transport: { interceptors: [(next) => (req) => (req.header.set("authorization", secret), next(req))] },
  });
  const f = await failure(createClient(GreeterService, transport).greet({}));
  assert.equal(f.code, Code.Internal);
  assert.ok(!JSON.stringify(f.error).includes("super-secret") && !String(f.error.cause).includes("super-secret"));
});

test("a remembered credential skips authenticate; anything else is scanned and authenticated", async () => {
  let authenticated = 0;
  const fromMemory = accepted({ subject: "from-memory", scopes: new Set(["admin", "greet"]), claims: {}, authenticator: "fixed" });
  const counting = (): Authenticator => ({ ...fixed, authenticate: (credentials) => (authenticated++, fixed.authenticate(credentials)) });
  const remembering = rememberOutcomes(counting(), ({ value }) => (value === "admin-token" ? fromMemory : undefined));
  const call = (authenticator: Authenticator, authorization: string) => {
    const auth = createServerAuth({ authenticators: [authenticator] });
    const transport = createRouterTransport((r) => r.service(GreeterService, { greet: (_req, ctx) => ({ greeting: getAuth(ctx)?.subject }) }), {
      router: { requestGate: auth.requestGate, interceptors: [auth.interceptor] },
      transport: { interceptors: [(next) => (req) => (req.header.set("authorization", authorization), next(req))] },
    });
    return createClient(GreeterService, transport).greet({});
  };
  assert.equal((await call(remembering, "Bearer admin-token")).greeting, "from-memory");
  assert.equal(authenticated, 0);
  assert.equal((await call(remembering, "Bearer greet-token")).greeting, "user-of-greet-token");
  assert.equal(authenticated, 1);
  // Not remembered, so scanned: two credentials, and a value that is no token68, are refused as before.
  assert.equal((await failure(call(remembering, "Bearer admin-token, Bearer admin-token"))).failure?.reason, "MULTIPLE_CREDENTIALS");
  assert.equal((await failure(call(remembering, "Bearer admin token"))).failure?.reason, "MALFORMED_CREDENTIALS");
  assert.equal(authenticated, 1);
  // A copy that adds checks to authenticate is not the remembering object: its authenticate runs.
  const stricter: Authenticator = { ...remembering, authenticate: async () => rejected("INVALID_TOKEN", { detail: "stricter" }) };
  assert.equal((await failure(call(stricter, "Bearer admin-token"))).failure?.metadata["detail"], "stricter");
  // What the look-up throws is Internal, without its text.
  const throwing = rememberOutcomes(counting(), () => {
    throw new Error("Bearer admin-token");
  });
  const f = await failure(call(throwing, "Bearer admin-token"));
  assert.equal(f.code, Code.Internal);
  assert.ok(!JSON.stringify(f.error).includes("admin-token") && f.error.cause === undefined);
});

test("misconfiguration fails at creation", () => {
  assert.throws(() => createServerAuth({ authenticators: [] }), TypeError);
  assert.throws(() => createServerAuth({ authenticators: [fixed, { ...fixed, name: "again" }] }), /both take the "bearer"/);
});
