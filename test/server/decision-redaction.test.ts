// Every decision path over real HTTP (HTTP/2 cleartext, Connect and gRPC), logged with pino to memory
// and recorded on real OpenTelemetry spans and metrics: each call leaves exactly one log line and one
// span event with the expected reason, and no log line, span attribute, span event or metric attribute
// holds the token, any part of it, or anything of its payload but the subject.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as http2 from "node:http2";
import { randomUUID } from "node:crypto";
import { Code, ConnectError, type Interceptor, createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { type JwtKeySource, createJwtAuthenticator, createServerAuth } from "@connectauth/server";
import { createPinoDecisionListener } from "@connectauth/server/pino";
import { createOtelDecisionListener } from "@connectauth/server/otel";
import { createDevIssuer, type DevIssuer } from "@connectauth/node/dev";
import { GreeterService } from "../../packages/example/src/gen/example/v1/greeter_pb.js";
import { greeterRoutes } from "../../packages/example/src/greeter-service.js";
import { closedPort } from "../support/run-cli.js";
import { type Listening, listenOnLoopback } from "../support/listen.js";
import { memoryLogger, memoryMetrics, memorySpans } from "../../packages/server/src/test-support/telemetry.js";

const { tracer, spans } = memorySpans();
const metrics = memoryMetrics();
const meterProvider = metrics.provider;
const { logger, lines: logLines } = memoryLogger();
const pinoListener = createPinoDecisionListener(logger);
const otelListener = createOtelDecisionListener({ meter: meterProvider.getMeter("test") });

const servers: Listening[] = [];
let issuer: DevIssuer;
let stranger: DevIssuer;
let url: string; // keys in memory
let keylessUrl: string; // keys behind a URL where nothing listens
const marker = `payload-marker-${randomUUID()}`;

async function start(keys: JwtKeySource): Promise<string> {
  const auth = createServerAuth({
    authenticators: [
      createJwtAuthenticator({
        issuer: "https://issuer.test",
        audience: "greeter",
        algorithms: ["ES256"],
        keys,
        remote: { allowInsecureLoopback: true }, // the keyless URL is http on 127.0.0.1
      }),
    ],
    onDecision: (e) => {
      pinoListener(e);
      otelListener(e);
    },
  });
  const handler = connectNodeAdapter(auth.install({ routes: greeterRoutes }));
  // Stands in for HTTP instrumentation: every request runs inside an active server span.
  const server = http2.createServer((req, res) =>
    tracer.startActiveSpan(`${req.method} ${req.url}`, (span) => {
      res.once("close", () => span.end());
      handler(req, res);
    }),
  );
  const listening = await listenOnLoopback(server);
  servers.push(listening);
  return `http://${listening.hostPort}`;
}

before(async () => {
  issuer = await createDevIssuer({ issuer: "https://issuer.test", audience: "greeter" });
  stranger = await createDevIssuer({ issuer: "https://issuer.test", audience: "greeter" });
  url = await start(issuer.jwks);
  keylessUrl = await start(new URL(`http://127.0.0.1:${await closedPort()}/jwks.json`));
});
after(async () => {
  for (const s of servers) await s.close();
  await meterProvider.shutdown();
});

const claims = { secret_marker: marker };
const mint = (o: Partial<Parameters<DevIssuer["mint"]>[0]> = {}, by: DevIssuer = issuer) =>
  by.mint({ subject: "alice", scopes: ["greet"], claims, ...o });

interface Path {
  readonly name: string;
  readonly authorization: (() => Promise<string>) | undefined;
  readonly method: "greet" | "admin";
  readonly reason: string | undefined;
  readonly keyless?: boolean;
}

const tamper = (t: string) => {
  const [h, p, s] = t.split(".");
  return `${h}.${p}.${s!.startsWith("A") ? "B" : "A"}${s!.slice(1)}`;
};

const paths: Path[] = [
  { name: "allowed", authorization: async () => `Bearer ${await mint()}`, method: "greet", reason: undefined },
  { name: "no credential", authorization: undefined, method: "greet", reason: "MISSING_CREDENTIALS" },
  {
    name: "malformed",
    authorization: async () => `Bearer ${await mint()} trailing`,
    method: "greet",
    reason: "MALFORMED_CREDENTIALS",
  },
  {
    name: "two credentials",
    authorization: async () => `Bearer ${await mint()}, Bearer ${await mint()}`,
    method: "greet",
    reason: "MULTIPLE_CREDENTIALS",
  },
  { name: "other scheme", authorization: async () => `Token ${await mint()}`, method: "greet", reason: "MISSING_CREDENTIALS" },
  {
    name: "bad signature",
    authorization: async () => `Bearer ${tamper(await mint())}`,
    method: "greet",
    reason: "INVALID_TOKEN",
  },
  { name: "not a JWT", authorization: async () => `Bearer ${marker}`, method: "greet", reason: "INVALID_TOKEN" },
  {
    name: "unknown key",
    authorization: async () => `Bearer ${await mint({}, stranger)}`,
    method: "greet",
    reason: "INVALID_TOKEN",
  },
  {
    name: "expired",
    authorization: async () => `Bearer ${await mint({ ttlSeconds: -600 })}`,
    method: "greet",
    reason: "TOKEN_EXPIRED",
  },
  {
    name: "not yet valid",
    authorization: async () => `Bearer ${await mint({ notBeforeSeconds: 600 })}`,
    method: "greet",
    reason: "TOKEN_NOT_YET_VALID",
  },
  {
    name: "wrong audience",
    authorization: async () => `Bearer ${await mint({ audience: "billing" })}`,
    method: "greet",
    reason: "INVALID_AUDIENCE",
  },
  {
    name: "wrong issuer",
    authorization: async () => `Bearer ${await mint({ issuer: "https://evil.test" })}`,
    method: "greet",
    reason: "INVALID_ISSUER",
  },
  { name: "missing scope", authorization: async () => `Bearer ${await mint()}`, method: "admin", reason: "INSUFFICIENT_SCOPE" },
  {
    name: "keys unreachable",
    authorization: async () => `Bearer ${await mint()}`,
    method: "greet",
    reason: "KEYS_UNAVAILABLE",
    keyless: true,
  },
];

test("every decision path: one log line and one span event each, and no token or payload anywhere", async () => {
  const secrets: string[] = [marker];
  let calls = 0;
  for (const protocol of ["connect", "grpc"] as const) {
    for (const p of paths) {
      const authorization = p.authorization === undefined ? undefined : await p.authorization();
      if (authorization !== undefined) {
        // The whole credential, every part of it, and its payload decoded as JSON.
        const credential = authorization.replace(/^\S+ /, "");
        secrets.push(authorization, credential, ...credential.split(/[.\s,]+/).filter((part) => part.length > 16));
        for (const part of credential.split(".")) {
          try {
            const json = Buffer.from(part, "base64url").toString("utf8");
            if (json.startsWith("{")) secrets.push(json);
          } catch {
            // not base64url: covered by the raw parts
          }
        }
      }
      const setHeader: Interceptor = (next) => (req) => {
        if (authorization !== undefined) req.header.set("authorization", authorization);
        return next(req);
      };
      const baseUrl = p.keyless ? keylessUrl : url;
      const transport =
        protocol === "connect"
          ? createConnectTransport({ baseUrl, httpVersion: "2", interceptors: [setHeader] })
          : createGrpcTransport({ baseUrl, interceptors: [setHeader] });
      const client = createClient(GreeterService, transport);
      const linesBefore = logLines.length;
      const spansBefore = spans.getFinishedSpans().length;
      let reason: string | undefined;
      try {
        await (p.method === "admin" ? client.admin({}) : client.greet({ name: "x" }));
      } catch (e) {
        assert.ok(ConnectError.from(e).code !== Code.Internal, p.name);
        reason = "failed";
      }
      calls++;
      assert.equal(reason === undefined, p.reason === undefined, `${protocol} ${p.name}: outcome`);
      // The span ends when the response closes: wait for it.
      for (let i = 0; i < 50 && spans.getFinishedSpans().length === spansBefore; i++) await new Promise((r) => setTimeout(r, 5));
      const newLines = logLines.slice(linesBefore);
      assert.equal(newLines.length, 1, `${protocol} ${p.name}: one log line`);
      const logged = JSON.parse(newLines[0]!) as { auth: { reason?: string; allowed: boolean } };
      assert.equal(logged.auth.reason, p.reason, `${protocol} ${p.name}: logged reason`);
      const span = spans.getFinishedSpans().at(-1)!;
      const decisionEvents = span.events.filter((e) => e.name === "connectauth.decision");
      assert.equal(decisionEvents.length, 1, `${protocol} ${p.name}: one span event`);
      assert.equal(span.attributes["connectauth.reason"], p.reason);
    }
  }
  assert.equal(calls, paths.length * 2);

  const scopeMetrics = await metrics.collect();
  const recorded = [
    ...logLines,
    ...spans
      .getFinishedSpans()
      .map((s) => JSON.stringify({ name: s.name, attributes: s.attributes, events: s.events, status: s.status })),
    JSON.stringify(scopeMetrics.flatMap((s) => s.metrics.map((m) => m.dataPoints.map((d) => d.attributes)))),
  ].join("\n");
  for (const secret of secrets) {
    assert.ok(!recorded.includes(secret), `a secret (${secret.length} chars) leaked into logs, spans or metrics`);
  }
  assert.ok(recorded.includes("TOKEN_EXPIRED") && recorded.includes("alice"), "the records are there to be searched");
});
