// npm run test:load — 20,000 calls at 64 in flight against the example server on loopback, mixing valid,
// expired, forged, wrong-audience, missing and over-scoped credentials across Connect, gRPC and gRPC-web.
// Asserts: zero wrong decisions (no false accept, no false reject), no Internal or Unknown, heap flat
// (after the run ≤ 1.2× after warm-up). LOAD_CALLS overrides the count (e.g. for a quick local run).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { readAuthFailure } from "@connectauth/client";
import { GreeterService } from "../../packages/example/src/gen/example/v1/greeter_pb.js";
import { exampleTransport, protocols } from "../../packages/example/src/demo-cases.js";
import { type ExampleServer, startExampleServer } from "../../packages/example/src/server.js";

const totalCalls = Number(process.env["LOAD_CALLS"] ?? 20_000);
const inFlight = 64;
const warmupCalls = Math.min(2_000, Math.floor(totalCalls / 10));

interface Kind {
  readonly name: string;
  readonly call: "greet" | "admin";
  readonly token: string | undefined;
  /** The expected outcome: "OK" or [code, reason]. */
  readonly expected: "OK" | readonly [Code, string];
}

let server: ExampleServer;
let kinds: Kind[];
before(async () => {
  server = await startExampleServer();
  const issuer = server.devIssuer!;
  const valid = await issuer.mint({ subject: "alice", scopes: ["greet"], ttlSeconds: 3600 });
  kinds = [
    { name: "valid", call: "greet", token: valid, expected: "OK" },
    {
      name: "valid admin",
      call: "admin",
      token: await issuer.mint({ subject: "root", scopes: ["greet", "admin"], ttlSeconds: 3600 }),
      expected: "OK",
    },
    {
      name: "expired",
      call: "greet",
      token: await issuer.mint({ subject: "a", scopes: ["greet"], ttlSeconds: -600 }),
      expected: [Code.Unauthenticated, "TOKEN_EXPIRED"],
    },
    {
      name: "forged",
      call: "greet",
      token: valid.slice(0, valid.lastIndexOf(".") + 1) + "B".repeat(86),
      expected: [Code.Unauthenticated, "INVALID_TOKEN"],
    },
    {
      name: "wrong audience",
      call: "greet",
      token: await issuer.mint({ subject: "a", scopes: ["greet"], audience: "other", ttlSeconds: 3600 }),
      expected: [Code.Unauthenticated, "INVALID_AUDIENCE"],
    },
    { name: "missing", call: "greet", token: undefined, expected: [Code.Unauthenticated, "MISSING_CREDENTIALS"] },
    { name: "over-scoped", call: "admin", token: valid, expected: [Code.PermissionDenied, "INSUFFICIENT_SCOPE"] },
  ];
});
after(() => server.close());

test(`${totalCalls} mixed calls at ${inFlight} in flight: every decision right, heap flat`, { timeout: 600_000 }, async () => {
  const clients = protocols.map((p) => kinds.map((k) => createClient(GreeterService, exampleTransport(server.url, p, k.token))));
  const wrong: string[] = [];
  const counts = new Map<string, number>();
  let next = 0;

  async function one(i: number): Promise<void> {
    const k = i % kinds.length;
    const p = Math.floor(i / kinds.length) % protocols.length;
    const kind = kinds[k]!;
    const client = clients[p]![k]!;
    let outcome: "OK" | readonly [Code, string | undefined];
    try {
      if (kind.call === "greet") await client.greet({ name: "load" });
      else await client.admin({});
      outcome = "OK";
    } catch (e) {
      const error = ConnectError.from(e);
      outcome = [error.code, readAuthFailure(error)?.reason];
    }
    const key = `${protocols[p]} ${kind.name}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (JSON.stringify(outcome) !== JSON.stringify(kind.expected)) {
      wrong.push(`${key}: got ${JSON.stringify(outcome)}, expected ${JSON.stringify(kind.expected)}`);
    }
  }
  async function worker(until: number): Promise<void> {
    while (next < until) await one(next++);
  }
  const runUntil = (until: number) => Promise.all(Array.from({ length: inFlight }, () => worker(until)));

  await runUntil(warmupCalls);
  const heapAfterWarmup = settledHeap();
  const started = performance.now();
  await runUntil(totalCalls);
  const seconds = (performance.now() - started) / 1000;
  const heapAfterRun = settledHeap();

  console.log(
    `# ${totalCalls} calls (${totalCalls - warmupCalls} after warm-up) in ${seconds.toFixed(1)} s, ` +
      `${((totalCalls - warmupCalls) / seconds).toFixed(0)} calls/s; heap ${mb(heapAfterWarmup)} -> ${mb(heapAfterRun)} MB`,
  );
  assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} wrong decisions`);
  assert.equal(next, totalCalls);
  // Every kind of credential was exercised on every protocol.
  assert.equal(counts.size, kinds.length * protocols.length);
  assert.ok(
    heapAfterRun <= heapAfterWarmup * 1.2,
    `heap grew from ${mb(heapAfterWarmup)} to ${mb(heapAfterRun)} MB (more than 1.2×)`,
  );
});

function settledHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  assert.ok(gc, "run with --expose-gc (npm run test:load does)");
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

function mb(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}
