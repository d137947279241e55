// `connectauth doctor` asks the server's grpc.health.v1 before the call: a real example server whose
// JWKS is down (server_not_ready, why in fixed words, then the call's own verdict), one with its keys
// (SERVING), one without a health service (a quiet note) and one whose health service is not public.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as http2 from "node:http2";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createJwtAuthenticator, createServerAuth, healthRoutes } from "@connectauth/server";
import { createDevIssuer } from "@connectauth/node/dev";
import { greeterRoutes } from "../../packages/example/src/greeter-service.js";
import { startExampleServer } from "../../packages/example/src/server.js";
import { type Listening, listenOnLoopback } from "../support/listen.js";
import { closedPort, doctorJson, runCli } from "../support/run-cli.js";

const Greet = "example.v1.GreeterService/Greet";
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers) await close();
});

/** A Greeter server of our own (h2c), with or without the health service, whose keys are in memory. */
async function greeterServer(health: "none" | "not_public"): Promise<{ url: string; token: string }> {
  const issuer = await createDevIssuer({ issuer: "https://issuer.test", audience: "greeter" });
  const auth = createServerAuth({
    authenticators: [
      createJwtAuthenticator({ issuer: issuer.issuer, audience: "greeter", algorithms: ["ES256"], keys: issuer.jwks }),
    ],
  });
  const routes = auth.install({
    routes: (router: ConnectRouter) => {
      greeterRoutes(router);
      if (health === "not_public") healthRoutes(router, { readiness: auth.readiness });
    },
  });
  const listening: Listening = await listenOnLoopback(http2.createServer(connectNodeAdapter(routes)));
  closers.push(() => listening.close());
  return { url: `http://${listening.hostPort}`, token: await issuer.mint({ subject: "alice", scopes: ["greet"] }) };
}

test("doctor: a server whose JWKS is down says server_not_ready before the call, and the call's verdict follows", async () => {
  const jwksPort = await closedPort();
  const jwksUrl = `http://127.0.0.1:${jwksPort}/jwks.json?token=sekrit`;
  const server = await startExampleServer({
    auth: { kind: "external", issuer: "https://issuer.test", audience: "greeter", jwksUrl, algorithms: ["ES256"] },
  });
  closers.push(() => server.close());
  const far = await createDevIssuer({ issuer: "https://issuer.test", audience: "greeter" });
  const token = await far.mint({ subject: "alice", scopes: ["greet"] });
  for (const protocol of ["connect", "grpc", "grpc-web"] as const) {
    const { code, diagnosis } = await doctorJson([server.url, Greet, "--token", token, "--protocol", protocol]);
    assert.equal(diagnosis.health?.status, "NOT_SERVING", protocol);
    assert.equal(diagnosis.health?.verdict?.id, "server_not_ready", protocol);
    assert.equal(diagnosis.health?.verdict?.ok, false);
    assert.match(
      diagnosis.health?.verdict?.summary ?? "",
      /^the server cannot reach its keys \(grpc\.health\.v1 says NOT_SERVING\): jwt: /,
    );
    assert.match(diagnosis.health?.verdict?.fix ?? "", /JWKS/);
    assert.equal(diagnosis.verdict.id, "keys_unavailable", "the call's verdict is still the call's");
    assert.equal(code, 1);
  }
  // The calls before fetched and failed: the readiness now names the fault's word.
  const { diagnosis } = await doctorJson([server.url, Greet, "--token", token]);
  assert.deepEqual(diagnosis.health?.readiness, [{ kind: "auth", name: "jwt", word: "network" }]);
  assert.match(diagnosis.health?.verdict?.summary ?? "", /jwt: network \(the JWKS request failed before any answer/);
  const text = await runCli(["doctor", server.url, Greet, "--token", token]);
  assert.ok(text.stdout.indexOf("server_not_ready") < text.stdout.indexOf("verdict: keys_unavailable"), text.stdout);
  assert.match(text.stdout, /health\n {2}✗ server_not_ready {2}the server cannot reach its keys/);
  for (const out of [text.stdout, JSON.stringify(diagnosis)]) {
    assert.ok(!out.includes(String(jwksPort)) && !out.includes("sekrit"), "no JWKS URL is printed");
    assert.ok(!out.includes(token), "nor the token");
  }
});

test("doctor: a server with its keys says SERVING in one line, and no note", async () => {
  const server = await startExampleServer();
  closers.push(() => server.close());
  const token = await server.devIssuer!.mint({ subject: "alice", scopes: ["greet"] });
  const { code, diagnosis } = await doctorJson([server.url, Greet, "--token", token]);
  assert.equal(code, 0);
  assert.equal(diagnosis.health?.status, "SERVING");
  assert.equal(diagnosis.health?.serviceStatus, "SERVING");
  assert.deepEqual(diagnosis.health?.verdict, {
    id: "ok",
    ok: true,
    summary: "the server is ready (grpc.health.v1 says SERVING for example.v1.GreeterService too).",
    fix: "",
  });
  assert.deepEqual(diagnosis.health?.readiness, [{ kind: "auth", name: "jwt", word: "ready" }]);
  assert.deepEqual(diagnosis.notes, []);
  const text = await runCli(["doctor", server.url, Greet, "--token", token]);
  assert.match(text.stdout, /health\n {2}✓ the server is ready \(grpc\.health\.v1 says SERVING/);
});

test("doctor: a server without the health service gets a quiet note, never a failure", async () => {
  const { url, token } = await greeterServer("none");
  const { code, diagnosis } = await doctorJson([url, Greet, "--token", token]);
  assert.equal(diagnosis.verdict.id, "ok");
  assert.equal(code, 0);
  assert.equal(diagnosis.health?.status, null);
  assert.equal(diagnosis.health?.error, "Unimplemented");
  assert.equal(diagnosis.health?.verdict, null);
  assert.ok(diagnosis.notes.includes("no health service (grpc.health.v1); skipped."), diagnosis.notes.join("\n"));
});

test("doctor: a health service that refuses a Check without a credential is named not public", async () => {
  const { url, token } = await greeterServer("not_public");
  const { code, diagnosis } = await doctorJson([url, Greet, "--token", token]);
  assert.equal(diagnosis.verdict.id, "ok");
  assert.equal(code, 0);
  assert.equal(diagnosis.health?.error, "Unauthenticated");
  assert.equal(diagnosis.health?.verdict, null);
  assert.match(diagnosis.notes.join("\n"), /the health service is not public: .*"grpc\.health\.v1\.Health": \{ public: true \}/);
});
