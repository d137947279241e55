import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Code,
  ConnectError,
  type Interceptor,
  createClient,
  createHandlerContext,
  createRouterTransport,
} from "@connectrpc/connect";
import { type InstallMode, installModes, installed } from "../../../test/support/install-modes.js";
import { failure } from "../../../test/support/failure.js";
import { GreeterService, fixedAuthenticator as fixed, greeterClient } from "./test-support/greeter.js";
import { type Authenticator, rejected } from "./authenticator.js";
import { createServerAuth } from "./server-auth.js";
import { AuthNotReadyError, type AuthenticatorStatus } from "./auth-readiness.js";
import { healthRoutes } from "./health-service.js";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "./gen/grpc/health/v1/health_pb.js";

// Each mode installs exactly what it names: { requestGate }, { interceptors: [interceptor] }, or auth.install({}).
function client(options: { mode: InstallMode; header?: Record<string, string>; onGreet?: () => void }) {
  const auth = createServerAuth({ authenticators: [fixed], realm: "test" });
  const { onGreet } = options;
  const impl = onGreet && {
    greet: () => {
      onGreet();
      return { greeting: "counted" };
    },
  };
  return greeterClient({ router: installed(auth, options.mode), header: options.header, impl });
}

for (const mode of installModes) {
  test(`${mode}: identity reaches the handler`, async () => {
    const c = client({ mode, header: { authorization: "Bearer admin-token" } });
    assert.equal((await c.greet({ name: "x" })).greeting, "hi x from user-of-admin-token");
    assert.deepEqual(await c.whoAmI({}).then((r) => [r.subject, r.scopes.sort(), r.authenticator]), [
      "user-of-admin-token",
      ["admin", "greet"],
      "fixed",
    ]);
    for await (const m of c.greetStream({})) assert.equal(m.greeting, "user-of-admin-token");
  });

  test(`${mode}: public method is anonymous without a credential, but a bad credential still fails`, async () => {
    assert.equal((await client({ mode }).ping({})).message, "anonymous");
    const f = await failure(client({ mode, header: { authorization: "Bearer nope" } }).ping({}));
    assert.equal(f.failure?.reason, "INVALID_TOKEN");
    assert.equal(f.failure?.metadata["detail"], "unknown");
    assert.equal(f.failure?.metadata["authenticator"], "fixed");
  });

  test(`${mode}: each failure has its code, reason and challenge`, async () => {
    const cases: [Record<string, string> | undefined, Code, string, string | null][] = [
      [undefined, Code.Unauthenticated, "MISSING_CREDENTIALS", 'Bearer realm="test"'],
      [
        { authorization: "Bearer" },
        Code.Unauthenticated,
        "MALFORMED_CREDENTIALS",
        'Bearer realm="test", error="invalid_request"',
      ],
      [{ authorization: "Bearer a, Bearer b" }, Code.Unauthenticated, "MULTIPLE_CREDENTIALS", null],
      [{ authorization: "Bearer nope" }, Code.Unauthenticated, "INVALID_TOKEN", 'Bearer realm="test", error="invalid_token"'],
      [
        { authorization: "Bearer no-scope" },
        Code.PermissionDenied,
        "INSUFFICIENT_SCOPE",
        'Bearer realm="test", error="insufficient_scope", scope="greet"',
      ],
    ];
    for (const [header, code, reason, challenge] of cases) {
      const f = await failure(client({ mode, header }).greet({}));
      assert.equal(f.code, code, reason);
      assert.equal(f.failure?.reason, reason);
      if (challenge !== null) assert.equal(f.wwwAuthenticate, challenge);
    }
  });

  test(`${mode}: a scheme nobody takes is MISSING_CREDENTIALS (unsupported_scheme), public methods included`, async () => {
    for (const authorization of ["Basic dXNlcjpwYXNz", "Token abc123", "basic dXNlcjpwYXNz"]) {
      for (const call of [(c: ReturnType<typeof client>) => c.greet({}), (c: ReturnType<typeof client>) => c.ping({})]) {
        const f = await failure(call(client({ mode, header: { authorization } })));
        assert.equal(f.code, Code.Unauthenticated, authorization);
        assert.equal(f.failure?.reason, "MISSING_CREDENTIALS", authorization);
        assert.equal(f.failure?.metadata["detail"], "unsupported_scheme", authorization);
        // RFC 6750 §3.1: no error code when the request carries no (usable) credential.
        assert.equal(f.wwwAuthenticate, 'Bearer realm="test"', authorization);
        assert.ok(!JSON.stringify([f.error.rawMessage, f.error.details]).includes(authorization.split(" ")[1]!));
      }
    }
  });

  test(`${mode}: scopes of the rule, all-of`, async () => {
    const f = await failure(client({ mode, header: { authorization: "Bearer greet-token" } }).admin({}));
    assert.equal(f.code, Code.PermissionDenied);
    assert.deepEqual(f.failure?.requiredScopes, ["admin", "greet"]);
    assert.equal(f.failure?.metadata["missing_scopes"], "admin");
  });
}

test("every mode stops a refused call before the handler runs", async () => {
  for (const mode of installModes) {
    let handlerRuns = 0;
    const onGreet = () => handlerRuns++;
    await failure(client({ mode, onGreet }).greet({ name: "x" }));
    assert.equal(handlerRuns, 0, mode);
    await client({ mode, onGreet, header: { authorization: "Bearer greet-token" } }).greet({ name: "x" });
    assert.equal(handlerRuns, 1, `${mode}: the control`);
  }
});

// User code that throws: each hook, with the credential and the exception's own text as what must not leak.
const secret = "s3cr3t-credential-0123";
const thrown = "kaboom-exception-text";
const throwingHooks: { hook: string; authenticator: Authenticator; header: Record<string, string> }[] = [
  {
    hook: "authenticate",
    authenticator: {
      name: "boom",
      schemes: ["bearer"],
      authenticate: ({ value }) => Promise.reject(new Error(`${thrown} ${value}`)),
    },
    header: { authorization: `Bearer ${secret}` },
  },
  {
    hook: "authenticate, thrown synchronously",
    authenticator: {
      name: "boom",
      schemes: ["bearer"],
      authenticate: ({ value }) => {
        throw `${thrown} ${value}`;
      },
    },
    header: { authorization: `Bearer ${secret}` },
  },
  {
    hook: "extract",
    authenticator: {
      name: "cookie",
      schemes: [],
      extract: (headers) => {
        throw new Error(`${thrown} ${headers.get("cookie")}`);
      },
      authenticate: async () => rejected("INVALID_TOKEN"),
    },
    header: { cookie: `session=${secret}` },
  },
  {
    hook: "authenticateConnection",
    authenticator: {
      name: "conn",
      schemes: [],
      authenticate: async () => rejected("INVALID_TOKEN"),
      authenticateConnection: () => Promise.reject(new Error(`${thrown} ${secret}`)),
    },
    header: {},
  },
];

/** Asserts the server-side error of a hook that threw: Internal, the fixed message, no cause, nothing of it. */
function assertHookFault(error: unknown, name: string, what: string) {
  assert.ok(error instanceof ConnectError, what);
  assert.equal(error.code, Code.Internal, what);
  assert.equal(error.rawMessage, `authenticator "${name}" failed`, what);
  assert.equal(error.cause, undefined, `${what}: no cause`);
  assert.deepEqual(error.details, [], what);
  const text = JSON.stringify([error.message, [...error.metadata]]);
  for (const word of [secret, thrown]) assert.ok(!text.includes(word), `${what}: "${word}" in the error`);
}

for (const { hook, authenticator, header } of throwingHooks) {
  test(`an exception from ${hook} is Internal, without its cause or text`, async () => {
    // What the caller sees, in every mode.
    for (const mode of installModes) {
      const auth = createServerAuth({ authenticators: [authenticator] });
      const f = await failure(greeterClient({ router: installed(auth, mode), header }).greet({}));
      assertHookFault(f.error, authenticator.name, `${mode}, as received`);
    }
    // What the server throws, before Connect serializes it: from the gate, called as Connect calls it ...
    const auth = createServerAuth({ authenticators: [authenticator] });
    const context = createHandlerContext({
      service: GreeterService,
      method: GreeterService.method.greet,
      protocolName: "connect",
      requestMethod: "POST",
      url: "http://127.0.0.1/test.v1.GreeterService/Greet",
      requestHeader: header,
    });
    await assert.rejects(auth.requestGate(context), (e) => {
      assertHookFault(e, authenticator.name, "the gate");
      return true;
    });
    // ... and from the interceptor, as the interceptor in front of it sees it.
    let seen: unknown;
    const observer: Interceptor = (next) => (req) =>
      next(req).catch((e: unknown) => {
        seen = e;
        throw e;
      });
    await failure(greeterClient({ router: { interceptors: [observer, auth.interceptor] }, header }).greet({}));
    assertHookFault(seen, authenticator.name, "the interceptor");
  });
}

test("authenticate runs for every call, identical credentials included; what is refused unread never reaches it", async () => {
  for (const mode of installModes) {
    let authenticated = 0;
    const counting: Authenticator = {
      ...fixed,
      authenticate: (credentials) => {
        authenticated++;
        return fixed.authenticate(credentials);
      },
    };
    const call = (authorization: string) => {
      const auth = createServerAuth({ authenticators: [counting] });
      return greeterClient({ router: installed(auth, mode), header: { authorization } }).greet({ name: "x" });
    };
    for (let i = 1; i <= 3; i++) {
      assert.equal((await call("Bearer greet-token")).greeting, "hi x from user-of-greet-token");
      assert.equal(authenticated, i, `${mode}: call ${i}`);
    }
    // Two credentials, and a value that is no token68, are refused before any authenticator runs.
    assert.equal((await failure(call("Bearer greet-token, Bearer greet-token"))).failure?.reason, "MULTIPLE_CREDENTIALS");
    assert.equal((await failure(call("Bearer greet token"))).failure?.reason, "MALFORMED_CREDENTIALS");
    assert.equal(authenticated, 3, mode);
  }
});

test("misconfiguration fails at creation", () => {
  assert.throws(() => createServerAuth({ authenticators: [] }), TypeError);
  assert.throws(() => createServerAuth({ authenticators: [fixed, { ...fixed, name: "again" }] }), /both take the "bearer"/);
});

// A stand-in for a DPoP-mode authenticator (the JWT one's binding has its own suite): it takes `bearer` and
// `dpop`, asks for DPoP alone ("required") or both ("allowed"), and accepts the fixed tokens as DPoP.
function dpopStandIn(mode: "required" | "allowed"): Authenticator {
  const dpopAlgorithms = ["ES256", "EdDSA"];
  const dpopChallenge = { schemes: ["DPoP" as const], dpopAlgorithms };
  return {
    name: "dpop",
    schemes: ["bearer", "dpop"],
    challenge: { schemes: mode === "required" ? ["DPoP"] : ["Bearer", "DPoP"], dpopAlgorithms },
    async authenticate(credentials) {
      if (credentials.scheme === "bearer" && mode === "required") {
        return rejected("INVALID_TOKEN", { detail: "dpop_required", challenge: dpopChallenge });
      }
      const outcome = await fixed.authenticate(credentials);
      if (outcome.ok || credentials.scheme === "bearer") return outcome;
      return { ...outcome, challenge: { ...dpopChallenge, dpopNonce: "n-1" } };
    },
  };
}

test("challenges: the union of the authenticators for no usable credential, DPoP after a DPoP call", async () => {
  const dpopOnly = 'DPoP realm="test", algs="ES256 EdDSA"';
  const both = `Bearer realm="test", ${dpopOnly}`;
  for (const mode of installModes) {
    const call = async (dpopMode: "required" | "allowed", header: Record<string, string> | undefined, method = "greet") => {
      const auth = createServerAuth({ authenticators: [dpopStandIn(dpopMode)], realm: "test" });
      const c = greeterClient({ router: installed(auth, mode), header });
      return failure(method === "admin" ? c.admin({}) : c.greet({}));
    };
    const cases: [string, "required" | "allowed", Record<string, string> | undefined, string, string, string][] = [
      ["none, required", "required", undefined, "greet", "MISSING_CREDENTIALS", dpopOnly],
      ["none, allowed", "allowed", undefined, "greet", "MISSING_CREDENTIALS", both],
      [
        "malformed",
        "required",
        { authorization: "DPoP a b" },
        "greet",
        "MALFORMED_CREDENTIALS",
        'DPoP realm="test", error="invalid_request", algs="ES256 EdDSA"',
      ],
      ["unsupported scheme", "allowed", { authorization: "Basic YWxpY2U6cHc=" }, "greet", "MISSING_CREDENTIALS", both],
      [
        "bearer where DPoP is required",
        "required",
        { authorization: "Bearer greet-token" },
        "greet",
        "INVALID_TOKEN",
        'DPoP realm="test", error="invalid_token", algs="ES256 EdDSA"',
      ],
      [
        "a DPoP token rejected",
        "allowed",
        { authorization: "DPoP nope" },
        "greet",
        "INVALID_TOKEN",
        'DPoP realm="test", error="invalid_token", algs="ES256 EdDSA"',
      ],
      [
        "a bearer token rejected, allowed",
        "allowed",
        { authorization: "Bearer nope" },
        "greet",
        "INVALID_TOKEN",
        'Bearer realm="test", error="invalid_token"',
      ],
      [
        "scope after a DPoP call",
        "allowed",
        { authorization: "DPoP greet-token" },
        "admin",
        "INSUFFICIENT_SCOPE",
        'DPoP realm="test", error="insufficient_scope", scope="admin greet", algs="ES256 EdDSA"',
      ],
      [
        "scope after a bearer call",
        "allowed",
        { authorization: "Bearer greet-token" },
        "admin",
        "INSUFFICIENT_SCOPE",
        'Bearer realm="test", error="insufficient_scope", scope="admin greet"',
      ],
    ];
    for (const [what, dpopMode, header, method, reason, challenge] of cases) {
      const f = await call(dpopMode, header, method);
      assert.equal(f.failure?.reason, reason, `${mode}, ${what}`);
      assert.equal(f.wwwAuthenticate, challenge, `${mode}, ${what}`);
    }
    // The nonce an authenticator gives travels with its refusal, as the dpop-nonce header.
    const f = await call("allowed", { authorization: "DPoP nope" });
    assert.equal(f.error.metadata.get("dpop-nonce"), "n-1", mode);
    assert.equal((await call("allowed", { authorization: "Bearer nope" })).error.metadata.get("dpop-nonce"), null, mode);
  }
});

test("challenges: a condition over the request refused after a DPoP call answers DPoP", async () => {
  for (const mode of ["interceptor", "install"] as const) {
    const auth = createServerAuth({
      authenticators: [dpopStandIn("allowed")],
      realm: "test",
      authorization: {
        services: [GreeterService],
        rules: { "test.v1.GreeterService/Greet": { allScopes: ["greet"], condition: 'request.name == "ok"' } },
      },
      onWarning: () => {},
    });
    const greet = (authorization: string, name: string) =>
      greeterClient({ router: installed(auth, mode), header: { authorization } }).greet({ name });
    assert.equal((await greet("DPoP greet-token", "ok")).greeting, "hi ok from user-of-greet-token", mode);
    const dpop = await failure(greet("DPoP greet-token", "no"));
    assert.equal(dpop.failure?.metadata["detail"], "condition", mode);
    assert.equal(dpop.wwwAuthenticate, 'DPoP realm="test", error="insufficient_scope", scope="greet", algs="ES256 EdDSA"', mode);
    const bearer = await failure(greet("Bearer greet-token", "no"));
    assert.equal(bearer.wwwAuthenticate, 'Bearer realm="test", error="insufficient_scope", scope="greet"', mode);
  }
});

/**
 * An authenticator whose keys come when `arrive()` is called: `status` not ready (`timeout`) until then,
 * `prefetch` counted, `onStatusChange` told on arrival.
 */
function keyedAuthenticator(name: string) {
  let ready = false;
  let prefetched = 0;
  const listeners = new Set<() => void>();
  const authenticator: Authenticator = {
    ...fixed,
    name,
    status: (): AuthenticatorStatus => (ready ? { ready: true, keysAgeMs: 0 } : { ready: false, lastError: "timeout" }),
    prefetch: async () => {
      prefetched++;
    },
    onStatusChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return {
    authenticator,
    prefetched: () => prefetched,
    listening: () => listeners.size,
    arrive() {
      ready = true;
      for (const l of listeners) l();
    },
  };
}

test("readiness: status() by name over the authenticators that have one; ready() waits for their keys", async () => {
  const jwt = keyedAuthenticator("jwt");
  let warmed = 0;
  const warm: Authenticator = { ...fixed, name: "warm", schemes: ["warm"], prefetch: async () => void warmed++ };
  const auth = createServerAuth({ authenticators: [jwt.authenticator, warm] });
  assert.deepEqual(auth.status(), { ready: false, authenticators: { jwt: { ready: false, lastError: "timeout" } } });
  assert.equal(auth.readiness.status().ready, false);
  let resolved = false;
  const waiting = auth.ready({ timeoutMs: 10_000 }).then(() => {
    resolved = true;
  });
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(resolved, false);
  assert.equal(jwt.prefetched(), 1, "ready() asks for the keys");
  assert.equal(warmed, 1, "and warms up those without a status");
  assert.equal(jwt.listening(), 1);
  jwt.arrive();
  await waiting;
  assert.deepEqual(auth.status(), { ready: true, authenticators: { jwt: { ready: true, keysAgeMs: 0 } } });
  assert.equal(jwt.listening(), 0, "ready() unsubscribes once settled");
  // Without any authenticator that has a status: ready at once.
  const plain = createServerAuth({ authenticators: [fixed] });
  assert.deepEqual(plain.status(), { ready: true, authenticators: {} });
  await plain.ready({ timeoutMs: 0 });
});

test("readiness: ready() rejects with AUTH_NOT_READY after timeoutMs, naming who and why", async () => {
  const jwt = keyedAuthenticator("jwt");
  const auth = createServerAuth({ authenticators: [jwt.authenticator] });
  await assert.rejects(auth.ready({ timeoutMs: 30 }), (e: unknown) => {
    assert.ok(e instanceof AuthNotReadyError);
    assert.equal(e.code, "AUTH_NOT_READY");
    assert.deepEqual(e.authenticators, [{ name: "jwt", lastError: "timeout" }]);
    assert.equal(e.message, "authenticators not ready after 30 ms: jwt (timeout)");
    return true;
  });
  assert.equal(jwt.listening(), 0);
});

test("readiness: a health service fed by auth.readiness goes NOT_SERVING to SERVING (Health public in the rules)", async () => {
  const jwt = keyedAuthenticator("jwt");
  const auth = createServerAuth({
    authenticators: [jwt.authenticator],
    authorization: { services: [GreeterService, Health], rules: { "grpc.health.v1.Health": { public: true } } },
  });
  const transport = createRouterTransport((router) => healthRoutes(router, { readiness: auth.readiness }), {
    router: auth.install({}),
  });
  const health = createClient(Health, transport);
  assert.equal((await health.check({ service: "" })).status, ServingStatus.NOT_SERVING);
  const seen: ServingStatus[] = [];
  const controller = new AbortController();
  const watching = (async () => {
    for await (const r of health.watch({ service: "" }, { signal: controller.signal })) {
      seen.push(r.status);
      if (r.status === ServingStatus.SERVING) controller.abort();
    }
  })().catch(() => undefined);
  while (seen.length === 0) await new Promise((r) => setTimeout(r, 2));
  jwt.arrive();
  await watching;
  assert.deepEqual(seen, [ServingStatus.NOT_SERVING, ServingStatus.SERVING]);
  assert.equal((await health.check({ service: "" })).status, ServingStatus.SERVING);
});

test("readiness: two authenticators with a status and one name, or a hook that is not a function, throw at construction", () => {
  const a = keyedAuthenticator("jwt").authenticator;
  const b = { ...keyedAuthenticator("jwt").authenticator, schemes: ["other"] };
  assert.throws(() => createServerAuth({ authenticators: [a, b] }), {
    name: "TypeError",
    message: /two authenticators with a status are named "jwt"/,
  });
  for (const hook of ["status", "prefetch", "onStatusChange"]) {
    assert.throws(() => createServerAuth({ authenticators: [{ ...fixed, [hook]: "yes" }] }), {
      name: "TypeError",
      message: new RegExp(`${hook} of authenticator "fixed" must be a function`),
    });
  }
});
