import { test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { GreeterService } from "../../example/src/gen/example/v1/greeter_pb.js";
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
