// `connectauth doctor`'s transport verdicts, each from the real situation on loopback: nothing
// listening, https against plaintext and http against TLS, an untrusted or misnamed certificate,
// HTTP/1.1 against an HTTP/2-only server and gRPC against an HTTP/1.1-only one.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import * as http2 from "node:http2";
import type { Server } from "node:net";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generate } from "selfsigned";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createJwtAuthenticator, createServerAuth } from "@connectauth/server";
import { createDevIssuer } from "@connectauth/node/dev";
import { greeterRoutes } from "../../packages/example/src/greeter-service.js";
import { type ExampleServer, startExampleServer } from "../../packages/example/src/server.js";
import { closedPort, doctorJson } from "../support/run-cli.js";
import { type Listening, listenOnLoopback } from "../support/listen.js";

const Greet = "example.v1.GreeterService/Greet";

const servers: Listening[] = [];
let example: ExampleServer;
let dir: string;
let caFile: string;
let namedCaFile: string;
let tlsUrl: string; // self-signed for 127.0.0.1, HTTP/2 and HTTP/1.1
let misnamedUrl: string; // certificate for "localhost" only, called as 127.0.0.1
let h2cOnlyUrl: string;
let h1OnlyUrl: string;
let token: string;

async function listen(server: Server): Promise<string> {
  const listening = await listenOnLoopback(server);
  servers.push(listening);
  return listening.hostPort;
}

before(async () => {
  example = await startExampleServer();
  const issuer = await createDevIssuer({ issuer: "https://issuer.test", audience: "greeter" });
  token = await issuer.mint({ subject: "alice", scopes: ["greet"] });
  const auth = createServerAuth({
    authenticators: [
      createJwtAuthenticator({ issuer: issuer.issuer, audience: "greeter", algorithms: ["ES256"], keys: issuer.jwks }),
    ],
  });
  const handler = connectNodeAdapter({ routes: greeterRoutes, requestGate: auth.requestGate, interceptors: [auth.interceptor] });
  const ip = await generate([{ name: "commonName", value: "127.0.0.1" }], {
    keyType: "ec",
    algorithm: "sha256",
    extensions: [{ name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }] }],
  });
  const named = await generate([{ name: "commonName", value: "localhost" }], {
    keyType: "ec",
    algorithm: "sha256",
    extensions: [{ name: "subjectAltName", altNames: [{ type: 2, value: "localhost" }] }],
  });
  dir = await mkdtemp(join(tmpdir(), "doctor-tls-"));
  caFile = join(dir, "ca.pem");
  await writeFile(caFile, ip.cert);
  namedCaFile = join(dir, "named-ca.pem");
  await writeFile(namedCaFile, named.cert);
  tlsUrl = `https://${await listen(http2.createSecureServer({ cert: ip.cert, key: ip.private, allowHTTP1: true }, handler))}`;
  misnamedUrl = `https://${await listen(http2.createSecureServer({ cert: named.cert, key: named.private, allowHTTP1: true }, handler))}`;
  h2cOnlyUrl = `http://${await listen(http2.createServer(handler))}`;
  h1OnlyUrl = `http://${await listen(http.createServer(handler))}`;
});
after(async () => {
  await example.close();
  for (const s of servers) await s.close();
  await rm(dir, { recursive: true });
});

test("server not reachable: nothing listens on the port", async () => {
  const { code, diagnosis } = await doctorJson([`http://127.0.0.1:${await closedPort()}`, Greet]);
  assert.equal(code, 1);
  assert.equal(diagnosis.verdict.id, "server_unreachable");
  assert.equal(diagnosis.transport.connectError, "ECONNREFUSED");
  assert.equal(diagnosis.call, null);
});

test("https against a plaintext port", async () => {
  const { diagnosis } = await doctorJson([example.url.replace("http:", "https:"), Greet]);
  assert.equal(diagnosis.verdict.id, "tls_to_plaintext");
  assert.equal(diagnosis.transport.speaksTls, false);
  assert.match(diagnosis.verdict.fix, new RegExp(`use ${example.url.replace(/\./g, "\\.")}`));
});

test("http against a TLS port", async () => {
  const { diagnosis } = await doctorJson([tlsUrl.replace("https:", "http:"), Greet]);
  assert.equal(diagnosis.verdict.id, "plaintext_to_tls");
  assert.equal(diagnosis.transport.speaksTls, true);
  assert.match(diagnosis.verdict.fix, new RegExp(`use ${tlsUrl.replace(/\./g, "\\.")}`));
});

test("an untrusted (self-signed) certificate, then the same server with its CA trusted", async () => {
  const untrusted = await doctorJson([tlsUrl, Greet, "--token", token]);
  assert.equal(untrusted.diagnosis.verdict.id, "certificate_error");
  assert.equal(untrusted.diagnosis.transport.certificateError, "DEPTH_ZERO_SELF_SIGNED_CERT");
  assert.match(untrusted.diagnosis.verdict.fix, /--ca/);

  const trusted = await doctorJson([tlsUrl, Greet, "--token", token, "--ca", caFile]);
  assert.equal(trusted.diagnosis.verdict.id, "ok", trusted.diagnosis.verdict.summary);
  assert.equal(trusted.diagnosis.transport.alpn, "h2");
  const grpcWeb = await doctorJson([tlsUrl, Greet, "--ca", caFile, "--protocol", "grpc-web", "--http-version", "1.1"]);
  assert.equal(grpcWeb.diagnosis.verdict.id, "missing_credentials", "the call itself went through over TLS and HTTP/1.1");
});

test("a trusted certificate issued for another name", async () => {
  const { diagnosis } = await doctorJson([misnamedUrl, Greet, "--ca", namedCaFile]);
  assert.equal(diagnosis.verdict.id, "certificate_error");
  assert.equal(diagnosis.transport.certificateError, "ERR_TLS_CERT_ALTNAME_INVALID");
  assert.match(diagnosis.verdict.fix, /not issued for "127\.0\.0\.1"/);
});

test("HTTP/1.1 against an HTTP/2-only (h2c) server", async () => {
  const forced = await doctorJson([h2cOnlyUrl, Greet, "--protocol", "grpc-web", "--http-version", "1.1"]);
  assert.equal(forced.diagnosis.verdict.id, "http_version_mismatch");
  assert.match(forced.diagnosis.verdict.summary, /HTTP\/2 only/);
  assert.deepEqual([forced.diagnosis.transport.http1, forced.diagnosis.transport.http2], [false, true]);
  // Left to choose, doctor calls over HTTP/2 and warns about HTTP/1.1 clients.
  const auto = await doctorJson([h2cOnlyUrl, Greet, "--protocol", "grpc-web"]);
  assert.equal(auto.diagnosis.verdict.id, "missing_credentials");
  assert.equal(auto.diagnosis.target.httpVersion, "2");
  assert.ok(auto.diagnosis.notes.some((n) => n.includes("HTTP/2 only")));
});

test("gRPC against an HTTP/1.1-only server", async () => {
  const { diagnosis } = await doctorJson([h1OnlyUrl, Greet, "--protocol", "grpc", "--token", token]);
  assert.equal(diagnosis.verdict.id, "http_version_mismatch");
  assert.match(diagnosis.verdict.summary, /gRPC needs HTTP\/2/);
  const connect = await doctorJson([h1OnlyUrl, Greet, "--protocol", "connect", "--token", token]);
  assert.equal(connect.diagnosis.verdict.id, "ok");
  assert.equal(connect.diagnosis.target.httpVersion, "1.1");
});
