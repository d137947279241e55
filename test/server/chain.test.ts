// Credentials along a chain of calls A -> B -> C: each hop's handler calls the next with the Greeter
// client, and createCredentialForwarding carries the caller's credential (or a token exchanged for it)
// through AsyncLocalStorage. When C refuses, A's caller sees C's code, reason and challenge; the token
// shows up in no log line and no error.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Code, type Transport, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { createJwtAuthenticator, createServerAuth, getAuth } from "@connectauth/server";
import { type CredentialForwarding, createCredentialForwarding } from "@connectauth/node";
import { GreeterService } from "../../packages/example/src/gen/example/v1/greeter_pb.js";
import { greeterRoutes } from "../../packages/example/src/greeter-service.js";
import { type DevIssuer, createDevIssuer } from "@connectauth/node/dev";
import { transportFor } from "./adapters/clients.js";
import { type RunningServer, setups } from "./adapters/setups.js";
import { type Refusal, failure } from "../support/failure.js";

const h2c = setups.find((s) => s.name.includes("http2 cleartext"))!;
let issuer: DevIssuer;
const servers: RunningServer[] = [];
let a: RunningServer;
let exchanged: string[] = [];
let exchangeScopes: string[] = ["greet"];

function auth(audience: string) {
  return createServerAuth({
    authenticators: [createJwtAuthenticator({ issuer: issuer.issuer, audience, algorithms: ["ES256"], keys: issuer.jwks })],
    realm: audience,
  }).install({});
}

/** A hop: a Greeter whose greet, greetStream and whoAmI ask the next service. */
async function startHop(audience: string, forwarding: CredentialForwarding, next: Transport) {
  const downstream = createClient(GreeterService, next);
  const a = auth(audience);
  return h2c.start({
    routes: (router) =>
      router.service(GreeterService, {
        async greet(req, ctx) {
          const res = await downstream.greet(req);
          return { greeting: `${res.greeting} via ${audience} (caller ${getAuth(ctx)?.subject})` };
        },
        async *greetStream(req) {
          for await (const m of downstream.greetStream(req)) yield { greeting: `${m.greeting} via ${audience}` };
        },
        whoAmI: () => downstream.whoAmI({}),
      }),
    ...a,
    interceptors: [...a.interceptors, forwarding.serverInterceptor],
  });
}

before(async () => {
  issuer = await createDevIssuer({ issuer: "https://issuer.test", audience: "greeter" });
  // C trusts only tokens for "service-c"; B exchanges the caller's token for one (RFC 8693 style).
  const c = await h2c.start({ routes: greeterRoutes, ...auth("service-c") });
  const toB = createCredentialForwarding();
  const toC = createCredentialForwarding({
    exchange: async (token) => {
      exchanged.push(token);
      return issuer.mint({ subject: "alice-for-c", audience: "service-c", scopes: exchangeScopes });
    },
  });
  const b = await startHop(
    "greeter",
    toC,
    createConnectTransport({ baseUrl: c.url, httpVersion: "2", interceptors: [toC.clientInterceptor] }),
  );
  a = await startHop("greeter", toB, createGrpcTransport({ baseUrl: b.url, interceptors: [toB.clientInterceptor] }));
  servers.push(c, b, a);
});
after(() => Promise.all(servers.map((s) => s.close())));

const caller = (token?: string) => createClient(GreeterService, transportFor(a.url, "connect", "2", { token }));

/** Captures everything written to the console and to stdout/stderr while `fn` runs. */
async function captureOutput(fn: () => Promise<void>): Promise<string> {
  const chunks: string[] = [];
  const methods = ["log", "info", "warn", "error", "debug"] as const;
  const saved = methods.map((m) => console[m]);
  const write = [process.stdout.write, process.stderr.write];
  for (const m of methods)
    console[m] = (...args: unknown[]) =>
      void chunks.push(
        args.map((x) => String(x instanceof Error ? x.stack : typeof x === "object" ? JSON.stringify(x) : x)).join(" "),
      );
  process.stdout.write = process.stderr.write = ((c: unknown) => {
    chunks.push(String(c));
    return true;
  }) as typeof process.stdout.write;
  try {
    await fn();
  } finally {
    for (const [i, m] of methods.entries()) console[m] = saved[i]!;
    [process.stdout.write, process.stderr.write] = write as [typeof process.stdout.write, typeof process.stderr.write];
  }
  return chunks.join("\n");
}

test("the caller's credential reaches C through A and B (exchanged at B), unary and streaming", async () => {
  exchanged = [];
  exchangeScopes = ["greet"];
  const token = await issuer.mint({ subject: "alice", scopes: ["greet"] });
  const res = await caller(token).greet({ name: "Ada" });
  assert.match(res.greeting, /^Hello, Ada! \(from alice-for-c\) via greeter \(caller alice\) via greeter \(caller alice\)$/);
  assert.deepEqual(exchanged, [token], "B exchanged exactly the caller's token");
  const stream: string[] = [];
  for await (const m of caller(token).greetStream({ name: "Ada", count: 2 })) stream.push(m.greeting);
  assert.deepEqual(
    stream,
    [1, 2].map((i) => `Hello #${i}, Ada! (from alice-for-c) via greeter via greeter`),
  );
  assert.equal(exchanged.length, 2);
});

test("when C refuses, A's caller sees C's code, reason and challenge, and the token is never logged", async () => {
  const token = await issuer.mint({ subject: "alice", scopes: ["greet"] });
  let denied!: Refusal;
  let unauthenticated!: Refusal;
  let missing!: Refusal;
  const output = await captureOutput(async () => {
    exchangeScopes = []; // the exchanged token lacks "greet": C answers PermissionDenied
    denied = await failure(caller(token).greet({}));
    exchangeScopes = ["greet"];
    // A hop that forwards the caller's token as is to C, which takes only its own audience:
    // Unauthenticated, INVALID_AUDIENCE.
    const wrongAudience = createCredentialForwarding();
    const b = await startHop(
      "greeter",
      wrongAudience,
      createConnectTransport({
        baseUrl: servers[0]!.url,
        httpVersion: "2",
        interceptors: [wrongAudience.clientInterceptor],
      }),
    );
    servers.push(b);
    unauthenticated = await failure(createClient(GreeterService, transportFor(b.url, "grpc", "2", { token })).greet({}));
    // Streaming: C's refusal arrives through two streams.
    exchangeScopes = [];
    missing = await failure(
      (async () => {
        for await (const _ of caller(token).greetStream({ count: 2 }));
      })(),
    );
    exchangeScopes = ["greet"];
  });
  assert.deepEqual(
    [denied.code, denied.failure?.reason, denied.wwwAuthenticate],
    [Code.PermissionDenied, "INSUFFICIENT_SCOPE", 'Bearer realm="service-c", error="insufficient_scope", scope="greet"'],
  );
  assert.deepEqual(
    [unauthenticated.code, unauthenticated.failure?.reason, unauthenticated.wwwAuthenticate],
    [Code.Unauthenticated, "INVALID_AUDIENCE", 'Bearer realm="service-c", error="invalid_token"'],
  );
  assert.deepEqual([missing.code, missing.failure?.reason], [Code.PermissionDenied, "INSUFFICIENT_SCOPE"]);
  const seen = [
    output,
    ...[denied, unauthenticated, missing].map((f) =>
      JSON.stringify({
        message: f.error.message,
        metadata: [...f.error.metadata],
        details: f.error.details,
        cause: String(f.error.cause),
      }),
    ),
  ].join("\n");
  for (const secret of [token, token.split(".")[1]!, token.split(".")[2]!]) {
    assert.ok(!seen.includes(secret), "the token must not be logged nor sent back");
  }
});
