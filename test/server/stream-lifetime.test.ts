// Streams end with their credential, over the wire: real servers on 127.0.0.1 (HTTP/2 cleartext, and
// HTTP/1.1 for the server streams of Connect and gRPC-web) with the example's routes, JWTs minted here
// with a 2 s lifetime, clock tolerances of 0. A server stream, a client stream and a bidi stream (Node,
// HTTP/2) on Connect, gRPC and gRPC-web end with TOKEN_EXPIRED within 1 s of exp, after the messages
// sent until then; a revalidate rejection ends one; resumableStream carries on with a fresh token; no
// timer is left behind. Then readiness: auth.ready() waits for a JWKS that comes up later, or times out;
// auth.status(); a health service fed by auth.readiness goes NOT_SERVING to SERVING.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import * as http2 from "node:http2";
import { Code, ConnectError, type Interceptor, createClient } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { readAuthFailure } from "@connectauth/core";
import { createAuthInterceptor, createCachedTokenSource, resumableStream } from "@connectauth/client";
import {
  type Authenticator,
  AuthNotReadyError,
  type DecisionEvent,
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
  type ServerAuth,
  createJwtAuthenticator,
  createServerAuth,
  healthRoutes,
  rejected,
} from "@connectauth/server";
import { createPinoDecisionListener } from "@connectauth/server/pino";
import { createOtelDecisionListener } from "@connectauth/server/otel";
import { GreeterService } from "../../packages/example/src/gen/example/v1/greeter_pb.js";
import { greeterRoutes } from "../../packages/example/src/greeter-service.js";
import { type Protocol, protocols, bearer as bearerHeader, withHeaders } from "../support/wire.js";
import { type Listening, listenOnLoopback } from "../support/listen.js";
import { type KeyServer, startKeyServer } from "../support/key-server.js";
import { type TestSigner, createTestSigner } from "../support/tokens.js";
import { trackTimers } from "../../packages/server/src/test-support/timers.js";
import { transportOf } from "../support/transports.js";
import { memoryLogger } from "../../packages/server/src/test-support/telemetry.js";

const issuer = "https://issuer.test";
const audience = "greeter";
const lifetimeS = 2;
const intervalMs = 100;

let signer: TestSigner;
/** A token of `sub` with scope greet, `exp` lifetimeS seconds from now (whole seconds, as a JWT has). */
async function shortToken(sub = "alice"): Promise<{ token: string; expMs: number }> {
  const iat = Math.floor(Date.now() / 1000);
  const exp = iat + lifetimeS;
  return { token: await signer.sign({ iss: issuer, aud: audience, sub, scope: "greet", iat, exp }), expMs: exp * 1000 };
}

/** Sends `token` as a Bearer token. */
const bearer = (token: string): Interceptor => withHeaders(bearerHeader(token));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How a stream ended: the messages before the error, when the error came, and the error. */
interface Ended {
  readonly messages: string[];
  readonly lastMessageAt: number;
  readonly endedAt: number;
  readonly error: ConnectError;
}

async function endOf(messages: AsyncIterable<{ greeting: string }>): Promise<Ended> {
  const got: string[] = [];
  let lastMessageAt = 0;
  try {
    for await (const m of messages) {
      got.push(m.greeting);
      lastMessageAt = Date.now();
    }
  } catch (error) {
    assert.ok(error instanceof ConnectError, String(error));
    return { messages: got, lastMessageAt, endedAt: Date.now(), error };
  }
  assert.fail(`the stream ended without an error, after ${got.length} messages`);
}

/** Names sent every intervalMs, forever (the caller's stream is ended by the server). */
async function* names(): AsyncGenerator<{ name: string }> {
  for (let i = 1; ; i++) {
    yield { name: `n${i}` };
    await sleep(intervalMs);
  }
}

/** Asserts a TOKEN_EXPIRED end within 1 s of `expMs` (never before it), with the contract's challenge. */
function assertExpired(ended: Ended, expMs: number, what: string): void {
  const failure = readAuthFailure(ended.error);
  assert.equal(ended.error.code, Code.Unauthenticated, `${what}: ${ended.error.rawMessage}`);
  assert.equal(failure?.reason, "TOKEN_EXPIRED", what);
  assert.equal(failure?.metadata["detail"], "exp", what);
  assert.equal(failure?.metadata["authenticator"], "jwt", what);
  assert.equal(ended.error.metadata.get("www-authenticate"), 'Bearer realm="greeter", error="invalid_token"', what);
  const late = ended.endedAt - expMs;
  assert.ok(late >= 0 && late <= 1000, `${what}: ended ${late} ms after exp`);
}

const events: DecisionEvent[] = [];
let logLines: string[] = [];
const listening: Listening[] = [];
let revoked: Set<string>;
let auth: ServerAuth;
let h2Url: string;
let h1Url: string;

before(async () => {
  signer = await createTestSigner("k1");
  revoked = new Set();
  const jwt = createJwtAuthenticator({ issuer, audience, algorithms: ["ES256"], keys: signer.jwks, clockToleranceSeconds: 0 });
  // A test authenticator with the hook: the JWT one, and a set of revoked subjects.
  const revoking: Authenticator = {
    ...jwt,
    revalidate: (identity) => (revoked.has(identity.subject) ? rejected("INVALID_TOKEN", { detail: "revoked" }) : undefined),
  };
  const { logger, lines } = memoryLogger();
  logLines = lines;
  const pinoListener = createPinoDecisionListener(logger);
  const otelListener = createOtelDecisionListener();
  auth = createServerAuth({
    authenticators: [revoking],
    realm: "greeter",
    streams: { clockToleranceSeconds: 0 },
    onDecision: (e) => {
      events.push(e);
      pinoListener(e);
      otelListener(e);
    },
  });
  const handler = connectNodeAdapter(auth.install({ routes: greeterRoutes }));
  const h2 = await listenOnLoopback(http2.createServer(handler));
  const h1 = await listenOnLoopback(http.createServer(handler));
  listening.push(h2, h1);
  h2Url = `http://${h2.hostPort}`;
  h1Url = `http://${h1.hostPort}`;
});
after(async () => {
  for (const l of listening) await l.close();
});

describe("streams end with their token", () => {
  test("a server stream ends with TOKEN_EXPIRED within 1 s of exp, after the greetings sent until then (every protocol, HTTP/2 and HTTP/1.1)", async () => {
    const runs: [Protocol, "1.1" | "2"][] = [
      ...protocols.map((p): [Protocol, "2"] => [p, "2"]),
      ["connect", "1.1"],
      ["grpc-web", "1.1"],
    ];
    const before = events.length;
    await Promise.all(
      runs.map(async ([protocol, httpVersion]) => {
        const what = `${protocol} HTTP/${httpVersion}`;
        const { token, expMs } = await shortToken();
        const client = createClient(
          GreeterService,
          transportOf(httpVersion === "2" ? h2Url : h1Url, protocol, [bearer(token)], httpVersion),
        );
        const openedAt = Date.now();
        const ended = await endOf(client.greetStream({ name: "s", count: 100, intervalMs }));
        assertExpired(ended, expMs, what);
        // The greetings sent before exp, in order, and none after it.
        const expected = Math.floor((expMs - openedAt) / intervalMs);
        assert.ok(
          ended.messages.length >= expected - 3 && ended.messages.length <= expected + 2,
          `${what}: ${ended.messages.length} of ~${expected}`,
        );
        for (const [i, m] of ended.messages.entries()) assert.equal(m, `Hello #${i + 1}, s! (from alice)`, what);
        assert.ok(ended.lastMessageAt <= expMs + 50, `${what}: a greeting came ${ended.lastMessageAt - expMs} ms after exp`);
      }),
    );
    // One event when each stream opened, one when it ended; the listeners took both.
    const mine = events.slice(before);
    assert.equal(mine.filter((e) => e.allowed).length, runs.length);
    const ends = mine.filter((e) => !e.allowed);
    assert.equal(ends.length, runs.length);
    for (const e of ends) {
      assert.deepEqual(
        [e.reason, e.detail, e.code, e.subject, e.authenticator],
        ["TOKEN_EXPIRED", "exp", Code.Unauthenticated, "alice", "jwt"],
      );
    }
    const denied = logLines.filter((l) => l.includes('"reason":"TOKEN_EXPIRED"'));
    assert.ok(denied.length >= runs.length, "pino logged each end");
  });

  test("a client stream and a bidi stream (HTTP/2) end with TOKEN_EXPIRED within 1 s of exp, on every protocol", async () => {
    await Promise.all(
      protocols.flatMap((protocol) => [
        (async () => {
          const { token, expMs } = await shortToken();
          const client = createClient(GreeterService, transportOf(h2Url, protocol, [bearer(token)]));
          let endedAt = 0;
          const error = await client.greetMany(names()).then(
            () => assert.fail(`${protocol} client stream: answered`),
            (e: unknown) => {
              endedAt = Date.now();
              return e;
            },
          );
          assert.ok(error instanceof ConnectError);
          assertExpired({ messages: [], lastMessageAt: 0, endedAt, error }, expMs, `${protocol} client stream`);
        })(),
        (async () => {
          const { token, expMs } = await shortToken();
          const client = createClient(GreeterService, transportOf(h2Url, protocol, [bearer(token)]));
          const ended = await endOf(client.greetChat(names()));
          assertExpired(ended, expMs, `${protocol} bidi`);
          assert.ok(ended.messages.length >= 5, `${protocol} bidi: ${ended.messages.length} greetings`);
          for (const [i, m] of ended.messages.entries()) assert.equal(m, `Hello, n${i + 1}! (from alice)`);
        })(),
      ]),
    );
  });

  test("a revalidate rejection ends an open stream with it (INVALID_TOKEN revoked), on every protocol", async () => {
    await Promise.all(
      protocols.map(async (protocol) => {
        const sub = `bob-${protocol}`;
        const token = await signer.sign({ iss: issuer, aud: audience, sub, scope: "greet" }); // 5 minutes
        const client = createClient(GreeterService, transportOf(h2Url, protocol, [bearer(token)]));
        const got: string[] = [];
        const stream = client.greetStream({ name: "r", count: 100, intervalMs })[Symbol.asyncIterator]();
        for (let i = 0; i < 3; i++) got.push(((await stream.next()).value as { greeting: string }).greeting);
        revoked.add(sub);
        const revokedAt = Date.now();
        const ended = await endOf({ [Symbol.asyncIterator]: () => stream });
        const failure = readAuthFailure(ended.error);
        assert.equal(ended.error.code, Code.Unauthenticated, protocol);
        assert.equal(failure?.reason, "INVALID_TOKEN", protocol);
        assert.equal(failure?.metadata["detail"], "revoked", protocol);
        assert.ok(ended.endedAt - revokedAt <= 1100, `${protocol}: ended ${ended.endedAt - revokedAt} ms after the revocation`);
        assert.ok(got.length + ended.messages.length >= 3);
      }),
    );
  });

  test("resumableStream carries on with a fresh token once the server ends the stream, with the app's resume input", async () => {
    await Promise.all(
      protocols.map(async (protocol) => {
        let loads = 0;
        const source = createCachedTokenSource({
          load: async () => {
            loads++;
            const { token, expMs } = await shortToken(`carol-${protocol}-${loads}`);
            return { token, expiresAt: expMs };
          },
        });
        const client = createClient(GreeterService, transportOf(h2Url, protocol, [createAuthInterceptor({ token: source })]));
        const total = 30; // 3 s of greetings: longer than a token lives
        const received: string[] = [];
        const resumes: string[] = [];
        for await (const m of resumableStream(
          (req, o) => client.greetStream(req, o),
          { name: "c", count: total, intervalMs },
          {
            token: source,
            resume: (last, first) => {
              assert.equal(last.greeting, received.at(-1));
              return { ...first, count: total - received.length };
            },
            onResume: (e) => resumes.push(e.reason),
          },
        )) {
          received.push(m.greeting);
        }
        assert.equal(received.length, total, protocol);
        assert.ok(resumes.length >= 1, `${protocol}: resumed ${resumes.length} times`);
        assert.ok(resumes.every((r) => r === "TOKEN_EXPIRED"));
        // Each attempt's greetings name the token's subject: more than one token served the one stream.
        const subjects = new Set(received.map((g) => /from (carol-[a-z-]+\d+)/.exec(g)?.[1]));
        assert.ok(subjects.size >= 2, `${protocol}: ${[...subjects].join(", ")}`);
      }),
    );
  });

  test("no timer is left behind: streams that end, are ended, and are cancelled", async () => {
    // Those of connectauth and the example's handlers; the clients' HTTP/2 sessions keep idle timers of
    // their own (connect-node's), not counted.
    const timers = trackTimers(/\/packages\/(server|example)\//);
    try {
      const long = await signer.sign({ iss: issuer, aud: audience, sub: "dave", scope: "greet" });
      const { token, expMs } = await shortToken();
      await Promise.all(
        protocols.map(async (protocol) => {
          // Runs to its end.
          const done = createClient(GreeterService, transportOf(h2Url, protocol, [bearer(long)]));
          let n = 0;
          for await (const _ of done.greetStream({ count: 3 })) n++;
          assert.equal(n, 3);
          // Ended by the server.
          const ended = createClient(GreeterService, transportOf(h2Url, protocol, [bearer(token)]));
          assertExpired(await endOf(ended.greetStream({ count: 100, intervalMs })), expMs, protocol);
          // Cancelled by the client after one greeting.
          const controller = new AbortController();
          const it = done.greetStream({ count: 100, intervalMs }, { signal: controller.signal })[Symbol.asyncIterator]();
          await it.next();
          controller.abort();
          await assert.rejects(it.next());
        }),
      );
      await sleep(300); // the cancelled handlers see their signal
      assert.equal(timers.live(), 0);
    } finally {
      timers.restore();
    }
  });
});

describe("readiness of createServerAuth", () => {
  let keys: KeyServer;
  let remote: ServerAuth;
  let healthUrl: string;
  before(async () => {
    keys = await startKeyServer(signer.jwks);
    keys.mode = "drop"; // down until a test brings it up
    remote = createServerAuth({
      authenticators: [
        createJwtAuthenticator({
          issuer,
          audience,
          algorithms: ["ES256"],
          keys: keys.jwksUrl,
          remote: { allowInsecureLoopback: true, failureBackoff: 100, timeoutDuration: 500 },
        }),
      ],
      authorization: { services: [GreeterService, Health], rules: { "grpc.health.v1.Health": { public: true } } },
    });
    const routes = (router: Parameters<typeof greeterRoutes>[0]) => {
      greeterRoutes(router);
      healthRoutes(router, { readiness: remote.readiness });
    };
    const handler = connectNodeAdapter(remote.install({ routes }));
    const l = await listenOnLoopback(http2.createServer(handler));
    listening.push(l);
    healthUrl = `http://${l.hostPort}`;
  });
  after(async () => {
    await keys.close();
  });

  test("while the JWKS is down: status() says why, ready() times out with AUTH_NOT_READY, health is NOT_SERVING", async () => {
    await assert.rejects(remote.ready({ timeoutMs: 300 }), (e: unknown) => {
      assert.ok(e instanceof AuthNotReadyError);
      assert.equal(e.code, "AUTH_NOT_READY");
      assert.deepEqual(e.authenticators, [{ name: "jwt", lastError: "network" }]);
      return true;
    });
    const status = remote.status();
    assert.equal(status.ready, false);
    assert.equal(status.authenticators["jwt"]?.ready, false);
    assert.equal(status.authenticators["jwt"]?.lastError, "network");
    for (const protocol of protocols) {
      const health = createClient(Health, transportOf(healthUrl, protocol));
      assert.equal((await health.check({ service: "" })).status, ServingStatus.NOT_SERVING, protocol);
    }
  });

  test("ready() waits for the JWKS that comes up later; a Watch goes NOT_SERVING to SERVING", async () => {
    const health = createClient(Health, transportOf(healthUrl, "grpc"));
    const controller = new AbortController();
    const seen: ServingStatus[] = [];
    const watching = (async () => {
      for await (const r of health.watch({ service: "" }, { signal: controller.signal })) {
        seen.push(r.status);
        if (r.status === ServingStatus.SERVING) controller.abort();
      }
    })().catch(() => undefined);
    const ready = remote.ready({ timeoutMs: 10_000 });
    await sleep(300);
    assert.equal(remote.status().ready, false);
    keys.mode = "ok";
    await ready;
    assert.equal(remote.status().ready, true);
    assert.equal(remote.status().authenticators["jwt"]?.lastError, undefined);
    await watching;
    assert.deepEqual(seen, [ServingStatus.NOT_SERVING, ServingStatus.SERVING]);
    assert.equal((await health.check({ service: "" })).status, ServingStatus.SERVING);
    // And the keys verify: a call with a token of theirs passes.
    const token = await signer.sign({ iss: issuer, aud: audience, sub: "erin", scope: "greet" });
    const greeter = createClient(GreeterService, transportOf(healthUrl, "connect", [bearer(token)]));
    assert.equal((await greeter.greet({ name: "x" })).greeting, "Hello, x! (from erin)");
  });
});
