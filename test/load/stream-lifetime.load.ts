// Run alone: node --expose-gc --import tsx --test test/load/stream-lifetime.load.ts
// 1,000 concurrent server streams on one HTTP/2 server (Connect, gRPC and gRPC-web, ten client
// sessions), each opened with a JWT that expires 5 to 8 s later while the stream would go on for 200 s:
// every one ends with TOKEN_EXPIRED within 1 s of its exp, one end event each; three rounds, with the heap
// (after GC) flat after the first, and no timer of connectauth's or of the handlers' left behind.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as http2 from "node:http2";
import { Code, ConnectError, type Interceptor, createClient, createContextKey, createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { readAuthFailure } from "@connectauth/core";
import { createJwtAuthenticator, createServerAuth } from "@connectauth/server";
import { GreeterService } from "../../packages/example/src/gen/example/v1/greeter_pb.js";
import { greeterRoutes } from "../../packages/example/src/greeter-service.js";
import { type Listening, listenOnLoopback } from "../support/listen.js";
import { type TestSigner, createTestSigner } from "../support/tokens.js";
import { protocols } from "../support/wire.js";
import { trackTimers } from "../../packages/server/src/test-support/timers.js";
import { transportOf } from "../support/transports.js";

const streams = 1000;
const sessions = 10;
const rounds = 3;
const intervalMs = 2000;
const issuer = "https://issuer.test";
const audience = "greeter";

const gc = (globalThis as { gc?: () => void }).gc;

/** Sends the token of each call from its context values' header (one transport, many tokens). */
const tokenHeader: Interceptor = (next) => (req) => {
  req.header.set("authorization", `Bearer ${req.contextValues.get(tokenKey)}`);
  return next(req);
};
const tokenKey = createContextKey<string>("", { description: "load token" });

let signer: TestSigner;
let server: Listening;
let url: string;
let ends = 0;
let allowed = 0;
before(async () => {
  signer = await createTestSigner("k1");
  const auth = createServerAuth({
    authenticators: [
      // Its verified-token cache holds one round's tokens: full after the first round, so that the heap
      // measures what the streams leave, not a cache filling up (10,000 entries by default).
      createJwtAuthenticator({
        issuer,
        audience,
        algorithms: ["ES256"],
        keys: signer.jwks,
        clockToleranceSeconds: 0,
        cache: { maxEntries: streams },
      }),
    ],
    streams: { clockToleranceSeconds: 0 },
    onDecision: (e) => {
      if (e.allowed) allowed++;
      else if (e.reason === "TOKEN_EXPIRED") ends++;
    },
  });
  server = await listenOnLoopback(http2.createServer(connectNodeAdapter(auth.install({ routes: greeterRoutes }))));
  url = `http://${server.hostPort}`;
});
after(async () => {
  await server.close();
});

type Greeter = ReturnType<typeof createClient<typeof GreeterService>>;

interface Round {
  readonly lateMs: number[];
  readonly otherwise: string[];
  readonly greetings: number;
  /** Streams whose first greeting came before their exp: open while their token was valid. */
  readonly openedBeforeExp: number;
}

async function round(clients: readonly Greeter[]): Promise<Round> {
  const nowS = Math.floor(Date.now() / 1000);
  // exp 5 to 7 s from now (whole seconds): three waves of about 333 ends, once every stream is open
  // (opening 1,000 streams takes 2 to 4 s on a busy 2-core machine, connectauth or not).
  const tokens = await Promise.all(
    Array.from({ length: streams }, async (_, i) => {
      const exp = nowS + 5 + (i % 3);
      return {
        token: await signer.sign({ iss: issuer, aud: audience, sub: `s${i}`, scope: "greet", iat: nowS, exp }),
        expMs: exp * 1000,
      };
    }),
  );
  const lateMs: number[] = [];
  const otherwise: string[] = [];
  let greetings = 0;
  let openedBeforeExp = 0;
  await Promise.all(
    tokens.map(async ({ token, expMs }, i) => {
      const client = clients[i % sessions]!;
      const contextValues = createContextValues().set(tokenKey, token);
      try {
        let first = true;
        for await (const _ of client.greetStream({ name: "load", count: 100, intervalMs }, { contextValues })) {
          greetings++;
          if (first && Date.now() < expMs) openedBeforeExp++;
          first = false;
        }
        otherwise.push("completed");
      } catch (e) {
        const error = ConnectError.from(e);
        const reason = readAuthFailure(error)?.reason;
        if (error.code === Code.Unauthenticated && reason === "TOKEN_EXPIRED") lateMs.push(Date.now() - expMs);
        else otherwise.push(`${Code[error.code]} ${reason ?? error.rawMessage}`);
      }
    }),
  );
  return { lateMs, otherwise, greetings, openedBeforeExp };
}

function heapMb(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

test("1,000 streams with expiring tokens: each ended within 1 s of exp, one event each, no timer left, heap flat", async () => {
  assert.ok(gc !== undefined, "run with node --expose-gc");
  // One set of clients (HTTP/2 sessions) for every round: new ones each round would be kept open, idle.
  const clients = Array.from({ length: sessions }, (_, i) =>
    createClient(GreeterService, transportOf(url, protocols[i % protocols.length]!, [tokenHeader])),
  );
  const timers = trackTimers(/\/packages\/(server|example)\//); // connectauth's and the handlers'
  const heaps: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const eventsBefore = ends;
      const allowedBefore = allowed;
      const started = performance.now();
      const { lateMs, otherwise, greetings, openedBeforeExp } = await round(clients);
      const seconds = (performance.now() - started) / 1000;
      assert.deepEqual(otherwise, [], `round ${r}: every stream ends with TOKEN_EXPIRED`);
      assert.equal(openedBeforeExp, streams, `round ${r}: every stream was open (a greeting) before its exp`);
      assert.equal(lateMs.length, streams);
      lateMs.sort((a, b) => a - b);
      const p50 = lateMs[Math.floor(streams * 0.5)]!;
      const p99 = lateMs[Math.floor(streams * 0.99)]!;
      const max = lateMs.at(-1)!;
      const min = lateMs[0]!;
      console.log(
        `round ${r}: ${streams} streams, ${greetings} greetings in ${seconds.toFixed(1)} s; end after exp: min ${min} ms, p50 ${p50} ms, p99 ${p99} ms, max ${max} ms`,
      );
      assert.ok(min >= 0, `a stream ended ${-min} ms before its exp`);
      assert.ok(max <= 1000, `a stream ended ${max} ms after its exp`);
      assert.equal(allowed - allowedBefore, streams, "one admission event per stream");
      assert.equal(ends - eventsBefore, streams, "one end event per stream");
      await new Promise((resolve) => setTimeout(resolve, 300)); // the handlers' pauses see their signal
      assert.equal(timers.live(), 0, `round ${r}: timers left behind`);
      heaps.push(heapMb());
    }
  } finally {
    timers.restore();
  }
  console.log(`heap after each round (MB, after GC): ${heaps.map((h) => h.toFixed(1)).join(", ")}`);
  // Flat: the first round warms up (code, the sessions' tables, the token cache: about 7 MB once); after
  // it, what a round leaves is far less than 1,000 streams' worth of state (1 KB each would be 1 MB).
  const growth = heaps.at(-1)! - heaps[1]!;
  assert.ok(growth < 1, `heap grew ${growth.toFixed(2)} MB from round 2 to round ${rounds}`);
});
