// The client interceptor over real HTTP with every Node transport: a token the server rejects is replaced
// once and the call succeeds; a refusal to send in plaintext happens before any request.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as web from "@connectrpc/connect-web";
import { type ClientAuthEvent, createAuthInterceptor, createCachedTokenSource, readAuthFailure } from "@connectauth/client";
import { GreeterService } from "../../packages/example/src/gen/example/v1/greeter_pb.js";
import { type ExampleServer, startExampleServer } from "../../packages/example/src/server.js";

let server: ExampleServer;
before(async () => {
  server = await startExampleServer();
});
after(() => server.close());

const transports: Record<string, (interceptors: Interceptor[]) => Transport> = {
  "connect (HTTP/2)": (interceptors) => createConnectTransport({ baseUrl: server.url, httpVersion: "2", interceptors }),
  "grpc (HTTP/2)": (interceptors) => createGrpcTransport({ baseUrl: server.url, interceptors }),
  "grpc-web (HTTP/1.1)": (interceptors) => createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1", interceptors }),
  "connect-web (fetch)": (interceptors) => web.createConnectTransport({ baseUrl: server.url, interceptors }),
};

/** A caching source whose first token the server will reject (`first`), then valid ones; counts loads. */
function staleThenFresh(first: "expired" | "wrong-audience") {
  let loads = 0;
  const source = createCachedTokenSource({
    load: async () => {
      const issuer = server.devIssuer!;
      const token =
        loads++ > 0
          ? await issuer.mint({ subject: "svc", scopes: ["greet"] })
          : first === "expired"
            ? await issuer.mint({ subject: "svc", scopes: ["greet"], ttlSeconds: -60 })
            : await issuer.mint({ subject: "svc", scopes: ["greet"], audience: "someone-else" });
      return { token, expiresIn: 300 };
    },
  });
  return { source, loads: () => loads };
}

for (const [name, make] of Object.entries(transports)) {
  test(`${name}: a rejected token is refreshed and the call succeeds, once`, async () => {
    for (const first of ["expired", "wrong-audience"] as const) {
      const { source, loads } = staleThenFresh(first);
      const events: ClientAuthEvent[] = [];
      const client = createClient(
        GreeterService,
        make([createAuthInterceptor({ token: source, onEvent: (e) => events.push(e) })]),
      );
      assert.match((await client.greet({ name: "r" })).greeting, /Hello, r! \(from svc\)/);
      assert.equal(loads(), 2, first);
      assert.deepEqual(
        events.map((e) => (e.type === "retry" ? `retry ${e.reason}` : `${e.type} ${e.type === "refresh" && e.trigger}`)),
        ["refresh initial", "refresh invalidated", `retry ${first === "expired" ? "TOKEN_EXPIRED" : "INVALID_AUDIENCE"}`],
      );
    }
    const { source, loads } = staleThenFresh("expired");
    const client = createClient(GreeterService, make([createAuthInterceptor({ token: source })]));
    const got: string[] = [];
    for await (const m of client.greetStream({ name: "s", count: 2 })) got.push(m.greeting);
    assert.deepEqual(got, ["Hello #1, s! (from svc)", "Hello #2, s! (from svc)"]);
    assert.equal(loads(), 2, "server streaming retried before its first message");
  });
}

test("client streaming over HTTP/2 is not retried: the rejection reaches the app", async () => {
  const { source, loads } = staleThenFresh("expired");
  const client = createClient(GreeterService, transports["connect (HTTP/2)"]!([createAuthInterceptor({ token: source })]));
  async function* names() {
    yield { name: "a" };
  }
  await assert.rejects(client.greetMany(names()), (e: unknown) => readAuthFailure(e)?.reason === "TOKEN_EXPIRED");
  assert.equal(loads(), 1);
});

test("an insecure URL fails before any request is sent (and before the token is fetched)", async () => {
  let requests = 0;
  let tokens = 0;
  const transport = web.createConnectTransport({
    baseUrl: "http://api.example.test",
    // Would forward to the real server on loopback: proves nothing was attempted at all.
    fetch: (input, init) => {
      requests++;
      return fetch(String(input).replace("http://api.example.test", server.url), init);
    },
    interceptors: [
      createAuthInterceptor({
        token: () => {
          tokens++;
          return "never-sent";
        },
      }),
    ],
  });
  const client = createClient(GreeterService, transport);
  const error = await client.greet({}).then(
    () => assert.fail("expected a refusal"),
    (e: unknown) => ConnectError.from(e),
  );
  assert.equal(error.code, Code.FailedPrecondition);
  assert.equal(readAuthFailure(error)?.action, "fix_configuration");
  assert.match(error.message, /https:\/\/.*allowInsecureTransport/);
  assert.deepEqual([requests, tokens], [0, 0]);
  assert.equal((await client.ping({})).message, "pong (caller: anonymous)", "public methods still go (no credential)");
  assert.equal(requests, 1);
});
