// Candidate rules over the wire: a server on 127.0.0.1 (HTTP/2 cleartext) serving the test ShadowService
// (proto/test/v1/shadow.proto: candidates in the proto, on methods and on the service default) plus a
// rule with a candidate set in code, behind createServerAuth with a JWT authenticator. Every call is
// decided by the enforced rule alone, over Connect, gRPC and gRPC-web; its one decision event says what
// the candidate would have decided, and so do the pino line and the OpenTelemetry span and counter that
// the ready listeners make of it (the real SDK, in memory). No token text reaches any of them.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as http2 from "node:http2";
import { trace } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { Code, ConnectError, type ConnectRouter, type Transport, createClient } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { type DecisionEvent, createJwtAuthenticator, createServerAuth, getAuth } from "@connectauth/server";
import { createPinoDecisionListener } from "@connectauth/server/pino";
import { createOtelDecisionListener, otelNames } from "@connectauth/server/otel";
import { type DevIssuer, createDevIssuer } from "@connectauth/node/dev";
import { ShadowService } from "../../packages/server/src/test-support/gen/test/v1/shadow_pb.js";
import { type Listening, listenOnLoopback } from "../support/listen.js";
import { transportOf } from "../support/transports.js";
import { bearer, withHeaders } from "../support/wire.js";
import { memoryLogger, memoryMetrics, memorySpans } from "../../packages/server/src/test-support/telemetry.js";

const protocols = ["connect", "grpc", "grpc-web"] as const;
type Protocol = (typeof protocols)[number];

const { tracer } = memorySpans();
const metrics = memoryMetrics();
const meterProvider = metrics.provider;
const { logger, records: logLines, clear: clearLog } = memoryLogger();
const pinoListener = createPinoDecisionListener(logger);
const otelListener = createOtelDecisionListener({ meter: meterProvider.getMeter("test") });

/** What one call left: its decision events, and the server span that was active when each was made. */
const events: DecisionEvent[] = [];
const eventSpans: ReadableSpan[] = [];
const handled: string[] = [];

let issuer: DevIssuer;
let server: Listening;
let baseUrl: string;

function routes(router: ConnectRouter) {
  const reply = (name: string) => (req: { tenant: string }, ctx: Parameters<typeof getAuth>[0]) => {
    handled.push(name);
    return { text: `${name} ${req.tenant} for ${getAuth(ctx)?.subject ?? "anonymous"}` };
  };
  router.service(ShadowService, {
    status: reply("Status"),
    greet: reply("Greet"),
    tenant: reply("Tenant"),
    ping: reply("Ping"),
    open: reply("Open"),
    async upload(requests) {
      const tenants: string[] = [];
      for await (const r of requests) tenants.push(r.tenant);
      handled.push("Upload");
      return { text: `Upload ${tenants.join(" ")}` };
    },
  });
}

before(async () => {
  issuer = await createDevIssuer({ issuer: "https://issuer.test", audience: "shadow" });
  const auth = createServerAuth({
    authenticators: [
      createJwtAuthenticator({ issuer: "https://issuer.test", audience: "shadow", algorithms: ["ES256"], keys: issuer.jwks }),
    ],
    authorization: {
      services: [ShadowService],
      // A rule in code with a candidate: Open's proto rule ({}) has none.
      rules: { "test.v1.ShadowService/Open": { candidate: { anyScopes: ["open.read", "open.admin"] } } },
    },
    onDecision: (e) => {
      events.push(e);
      const span = trace.getActiveSpan();
      if (span !== undefined) eventSpans.push(span as unknown as ReadableSpan);
      pinoListener(e);
      otelListener(e);
    },
  });
  const handler = connectNodeAdapter(auth.install({ routes }));
  // Stands in for HTTP instrumentation: every request runs inside an active server span.
  server = await listenOnLoopback(
    http2.createServer((req, res) =>
      tracer.startActiveSpan(`${req.method} ${req.url}`, (span) => {
        res.once("close", () => span.end());
        handler(req, res);
      }),
    ),
  );
  baseUrl = `http://${server.hostPort}`;
});
after(async () => {
  await server.close();
  await meterProvider.shutdown();
});

const transport = (protocol: Protocol, token: string | undefined): Transport =>
  transportOf(baseUrl, protocol, token === undefined ? [] : [withHeaders(bearer(token))]);

const mint = (scopes: string[], claims: Record<string, unknown> = {}) => issuer.mint({ subject: "alice", scopes, claims });

/** The tokens minted for this suite, none of which may appear in any log line or span. */
const tokens: string[] = [];
async function client(protocol: Protocol, scopes?: string[], claims?: Record<string, unknown>) {
  const token = scopes === undefined ? undefined : await mint(scopes, claims);
  if (token !== undefined) tokens.push(token);
  return createClient(ShadowService, transport(protocol, token));
}

interface Seen {
  /** How the call ended: "OK" or the code. */
  readonly outcome: "OK" | Code;
  readonly event: DecisionEvent;
  readonly log: Record<string, unknown>;
  readonly span: ReadableSpan;
}

/** Makes one call and returns its one event, log line and span attributes. */
async function once(call: () => Promise<unknown>): Promise<Seen> {
  events.length = 0;
  eventSpans.length = 0;
  clearLog();
  const outcome = await call().then(
    () => "OK" as const,
    (e: unknown) => ConnectError.from(e).code,
  );
  logger.flush();
  await new Promise((r) => setImmediate(r));
  assert.equal(events.length, 1, "exactly one decision event per call");
  assert.equal(logLines.length, 1, "exactly one log line per call");
  assert.equal(eventSpans.length, 1, "the event was made inside the call's server span");
  return { outcome, event: events[0]!, log: logLines[0]!, span: eventSpans[0]! };
}

const would = (allowed: boolean | undefined, outcome: string, reason?: string, detail?: string) => ({
  allowed,
  reason,
  detail,
  outcome,
});

for (const protocol of protocols) {
  describe(`over ${protocol}`, () => {
    test("a stricter candidate: the caller it would lock out is allowed, and every listener says the candidate disagrees", async () => {
      const greetOnly = await client(protocol, ["greet"]);
      handled.length = 0;
      const seen = await once(() => greetOnly.greet({ tenant: "t1" }));
      assert.equal(seen.outcome, "OK");
      assert.deepEqual(handled, ["Greet"], "the handler ran: the candidate decides nothing");
      assert.deepEqual({ ...seen.event.shadow }, would(false, "disagrees", "INSUFFICIENT_SCOPE"));
      assert.equal(seen.log["level"], 30, "a disagreement is logged at info, where allowed calls are at debug");
      assert.equal(
        seen.log["msg"],
        "connectauth allowed test.v1.ShadowService/Greet (the candidate rule would deny: INSUFFICIENT_SCOPE)",
      );
      assert.deepEqual((seen.log["auth"] as { shadow: unknown }).shadow, {
        allowed: false,
        reason: "INSUFFICIENT_SCOPE",
        outcome: "disagrees",
      });
      assert.equal(seen.span.attributes["connectauth.allowed"], true);
      assert.equal(seen.span.attributes["connectauth.shadow.outcome"], "disagrees");
      assert.equal(seen.span.attributes["connectauth.shadow.allowed"], false);
      assert.equal(seen.span.attributes["connectauth.shadow.reason"], "INSUFFICIENT_SCOPE");

      const both = await client(protocol, ["greet", "greet.v2"]);
      const agreed = await once(() => both.greet({ tenant: "t1" }));
      assert.deepEqual([agreed.outcome, { ...agreed.event.shadow }], ["OK", would(true, "agrees")]);
      assert.equal(agreed.log["level"], 20);

      const none = await client(protocol, []);
      const denied = await once(() => none.greet({ tenant: "t1" }));
      assert.equal(denied.outcome, Code.PermissionDenied);
      assert.deepEqual({ ...denied.event.shadow }, would(false, "agrees", "INSUFFICIENT_SCOPE"));
    });

    test("the service default's candidate on a method without a rule; none on a method whose own rule replaces it", async () => {
      const greet = await client(protocol, ["greet"]);
      const status = await once(() => greet.status({}));
      assert.equal(status.outcome, "OK");
      assert.deepEqual({ ...status.event.shadow }, would(false, "disagrees", "CLAIMS_REJECTED", "claim"));
      const acme = await client(protocol, ["greet"], { org: "acme" });
      assert.deepEqual({ ...(await once(() => acme.status({}))).event.shadow }, would(true, "agrees"));

      // Open: its proto rule ({}) has no candidate, the code rule that replaces it has one.
      const open = await once(() => greet.open({}));
      assert.deepEqual([open.outcome, { ...open.event.shadow }], ["OK", would(false, "disagrees", "INSUFFICIENT_SCOPE")]);
      const reader = await client(protocol, ["open.read"]);
      assert.deepEqual({ ...(await once(() => reader.open({}))).event.shadow }, would(true, "agrees"));
    });

    test("a public method whose candidate is not public: an anonymous call would be refused for want of a credential", async () => {
      const anonymous = await client(protocol);
      handled.length = 0;
      const seen = await once(() => anonymous.ping({}));
      assert.equal(seen.outcome, "OK");
      assert.deepEqual(handled, ["Ping"]);
      assert.deepEqual({ ...seen.event.shadow }, would(false, "disagrees", "MISSING_CREDENTIALS"));
      assert.equal(seen.span.attributes["connectauth.shadow.reason"], "MISSING_CREDENTIALS");
      const someone = await client(protocol, []);
      assert.deepEqual(
        { ...(await once(() => someone.ping({}))).event.shadow },
        would(true, "agrees"),
        "with any valid credential",
      );
      const denied = await once(() => anonymous.greet({}));
      assert.deepEqual(
        [denied.outcome, { ...denied.event.shadow }],
        [Code.Unauthenticated, would(false, "agrees", "MISSING_CREDENTIALS")],
      );
    });

    test("a candidate's condition over the request is judged in the interceptor, with the message the handler gets", async () => {
      const t1 = await client(protocol, ["greet"], { tenant: "t1" });
      handled.length = 0;
      const other = await once(() => t1.tenant({ tenant: "t2" }));
      assert.equal(other.outcome, "OK");
      assert.deepEqual(handled, ["Tenant"]);
      assert.deepEqual({ ...other.event.shadow }, would(false, "disagrees", "CLAIMS_REJECTED", "condition"));
      assert.deepEqual({ ...(await once(() => t1.tenant({ tenant: "t1" }))).event.shadow }, would(true, "agrees"));
      const noTenant = await client(protocol, ["greet"]);
      assert.deepEqual(
        { ...(await once(() => noTenant.tenant({ tenant: "t1" }))).event.shadow },
        would(false, "disagrees", "CLAIMS_REJECTED", "condition_error"),
        "a condition that fails at run time counts as would deny",
      );
      const refused = await once(async () => (await client(protocol, [])).tenant({ tenant: "t1" }));
      assert.equal(refused.outcome, Code.PermissionDenied);
      assert.deepEqual({ ...refused.event.shadow }, would(false, "agrees", "INSUFFICIENT_SCOPE"), "its scopes come first");
    });

    test("a client stream: both conditions on each message; the rule refuses, the candidate only reports", async () => {
      const t1 = await client(protocol, ["greet"], { tenant: "t1" });
      async function* tenants(...list: string[]) {
        for (const tenant of list) yield { tenant };
      }
      const mixed = await once(() => t1.upload(tenants("t1", "t2", "t1")));
      assert.equal(mixed.outcome, "OK");
      assert.deepEqual({ ...mixed.event.shadow }, would(false, "disagrees", "CLAIMS_REJECTED", "condition"));
      assert.deepEqual({ ...(await once(() => t1.upload(tenants("t1", "t1")))).event.shadow }, would(true, "agrees"));
      const blocked = await once(() => t1.upload(tenants("t1", "blocked")));
      assert.deepEqual(
        [blocked.outcome, blocked.event.detail, { ...blocked.event.shadow }],
        [Code.PermissionDenied, "condition", would(false, "agrees", "CLAIMS_REJECTED", "condition")],
      );
    });
  });
}

test("the counter of candidate decisions, by agreement; no token text in any log line or span", async () => {
  const counter = (await metrics.collect())
    .flatMap((s) => s.metrics)
    .find((m) => m.descriptor.name === otelNames.shadowDecisions);
  assert.ok(counter, "connectauth.shadow.decisions is recorded");
  const count = (outcome: string, method: string) =>
    counter.dataPoints
      .filter(
        (p) =>
          p.attributes["connectauth.shadow.outcome"] === outcome &&
          p.attributes["rpc.method"] === `test.v1.ShadowService/${method}`,
      )
      .reduce((n, p) => n + (p.value as number), 0);
  // Per protocol, Greet: one disagreement (greet only), three agreements (both scopes, no scope, no token).
  assert.deepEqual([count("disagrees", "Greet"), count("agrees", "Greet")], [3, 9]);
  assert.deepEqual([count("disagrees", "Ping"), count("agrees", "Ping")], [3, 3]);
  for (const p of counter.dataPoints) {
    assert.deepEqual(
      Object.keys(p.attributes).filter(
        (k) => !["connectauth.outcome", "rpc.method", "connectauth.shadow.outcome", "connectauth.shadow.reason"].includes(k),
      ),
      [],
      "low-cardinality attributes only",
    );
  }
  assert.ok(tokens.length > 0);
  events.length = 0;
  clearLog();
  const t = await mint(["greet"]);
  const greet = createClient(ShadowService, transport("connect", t));
  await greet.greet({});
  logger.flush();
  await new Promise((r) => setImmediate(r));
  const text = JSON.stringify([logLines, eventSpans.map((s) => s.attributes), events]);
  for (const token of [t, ...tokens]) {
    for (const part of token.split(".")) assert.ok(!text.includes(part), "no part of a token in the logs, spans or events");
  }
});
