// End to end over real HTTP on loopback: the example server (one port, HTTP/2 cleartext and HTTP/1.1)
// and Node clients of all three protocols.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import { Code, createClient } from "@connectrpc/connect";
import { GreeterService } from "../../packages/example/src/gen/example/v1/greeter_pb.js";
import { exampleTransport, protocols, runDemoCases } from "../../packages/example/src/demo-cases.js";
import { type ExampleServer, startExampleServer } from "../../packages/example/src/server.js";
import { failure } from "../support/failure.js";

let server: ExampleServer;
let greet: string; // scope greet
let admin: string; // scopes greet admin
let expired: string;
before(async () => {
  server = await startExampleServer();
  const issuer = server.devIssuer!;
  greet = await issuer.mint({ subject: "alice", scopes: ["greet"] });
  admin = await issuer.mint({ subject: "root", scopes: ["greet", "admin"] });
  expired = await issuer.mint({ subject: "alice", scopes: ["greet"], ttlSeconds: -3600 });
});
after(() => server.close());

const client = (protocol: (typeof protocols)[number], token?: string) =>
  createClient(GreeterService, exampleTransport(server.url, protocol, token));

function assertNoToken(text: string, ...tokens: string[]) {
  for (const t of tokens) {
    assert.ok(!text.includes(t), "the token must not be echoed");
    assert.ok(!text.includes(t.split(".")[1]!), "the token's payload must not be echoed");
  }
}

test("the demo's five cases end as the contract says, on every protocol", async () => {
  const results = await runDemoCases(server.url, server.devIssuer!);
  assert.equal(results.length, 15);
  const expected: Record<string, [Code | "OK", string | undefined]> = {
    "public call, no token": ["OK", undefined],
    "scope greet": ["OK", undefined],
    "no token": [Code.Unauthenticated, "MISSING_CREDENTIALS"],
    "admin with only greet": [Code.PermissionDenied, "INSUFFICIENT_SCOPE"],
    "expired token": [Code.Unauthenticated, "TOKEN_EXPIRED"],
  };
  for (const r of results) {
    assert.deepEqual([r.code, r.reason], expected[r.case.name], `${r.case.name} over ${r.protocol}`);
  }
});

for (const protocol of protocols) {
  describe(protocol, () => {
    test("challenge reaches the client (header, end-of-stream or trailers)", async () => {
      const missing = await failure(client(protocol).greet({}));
      assert.equal(missing.wwwAuthenticate, 'Bearer realm="greeter"');
      const scope = await failure(client(protocol, greet).admin({}));
      assert.equal(scope.wwwAuthenticate, 'Bearer realm="greeter", error="insufficient_scope", scope="admin greet"');
      assert.deepEqual(scope.failure?.requiredScopes, ["admin", "greet"]);
      const exp = await failure(client(protocol, expired).greet({}));
      assert.equal(exp.failure?.challenge?.params["error"], "invalid_token");
      assertNoToken(JSON.stringify({ ...exp.error, metadata: [...exp.error.metadata] }) + exp.error.message, expired);
    });

    test("authorized calls: unary, WhoAmI, Admin, server streaming", async () => {
      assert.match((await client(protocol, greet).greet({ name: "Ada" })).greeting, /Hello, Ada! \(from alice\)/);
      const me = await client(protocol, admin).whoAmI({});
      assert.deepEqual([me.subject, me.scopes, me.authenticator], ["root", ["admin", "greet"], "jwt"]);
      assert.match((await client(protocol, admin).admin({})).message, /root/);
      const got: string[] = [];
      for await (const m of client(protocol, greet).greetStream({ name: "Bo", count: 2 })) got.push(m.greeting);
      assert.deepEqual(got, ["Hello #1, Bo! (from alice)", "Hello #2, Bo! (from alice)"]);
    });

    test("server streaming without a credential fails before any message", async () => {
      const got: unknown[] = [];
      const f = await failure(
        (async () => {
          for await (const m of client(protocol).greetStream({ name: "x" })) got.push(m);
        })(),
      );
      assert.equal(f.failure?.reason, "MISSING_CREDENTIALS");
      assert.equal(f.code, Code.Unauthenticated);
      assert.deepEqual(got, []);
    });

    test("a token from another issuer key is INVALID_TOKEN", async () => {
      const forged = greet.slice(0, greet.lastIndexOf(".") + 1) + "A".repeat(86);
      const f = await failure(client(protocol, forged).greet({}));
      assert.equal(f.failure?.reason, "INVALID_TOKEN");
      assert.equal(f.failure?.metadata["detail"], "signature");
    });
  });
}

test("client streaming (HTTP/2): authorized and refused", async () => {
  async function* names() {
    yield { name: "a" };
    yield { name: "b" };
  }
  for (const protocol of ["connect", "grpc"] as const) {
    assert.equal((await client(protocol, greet).greetMany(names())).greeting, "Hello, a and b! (from alice)");
    const f = await failure(client(protocol).greetMany(names()));
    assert.equal(f.failure?.reason, "MISSING_CREDENTIALS");
  }
});

test("Connect unary over plain HTTP: 401/403 with WWW-Authenticate, and the token never in the answer", async () => {
  const call = (method: string, token?: string) =>
    fetch(`${server.url}/example.v1.GreeterService/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: "{}",
    });
  const r401 = await call("Greet", expired);
  assert.equal(r401.status, 401);
  assert.equal(r401.headers.get("www-authenticate"), 'Bearer realm="greeter", error="invalid_token"');
  const body = await r401.text();
  assertNoToken(body + JSON.stringify([...r401.headers]), expired);
  assert.equal(JSON.parse(body).code, "unauthenticated");
  const r403 = await call("Admin", greet);
  assert.equal(r403.status, 403);
  await r403.body?.cancel();
  const r200 = await call("Ping");
  assert.equal(r200.status, 200);
  assert.deepEqual(await r200.json(), { message: "pong (caller: anonymous)" });
});

test("two Authorization headers over HTTP/1.1 are MULTIPLE_CREDENTIALS, not first-wins", async () => {
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(`${server.url}/example.v1.GreeterService/Greet`, {
      method: "POST",
      // Raw header pairs, so that both Authorization lines go out (Node's client adds no Host then).
      headers: [
        ["host", new URL(server.url).host],
        ["content-type", "application/json"],
        ["authorization", `Bearer ${greet}`],
        ["authorization", `Bearer ${admin}`],
      ].flat(),
    });
    req.on("response", (res) => {
      let text = "";
      res
        .setEncoding("utf8")
        .on("data", (c) => (text += c))
        .on("end", () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on("error", reject);
    req.end("{}");
  });
  assert.equal(status, 401, body);
  assert.match(body, /MULTIPLE_CREDENTIALS|more than one/);
  assertNoToken(body, greet, admin);
});

test("CORS: preflight allows Authorization; answers expose WWW-Authenticate", async () => {
  const pre = await fetch(`${server.url}/example.v1.GreeterService/Greet`, {
    method: "OPTIONS",
    headers: {
      origin: "http://app.test",
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization",
    },
  });
  assert.equal(pre.status, 204);
  assert.match(pre.headers.get("access-control-allow-headers") ?? "", /\bAuthorization\b/);
  const r = await fetch(`${server.url}/example.v1.GreeterService/Greet`, {
    method: "POST",
    headers: { origin: "http://app.test", "content-type": "application/json" },
    body: "{}",
  });
  await r.body?.cancel();
  assert.equal(r.headers.get("access-control-allow-origin"), "http://app.test");
  assert.match(r.headers.get("access-control-expose-headers") ?? "", /\bWWW-Authenticate\b/);
});

test("the development issuer serves its JWKS and discovery document", async () => {
  const jwks = await (await fetch(`${server.url}/.well-known/jwks.json`)).json();
  assert.equal(jwks.keys.length, 1);
  assert.equal(jwks.keys[0].kty, "EC");
  assert.equal(jwks.keys[0].d, undefined, "no private key material");
  const disco = await (await fetch(`${server.url}/.well-known/openid-configuration`)).json();
  assert.equal(disco.issuer, server.url);
});
