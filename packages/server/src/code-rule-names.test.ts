// Rules in code name what they rule exactly: a wrong name fails when the server is set up, a right one
// overrides the proto rule on the wire (in memory, through createRouterTransport).
import { suite, test } from "node:test";
import assert from "node:assert/strict";
import { Code } from "@connectrpc/connect";
import { failure } from "../../../test/support/failure.js";
import { GreeterService, fixedAuthenticator, greeterClient } from "./test-support/greeter.js";
import { type ServerAuthOptions, createServerAuth } from "./server-auth.js";

/** A Greeter client through an in-memory server behind `createServerAuth` (gate and interceptor). */
function greeter(authorization: ServerAuthOptions["authorization"], token?: string) {
  const auth = createServerAuth({ authenticators: [fixedAuthenticator], authorization });
  return greeterClient({
    router: { requestGate: auth.requestGate, interceptors: [auth.interceptor] },
    header: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
}

suite("createServerAuth({ authorization: { rules, services } })", () => {
  test("a rule under the JS local name throws at setup, naming the key and the real name", () => {
    assert.throws(
      () =>
        createServerAuth({
          authenticators: [fixedAuthenticator],
          authorization: { rules: { "test.v1.GreeterService/ping": { public: true } }, services: [GreeterService] },
        }),
      (e: Error) =>
        e instanceof TypeError &&
        e.message.includes('"test.v1.GreeterService/ping"') &&
        e.message.includes('did you mean "test.v1.GreeterService/Ping"?'),
    );
    // The same mistake made the other way round (wanting Ping to need a scope) would have left it public.
    assert.throws(
      () => greeter({ rules: { "test.v1.Greeterservice/Ping": { allScopes: ["greet"] } }, services: [GreeterService] }),
      TypeError,
    );
  });

  test("rules without services throw at setup: no name could be checked", () => {
    assert.throws(
      () => greeter({ rules: { "test.v1.GreeterService/Ping": { allScopes: ["greet"] } } }),
      (e: Error) => e instanceof TypeError && /rules need services/.test(e.message),
    );
  });

  test("the right name overrides the proto rule over the wire", async () => {
    // The proto makes Ping public: without code rules, a call without a token passes.
    assert.equal((await greeter({ services: [GreeterService] }).ping({})).message, "anonymous");
    const authorization = { rules: { "test.v1.GreeterService/Ping": { allScopes: ["greet"] } }, services: [GreeterService] };
    const f = await failure(greeter(authorization).ping({}));
    assert.deepEqual([f.code, f.failure?.reason], [Code.Unauthenticated, "MISSING_CREDENTIALS"]);
    assert.equal((await greeter(authorization, "greet-token").ping({})).message, "user-of-greet-token");
  });
});
