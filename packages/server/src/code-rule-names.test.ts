// Rules in code name what they rule exactly: a wrong name fails when the server is set up, a right one
// overrides the proto rule on the wire (in memory, through createRouterTransport).
import { suite, test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, type Interceptor, createClient, createRouterTransport } from "@connectrpc/connect";
import { readAuthFailure } from "@connectauth/core";
import { GreeterService } from "../../example/src/gen/example/v1/greeter_pb.js";
import { type Authenticator, accepted, rejected } from "./authenticator.js";
import { type ServerAuthOptions, createServerAuth } from "./server-auth.js";

const greetToken: Authenticator = {
  name: "fixed",
  schemes: ["bearer"],
  async authenticate({ value }) {
    if (value !== "greet-token") return rejected("INVALID_TOKEN", { detail: "unknown" });
    return accepted({ subject: "alice", scopes: new Set(["greet"]), claims: {}, authenticator: "fixed" });
  },
};

/** A Greeter client through an in-memory server behind `createServerAuth` (gate and interceptor). */
function greeter(authorization: ServerAuthOptions["authorization"], token?: string) {
  const auth = createServerAuth({ authenticators: [greetToken], authorization });
  const bearer: Interceptor = (next) => (req) => {
    if (token !== undefined) req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
  const transport = createRouterTransport(
    (router) => router.service(GreeterService, { ping: () => ({ message: "pong" }), greet: () => ({ greeting: "hi" }) }),
    {
      router: { requestGate: auth.requestGate, interceptors: [auth.interceptor] },
      transport: { interceptors: [bearer] },
    },
  );
  return createClient(GreeterService, transport);
}

suite("createServerAuth({ authorization: { rules, services } })", () => {
  test("a rule under the JS local name throws at setup, naming the key and the real name", () => {
    assert.throws(
      () =>
        createServerAuth({
          authenticators: [greetToken],
          authorization: { rules: { "example.v1.GreeterService/ping": { public: true } }, services: [GreeterService] },
        }),
      (e: Error) =>
        e instanceof TypeError &&
        e.message.includes('"example.v1.GreeterService/ping"') &&
        e.message.includes('did you mean "example.v1.GreeterService/Ping"?'),
    );
    // The same mistake made the other way round (wanting Ping to need a scope) would have left it public.
    assert.throws(() => greeter({ rules: { "example.v1.Greeterservice/Ping": { allScopes: ["greet"] } }, services: [GreeterService] }), TypeError);
  });

  test("rules without services throw at setup: no name could be checked", () => {
    assert.throws(
      () => greeter({ rules: { "example.v1.GreeterService/Ping": { allScopes: ["greet"] } } }),
      (e: Error) => e instanceof TypeError && /rules need services/.test(e.message),
    );
  });

  test("the right name overrides the proto rule over the wire", async () => {
    // The proto makes Ping public: without code rules, a call without a token passes.
    assert.equal((await greeter({ services: [GreeterService] }).ping({})).message, "pong");
    const authorization = { rules: { "example.v1.GreeterService/Ping": { allScopes: ["greet"] } }, services: [GreeterService] };
    await assert.rejects(greeter(authorization).ping({}), (e) => {
      const error = ConnectError.from(e);
      return error.code === Code.Unauthenticated && readAuthFailure(error)?.reason === "MISSING_CREDENTIALS";
    });
    assert.equal((await greeter(authorization, "greet-token").ping({})).message, "pong");
  });
});
