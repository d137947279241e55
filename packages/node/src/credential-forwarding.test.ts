import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { LookupFunction } from "node:net";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import { ErrorInfoSchema, readAuthFailure } from "@connectauth/core";
import { GreeterService } from "./test-support/gen/test/v1/test_pb.js";
import { type Listening, listenOnLoopback } from "../../../test/support/listen.js";
import { createCredentialForwarding } from "./credential-forwarding.js";

/** B's handlers call C; C answers with the Authorization it got, and refuses "Bearer bad". */
function chain(options?: Parameters<typeof createCredentialForwarding>[0]) {
  const forwarding = createCredentialForwarding(options);
  const c = createRouterTransport(
    (router) =>
      router.service(GreeterService, {
        greet(_req, ctx) {
          const authorization = ctx.requestHeader.get("authorization");
          if (authorization === "Bearer bad") {
            throw new ConnectError("refused", Code.PermissionDenied, { "www-authenticate": "Bearer x", "x-other": "1" });
          }
          return { greeting: authorization ?? "none" };
        },
      }),
    { transport: { interceptors: [forwarding.clientInterceptor] } },
  );
  const toC = createClient(GreeterService, c);
  const b = createRouterTransport(
    (router) =>
      router.service(GreeterService, {
        greet: () => toC.greet({}),
        async *greetStream() {
          await new Promise((r) => setTimeout(r, 1)); // resumes later, outside the interceptor's call
          yield { greeting: (await toC.greet({})).greeting };
        },
      }),
    { router: { interceptors: [forwarding.serverInterceptor] } },
  );
  return { forwarding, toC, b: createClient(GreeterService, b) };
}
const as = (authorization: string) => ({ headers: { authorization } });

test("the caller's Authorization reaches the downstream call, in unary and streaming handlers", async () => {
  const { b } = chain();
  assert.equal((await b.greet({}, as("Bearer t1"))).greeting, "Bearer t1");
  const streamed: string[] = [];
  for await (const m of b.greetStream({}, as("Bearer t2"))) streamed.push(m.greeting);
  assert.deepEqual(streamed, ["Bearer t2"]);
  assert.equal((await b.greet({})).greeting, "none", "no credential, none forwarded");
});

test("exchange replaces a bearer token; run() sets the credential outside an RPC", async () => {
  const { b, forwarding, toC } = chain({ exchange: async (t) => `exchanged-${t}` });
  assert.equal((await b.greet({}, as("Bearer t1"))).greeting, "Bearer exchanged-t1");
  assert.equal((await forwarding.run("Bearer job", () => toC.greet({}))).greeting, "Bearer exchanged-job");
  assert.equal((await toC.greet({})).greeting, "none");
});

test("a downstream refusal is relayed with its code, message and challenge, not its other headers", async () => {
  const { b } = chain();
  const error = await b.greet({}, as("Bearer bad")).then(
    () => assert.fail("expected a refusal"),
    (e: unknown) => ConnectError.from(e),
  );
  assert.equal(error.code, Code.PermissionDenied);
  assert.equal(error.rawMessage, "refused");
  assert.equal(error.metadata.get("www-authenticate"), "Bearer x");
  assert.equal(error.metadata.get("x-other"), null);
});

test("misuse throws TypeError", () => {
  assert.throws(() => createCredentialForwarding({ exchange: "nope" as never }), TypeError);
});

// Over the wire: C is a real listener on 127.0.0.1. Its remote name c.example.test resolves to it (a
// `lookup` in nodeOptions, and no other name resolves), so a credential the guard let through would reach it.
const remoteName = "c.example.test";
const lookup = ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
  if (hostname !== remoteName)
    callback(Object.assign(new Error(`not resolved in this test: ${hostname}`), { code: "ENOTFOUND" }));
  else if (options.all === true) callback(null, [{ address: "127.0.0.1", family: 4 }]);
  else callback(null, "127.0.0.1", 4);
}) as unknown as LookupFunction;

let listening: Listening;
let port: string;
/** The Authorization of every request that reached C. */
const reachedC: (string | undefined)[] = [];
before(async () => {
  const adapter = connectNodeAdapter({
    routes: (router) => router.service(GreeterService, { greet: () => ({ greeting: "from C" }) }),
  });
  listening = await listenOnLoopback(
    createServer((req, res) => {
      reachedC.push(req.headers.authorization);
      adapter(req, res);
    }),
  );
  port = listening.hostPort.split(":")[1]!;
});
after(() => listening.close());

/** B (in memory) forwards to C at `baseUrl` over connect-node, as a user installs it; counts exchanges. */
function chainTo(baseUrl: string, options: Parameters<typeof createCredentialForwarding>[0] = {}) {
  let exchanged = 0;
  const exchange = options.exchange;
  const forwarding = createCredentialForwarding({
    ...options,
    ...(exchange && {
      exchange: (t: string) => {
        exchanged++;
        return exchange(t);
      },
    }),
  });
  const toC = createClient(
    GreeterService,
    createConnectTransport({
      baseUrl,
      httpVersion: "1.1",
      nodeOptions: { lookup },
      interceptors: [forwarding.clientInterceptor],
    }),
  );
  const b = createRouterTransport((router) => router.service(GreeterService, { greet: () => toC.greet({}) }), {
    router: { interceptors: [forwarding.serverInterceptor] },
  });
  reachedC.length = 0;
  return { b: createClient(GreeterService, b), forwarding, toC, exchanged: () => exchanged };
}

const reasonOf = (e: unknown) => readAuthFailure(e);

test("forwarding over plaintext to a remote downstream, however spelled, is refused before any request", async () => {
  for (const baseUrl of [`http://${remoteName}:${port}`, `HTTP://${remoteName}:${port}`, ` Http://${remoteName}:${port}`]) {
    const { b, exchanged } = chainTo(baseUrl, { exchange: (t) => `x-${t}` });
    await assert.rejects(b.greet({}, as("Bearer secret-t1")), (e: unknown) => {
      assert.ok(e instanceof ConnectError);
      assert.equal(e.code, Code.FailedPrecondition, baseUrl);
      assert.equal(reasonOf(e)?.reason, "INSECURE_TRANSPORT");
      assert.ok(!JSON.stringify([e.message, e.findDetails(ErrorInfoSchema)]).includes("secret"));
      return true;
    });
    assert.deepEqual(reachedC, [], `C saw no request for ${JSON.stringify(baseUrl)}`);
    assert.equal(exchanged(), 0, "the token is not even exchanged");
  }
});

test("forwarding to loopback http:, to https:, or with allowInsecureTransport works", async () => {
  const loopback = chainTo(`http://127.0.0.1:${port}`);
  assert.equal((await loopback.b.greet({}, as("Bearer t1"))).greeting, "from C");
  assert.deepEqual(reachedC, ["Bearer t1"]);
  const optIn = chainTo(`HTTP://${remoteName}:${port}`, { allowInsecureTransport: true });
  assert.equal((await optIn.b.greet({}, as("Bearer t2"))).greeting, "from C");
  assert.deepEqual(reachedC, ["Bearer t2"], "the refused setup above would have reached C");
  // https: in memory (createRouterTransport's base URL is https://in-memory).
  assert.equal((await chain().b.greet({}, as("Bearer t3"))).greeting, "Bearer t3");
});

test("an exchanged token or a run() credential that is not a token68 is refused: TOKEN_UNAVAILABLE, nothing sent, not quoted", async () => {
  for (const bad of ["secret\r\nx-injected: 1", "secret token", "", "sécret"]) {
    const { forwarding, toC } = chainTo(`http://127.0.0.1:${port}`);
    const { b } = chainTo(`http://127.0.0.1:${port}`, { exchange: () => bad });
    const viaExchange = b.greet({}, as("Bearer t1"));
    const viaRun = forwarding.run(`Bearer ${bad}`, () => toC.greet({}));
    for (const call of [viaExchange, viaRun]) {
      await assert.rejects(call, (e: unknown) => {
        assert.ok(e instanceof ConnectError);
        assert.equal(e.code, Code.Unavailable, JSON.stringify(bad));
        assert.equal(reasonOf(e)?.reason, "TOKEN_UNAVAILABLE");
        assert.equal(reasonOf(e)?.metadata["detail"], "malformed_token");
        assert.doesNotMatch(JSON.stringify([e.message, String(e.cause), e.findDetails(ErrorInfoSchema)]), /secret|sécret/);
        return true;
      });
    }
    assert.deepEqual(reachedC, [], "no request reached C");
  }
});
