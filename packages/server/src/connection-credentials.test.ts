// Credentials of the connection (authenticateConnection), as a TLS client certificate authenticator
// uses them; here the "connection" is a request header, so the gate's logic is tested in memory.
import { test } from "node:test";
import assert from "node:assert/strict";
import { failure } from "../../../test/support/failure.js";
import { greeterClient } from "./test-support/greeter.js";
import { type Authenticator, accepted, rejected } from "./authenticator.js";
import { createServerAuth } from "./server-auth.js";

let consulted = 0;
const peer: Authenticator = {
  name: "peer",
  schemes: [],
  authenticate: async () => rejected("MALFORMED_CREDENTIALS"),
  async authenticateConnection({ requestHeader }) {
    consulted++;
    const who = requestHeader.get("x-peer");
    if (who === null) return undefined;
    if (who === "throw") throw new Error("secret-detail");
    if (who === "stranger") return rejected("INVALID_CLIENT_CERTIFICATE", { detail: "unknown_identity" });
    return accepted({ subject: who, scopes: new Set(who === "billing" ? ["greet"] : []), claims: {}, authenticator: "peer" });
  },
};
const bearer: Authenticator = {
  name: "bearer",
  schemes: ["bearer"],
  authenticate: async ({ value }) =>
    accepted({ subject: `token:${value}`, scopes: new Set(["greet"]), claims: {}, authenticator: "bearer" }),
};

const auth = createServerAuth({ authenticators: [bearer, peer], realm: "r" });
const client = greeterClient({ router: { requestGate: auth.requestGate, interceptors: [auth.interceptor] } });
const headers = (h: Record<string, string>) => ({ headers: h });
/** Code, reason, authenticator and message of a refused call. */
async function reason(call: Promise<unknown>) {
  const { code, failure: f, error } = await failure(call);
  return [code, f?.reason, f?.metadata["authenticator"], error.message];
}

test("without an Authorization header, the connection's credential decides", async () => {
  assert.equal((await client.greet({ name: "x" }, headers({ "x-peer": "billing" }))).greeting, "hi x from billing");
  assert.deepEqual((await reason(client.greet({}, headers({ "x-peer": "reports" })))).slice(0, 3), [
    7,
    "INSUFFICIENT_SCOPE",
    "peer",
  ]);
  assert.deepEqual((await reason(client.greet({}, headers({ "x-peer": "stranger" })))).slice(0, 3), [
    16,
    "INVALID_CLIENT_CERTIFICATE",
    "peer",
  ]);
  assert.deepEqual((await reason(client.ping({}, headers({ "x-peer": "stranger" })))).slice(0, 2), [
    16,
    "INVALID_CLIENT_CERTIFICATE",
  ]);
});

test("no connection credential either: anonymous on public methods, MISSING_CREDENTIALS elsewhere", async () => {
  assert.equal((await client.ping({})).message, "anonymous");
  assert.deepEqual((await reason(client.greet({}))).slice(0, 2), [16, "MISSING_CREDENTIALS"]);
});

test("an Authorization header takes precedence: the connection is not consulted", async () => {
  const before = consulted;
  assert.equal(
    (await client.greet({ name: "x" }, headers({ authorization: "Bearer t", "x-peer": "stranger" }))).greeting,
    "hi x from token:t",
  );
  assert.equal(consulted, before);
});

test("a connection authenticator that throws gives Internal, without its error", async () => {
  const [code, , , message] = await reason(client.greet({}, headers({ "x-peer": "throw" })));
  assert.equal(code, 13);
  assert.ok(!String(message).includes("secret-detail"));
});
