import { test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { GreeterService } from "../../example/src/gen/example/v1/greeter_pb.js";
import { createAuthInterceptor } from "./auth-interceptor.js";
import { isLoopbackUrl } from "./transport-guard.js";

function setup(baseUrl: string, options: Parameters<typeof createAuthInterceptor>[0]) {
  const seen: (string | null)[] = [];
  const transport = createRouterTransport(
    (router) =>
      router.service(GreeterService, {
        greet: (_req, ctx) => (seen.push(ctx.requestHeader.get("authorization")), {}),
        ping: (_req, ctx) => (seen.push(ctx.requestHeader.get("authorization")), {}),
      }),
    { transport: { baseUrl, interceptors: [createAuthInterceptor(options)] } },
  );
  return { client: createClient(GreeterService, transport), seen };
}

test("sends the bearer token from a string, a sync or an async function", async () => {
  for (const token of ["t1", () => "t1", async () => "t1", { getToken: async () => "t1" }]) {
    const { client, seen } = setup("https://api.test", { token });
    await client.greet({});
    assert.deepEqual(seen, ["Bearer t1"]);
  }
});

test("public methods get no credential", async () => {
  const { client, seen } = setup("https://api.test", { token: "t1" });
  await client.ping({});
  assert.deepEqual(seen, [null]);
});

test("plaintext to a remote host is refused before any request; loopback and opt-in are allowed", async () => {
  let fetched = 0;
  const { client, seen } = setup("http://api.test", { token: () => (fetched++, "secret-token") });
  await assert.rejects(client.greet({}), (e: unknown) => {
    assert.ok(e instanceof ConnectError);
    assert.equal(e.code, Code.FailedPrecondition);
    assert.match(e.message, /https:\/\/.*allowInsecureTransport/);
    assert.ok(!e.message.includes("secret-token"));
    return true;
  });
  assert.equal(fetched, 0, "no token is fetched for a refused call");
  assert.deepEqual(seen, [], "no request reached the server");
  await setup("http://127.0.0.1:9", { token: "t" }).client.greet({});
  await setup("http://api.test", { token: "t", allowInsecureTransport: true }).client.greet({});
  await setup("http://api.test", { token: "t" }).client.ping({}); // public: nothing to protect
});

test("loopback detection", () => {
  for (const u of ["http://localhost:1", "http://a.localhost", "http://127.0.0.1", "http://127.8.9.10:80", "http://[::1]:5"]) {
    assert.ok(isLoopbackUrl(u), u);
  }
  for (const u of ["http://10.0.0.1", "http://localhost.evil.test", "http://127.0.0.1.evil.test", "not a url"]) {
    assert.ok(!isLoopbackUrl(u), u);
  }
});

test("bad options fail at creation", () => {
  assert.throws(() => createAuthInterceptor({ token: "" }), TypeError);
  assert.throws(() => createAuthInterceptor({ token: 42 as never }), TypeError);
});
