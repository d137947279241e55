// Zero configuration: `connectauth dev` issues tokens (token mint), the example server trusts it by
// its JWKS URL, `token decode` reads them and `doctor` passes a call with one and explains a denial.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { type DevServer, startDevServer } from "../packages/cli/src/dev-server.js";
import { type ExampleServer, startExampleServer } from "../packages/example/src/server.js";
import { closedPort, doctorJson, runCli } from "./support/run-cli.js";

let dev: DevServer;
let server: ExampleServer;
before(async () => {
  dev = await startDevServer();
  server = await startExampleServer({
    auth: { kind: "external", issuer: dev.url, audience: "greeter", jwksUrl: `${dev.url}/.well-known/jwks.json`, algorithms: ["ES256"] },
  });
});
after(async () => {
  await server.close();
  await dev.close();
});

test("token mint, token decode, and doctor against a server that trusts the dev issuer", async () => {
  const minted = await runCli(["token", "mint", "--issuer", dev.url, "--sub", "alice", "--scope", "greet", "--ttl", "600"]);
  assert.equal(minted.code, 0, minted.stderr);
  const token = minted.stdout.trim();

  const decoded = await runCli(["token", "decode", token, "--json"]);
  assert.equal(decoded.code, 0);
  const facts = JSON.parse(decoded.stdout) as { sub: string; iss: string; scopes: string[]; expiresInSeconds: number };
  assert.deepEqual([facts.sub, facts.iss, facts.scopes], ["alice", dev.url, ["greet"]]);
  assert.ok(facts.expiresInSeconds > 590 && facts.expiresInSeconds <= 600);
  const readable = await runCli(["token", "decode", token]);
  assert.match(readable.stdout, /sub\s+alice/);

  assert.equal((await doctorJson([server.url, "example.v1.GreeterService/Greet", "--token", token])).diagnosis.verdict.id, "ok");
  const admin = await doctorJson([server.url, "example.v1.GreeterService/Admin", "--token", token]);
  assert.equal(admin.diagnosis.verdict.id, "insufficient_scope");
  assert.deepEqual(admin.diagnosis.call?.missingScopes, ["admin"]);
});

test("token mint without a running issuer says how to start one", async () => {
  const result = await runCli(["token", "mint", "--issuer", `http://127.0.0.1:${await closedPort()}`, "--sub", "alice"]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /connectauth dev/);
  assert.equal((await runCli(["token", "mint", "--issuer", dev.url])).code, 2, "--sub is required");
  assert.equal((await runCli(["token", "decode", "not-a-jwt"])).code, 1);
});
