// `connectauth doctor` against the real example server (h2c + HTTP/1.1, Connect, gRPC, gRPC-web) with
// real tokens: every auth diagnosis comes from the real situation, on every protocol.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createDevIssuer, type DevIssuer } from "@connectauth/node/dev";
import { type ExampleServer, startExampleServer } from "../../packages/example/src/server.js";
import { closedPort, doctorJson, runCli } from "../support/run-cli.js";

const Greet = "example.v1.GreeterService/Greet";
const Admin = "example.v1.GreeterService/Admin";
const Ping = "example.v1.GreeterService/Ping";

let server: ExampleServer;
let issuer: DevIssuer;
let stranger: DevIssuer; // same iss and aud, another key
before(async () => {
  server = await startExampleServer();
  issuer = server.devIssuer!;
  stranger = await createDevIssuer({ issuer: server.url, audience: "greeter" });
});
after(() => server.close());

interface Case {
  readonly verdict: string;
  readonly method: string;
  readonly token?: () => Promise<string>;
  readonly check?: (d: Awaited<ReturnType<typeof doctorJson>>["diagnosis"]) => void;
}

const cases: Case[] = [
  { verdict: "ok", method: Ping },
  { verdict: "ok", method: Greet, token: () => issuer.mint({ subject: "alice", scopes: ["greet"] }) },
  {
    verdict: "missing_credentials",
    method: Greet,
    check: (d) => {
      assert.equal(d.call?.reason, "MISSING_CREDENTIALS");
      assert.match(d.call?.challenge ?? "", /^Bearer realm="greeter"$/);
    },
  },
  {
    verdict: "malformed_credentials",
    method: Greet,
    // A common mistake: the token pasted with its scheme.
    token: async () => `Bearer ${await issuer.mint({ subject: "alice", scopes: ["greet"] })}`,
    check: (d) => assert.match(d.verdict.fix, /starts with "Bearer "/),
  },
  {
    verdict: "token_expired",
    method: Greet,
    token: () => issuer.mint({ subject: "alice", scopes: ["greet"], ttlSeconds: -7200 }),
    check: (d) => {
      assert.match(d.verdict.summary, /expired 2 h ago/);
      assert.ok(d.token!.expiresInSeconds! < -7000);
    },
  },
  {
    verdict: "token_not_yet_valid",
    method: Greet,
    token: () => issuer.mint({ subject: "alice", scopes: ["greet"], notBeforeSeconds: 600 }),
    check: (d) => assert.match(d.verdict.summary, /10 min ahead of this machine's clock/),
  },
  {
    verdict: "invalid_audience",
    method: Greet,
    token: () => issuer.mint({ subject: "alice", scopes: ["greet"], audience: "billing" }),
    check: (d) => assert.match(d.verdict.summary, /aud: billing/),
  },
  {
    verdict: "invalid_issuer",
    method: Greet,
    token: () => issuer.mint({ subject: "alice", scopes: ["greet"], issuer: "https://staging-issuer.test" }),
    check: (d) => assert.match(d.verdict.summary, /iss: https:\/\/staging-issuer\.test/),
  },
  {
    verdict: "unknown_key",
    method: Greet,
    token: () => stranger.mint({ subject: "alice", scopes: ["greet"] }),
    check: (d) => {
      assert.equal(d.call?.metadata["detail"], "unknown_key");
      assert.ok(d.verdict.summary.includes(`kid: ${stranger.keyId}`));
    },
  },
  {
    verdict: "insufficient_scope",
    method: Admin,
    token: () => issuer.mint({ subject: "alice", scopes: ["greet"] }),
    check: (d) => {
      assert.deepEqual(d.call?.requiredScopes, ["admin", "greet"]);
      assert.deepEqual(d.call?.grantedScopes, ["greet"]);
      assert.deepEqual(d.call?.missingScopes, ["admin"]);
      assert.match(d.verdict.fix, /scope "admin greet"/);
    },
  },
  {
    verdict: "invalid_token",
    method: Greet,
    // Valid for two days: more than the servers' default cap (maxLifetimeSeconds, one day).
    token: () => issuer.mint({ subject: "alice", scopes: ["greet"], ttlSeconds: 172800 }),
    check: (d) => {
      assert.equal(d.call?.metadata["detail"], "lifetime");
      assert.match(d.verdict.summary, /valid for longer than the server accepts \(2 days from iat to exp\)/);
      assert.match(d.verdict.fix, /createJwtAuthenticator\(\{ maxLifetimeSeconds: 172800 \}\)/);
      assert.doesNotMatch(d.verdict.fix, /unaltered/);
    },
  },
  { verdict: "method_not_found", method: "example.v1.GreeterService/Gret" },
];

for (const protocol of ["connect", "grpc", "grpc-web"] as const) {
  describe(`doctor over ${protocol}`, () => {
    for (const c of cases) {
      test(`${c.verdict} (${c.method.split("/")[1]})`, async () => {
        const token = c.token === undefined ? undefined : await c.token();
        const args = [server.url, c.method, "--protocol", protocol, ...(token === undefined ? [] : ["--token", token])];
        const { code, stdout, diagnosis } = await doctorJson(args);
        assert.equal(diagnosis.verdict.id, c.verdict, diagnosis.verdict.summary);
        assert.equal(code, c.verdict === "ok" ? 0 : 1);
        assert.equal(diagnosis.target.protocol, protocol);
        if (c.verdict !== "ok") assert.notEqual(diagnosis.verdict.fix, "");
        c.check?.(diagnosis);
        if (token !== undefined) {
          const bare = token.replace(/^Bearer /, "");
          assert.ok(!stdout.includes(bare), "the report never holds the token");
          assert.match(diagnosis.token!.hash, /^[0-9a-f]{8}$/);
        }
      });
    }
  });
}

test("doctor: the server cannot reach its keys (KEYS_UNAVAILABLE), not the token's fault", async () => {
  const jwksPort = await closedPort();
  const issuerUrl = "https://issuer.test";
  const keyless = await startExampleServer({
    auth: {
      kind: "external",
      issuer: issuerUrl,
      audience: "greeter",
      jwksUrl: `http://127.0.0.1:${jwksPort}/jwks.json`,
      algorithms: ["ES256"],
    },
  });
  try {
    const far = await createDevIssuer({ issuer: issuerUrl, audience: "greeter" });
    const token = await far.mint({ subject: "alice", scopes: ["greet"] });
    const { diagnosis } = await doctorJson([keyless.url, Greet, "--token", token]);
    assert.equal(diagnosis.verdict.id, "keys_unavailable");
    assert.equal(diagnosis.call?.codeName, "Unavailable");
    assert.match(diagnosis.verdict.fix, /JWKS/);
  } finally {
    await keyless.close();
  }
});

test("doctor: a proxy that drops the Authorization header", async () => {
  const http = await import("node:http");
  const { listenOnLoopback } = await import("../support/listen.js");
  // An HTTP/1.1 reverse proxy that forwards everything but the credential.
  const proxy = http.createServer((req, res) => {
    const headers = { ...req.headers };
    delete headers.authorization;
    const upstream = http.request(new URL(req.url ?? "/", server.url), { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  const listening = await listenOnLoopback(proxy);
  try {
    const token = await issuer.mint({ subject: "alice", scopes: ["greet"] });
    const { diagnosis } = await doctorJson([`http://${listening.hostPort}`, Greet, "--token", token]);
    assert.equal(diagnosis.target.httpVersion, "1.1");
    assert.equal(diagnosis.verdict.id, "credentials_dropped");
    assert.match(diagnosis.verdict.fix, /drops the header/);
  } finally {
    await listening.close();
  }
});

test("doctor: a token file's final newline is not part of the token; the JSON has the documented shape", async () => {
  const { mkdtemp, writeFile, rm } = await import("node:fs/promises");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const dir = await mkdtemp(join(tmpdir(), "doctor-"));
  try {
    const file = join(dir, "token");
    await writeFile(file, `${await issuer.mint({ subject: "alice", scopes: ["greet"] })}\n`);
    const { code, diagnosis } = await doctorJson([server.url, Greet, "--token-file", file]);
    assert.equal(code, 0);
    assert.equal(diagnosis.schema, "connectauth.doctor/v1");
    assert.deepEqual(Object.keys(diagnosis).sort(), [
      "call",
      "dpop",
      "health",
      "notes",
      "schema",
      "target",
      "token",
      "transport",
      "verdict",
    ]);
    assert.deepEqual(diagnosis.dpop, { keyJkt: null, tokenJkt: null, nonceRetried: false }, "a bearer call: nothing of DPoP");
    assert.deepEqual(Object.keys(diagnosis.verdict).sort(), ["fix", "id", "ok", "summary"]);
    assert.deepEqual(diagnosis.target, { baseUrl: server.url, method: Greet, protocol: "connect", httpVersion: "2" });
    assert.equal(diagnosis.token?.sub, "alice");
    // Every documented field is printed, absent ones as null.
    assert.deepEqual(Object.keys(diagnosis.transport).sort(), [
      "alpn",
      "certificateError",
      "connectError",
      "http1",
      "http2",
      "reachable",
      "speaksTls",
    ]);
    assert.equal(diagnosis.transport.alpn, null);
    assert.deepEqual(Object.keys(diagnosis.call!).sort(), [
      "challenge",
      "code",
      "codeName",
      "grantedScopes",
      "message",
      "metadata",
      "missingScopes",
      "reason",
      "requiredScopes",
    ]);
    assert.equal(diagnosis.call!.reason, null);
    assert.deepEqual(Object.keys(diagnosis.token!).sort(), [
      "alg",
      "aud",
      "exp",
      "expiresInSeconds",
      "formatProblem",
      "hash",
      "iat",
      "isJwt",
      "iss",
      "kid",
      "nbf",
      "notBeforeInSeconds",
      "scopes",
      "sub",
      "typ",
    ]);
    assert.equal(diagnosis.token!.nbf, null);
    assert.equal(diagnosis.transport.http1 && diagnosis.transport.http2, true);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test("doctor: readable output, colored only on a terminal without NO_COLOR", async () => {
  const token = await issuer.mint({ subject: "alice", scopes: ["greet"] });
  const args = ["doctor", server.url, Admin, "--token", token];
  const plain = await runCli(args, { tty: false });
  assert.equal(plain.code, 1);
  assert.ok(!plain.stdout.includes("\u001b["), "no escape codes when not a terminal");
  assert.match(plain.stdout, /PermissionDenied \(7\)\s+INSUFFICIENT_SCOPE/);
  assert.match(plain.stdout, /required\s+admin greet\n\s+granted\s+greet\n\s+missing\s+admin/);
  assert.match(plain.stdout, /verdict: insufficient_scope/);
  assert.ok(!plain.stdout.includes(token));
  const tty = await runCli(args, { tty: true });
  assert.ok(tty.stdout.includes("\u001b[31m"), "red on a terminal");
  const noColor = await runCli(args, { tty: true, env: { NO_COLOR: "1" } });
  assert.equal(noColor.stdout.includes("\u001b["), false);
});

test("doctor: usage errors exit 2", async () => {
  assert.equal((await runCli(["doctor", server.url])).code, 2);
  assert.equal((await runCli(["doctor", server.url, "NotAMethod"])).code, 2);
  assert.equal((await runCli(["doctor", "ftp://x", Greet])).code, 2);
  assert.equal((await runCli(["doctor", server.url, Greet, "--protocol", "soap"])).code, 2);
  assert.equal((await runCli(["doctor", server.url, Greet, "--token", "a", "--token-file", "b"])).code, 2);
  const protocol = await runCli(["doctor", server.url, Greet, "--protocol", "soap"]);
  assert.match(protocol.stderr, /--protocol must be one of connect, grpc, grpc-web\n\nusage: connectauth doctor/);
});

test("doctor: a token that starts with a dash is the value of --token, not an option", async () => {
  const { code, diagnosis } = await doctorJson([server.url, Greet, "--token", "-not.a.jwt"]);
  assert.equal(code, 1);
  assert.equal(diagnosis.call?.reason, "INVALID_TOKEN");
  assert.equal(diagnosis.token?.isJwt, false);
});
