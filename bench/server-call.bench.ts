// Calls over loopback HTTP/2 to two Greeter servers in a child process (server-call-target.ts), one
// behind the auth gate (JWT, warm cache) and one without auth: the servers' CPU time per call under
// load, and for a refused 1 MB call against an accepted one. CPU time, not wall time: the machine may
// be shared, and the client's own work is left out. CPU time per call moves by ±30% between runs here,
// so the authenticated ÷ no-auth target is judged on the auth layer's share of the profiled server's
// CPU samples (cpu-share.ts), which the machine's noise cannot move; the CPU-time ratio is printed too.
import * as http2 from "node:http2";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createAuthInterceptor } from "@connectauth/client";
import { GreeterService } from "../packages/example/src/gen/example/v1/greeter_pb.js";
import type { BenchOptions, BenchResult } from "./result.js";
import { authShare, cpuPerCall, load, sideBySide, startTarget } from "./server-measure.js";

/**
 * Milliseconds per call of a raw Connect unary POST with `body`, one at a time, each on a new HTTP/2
 * connection (a server that refuses before reading resets the stream; nghttp2 ends a connection that
 * sees many resets).
 */
async function rawPost(url: string, headers: Record<string, string>, body: Buffer, n: number, expect: number): Promise<number> {
  const one = () =>
    new Promise<number>((resolve) => {
      const session = http2.connect(url);
      session.on("error", () => undefined);
      const req = session.request({
        ":method": "POST",
        ":path": "/example.v1.GreeterService/Greet",
        "content-type": "application/json",
        ...headers,
      });
      let status = 0;
      const done = () => {
        session.destroy();
        resolve(status);
      };
      req.on("response", (h) => (status = Number(h[":status"])));
      req.on("data", () => undefined);
      req.on("end", done);
      req.on("close", done);
      req.on("error", done);
      req.end(body);
    });
  const start = performance.now();
  const statuses = new Set<number>();
  for (let i = 0; i < n; i++) statuses.add(await one());
  if (statuses.size !== 1 || !statuses.has(expect)) throw new Error(`bench: expected HTTP ${expect}, got ${[...statuses]}`);
  return (performance.now() - start) / n;
}

export default async function bench({ quick }: BenchOptions): Promise<BenchResult[]> {
  const target = await startTarget();
  try {
    const { token } = target;
    const withAuth = createClient(
      GreeterService,
      createGrpcTransport({
        baseUrl: target.secured,
        interceptors: [createAuthInterceptor({ token, allowInsecureTransport: true })],
      }),
    );
    const noAuth = createClient(GreeterService, createGrpcTransport({ baseUrl: target.open }));
    const calls = quick ? 500 : 1500;
    const rounds = quick ? 2 : 4;
    await load(500, 32, () => withAuth.greet({ name: "warm" }));
    await load(500, 32, () => noAuth.greet({ name: "warm" }));
    const perCall = await sideBySide(
      rounds,
      () => cpuPerCall(target, () => load(calls, 32, () => withAuth.greet({ name: "bench" }))),
      () => cpuPerCall(target, () => load(calls, 32, () => noAuth.greet({ name: "bench" }))),
    );
    const share = await authShare(target, () => load(calls * 2, 32, () => withAuth.greet({ name: "bench" })), 3);

    const big = Buffer.from(JSON.stringify({ name: "x".repeat(1024 * 1024) }));
    const n = quick ? 5 : 10;
    const accepted = { authorization: `Bearer ${token}` };
    await rawPost(target.secured, accepted, big, 3, 200);
    await rawPost(target.secured, {}, big, 3, 401);
    const oneMb = await sideBySide(
      rounds,
      () =>
        cpuPerCall(target, async () => {
          await rawPost(target.secured, {}, big, n, 401);
          return n;
        }),
      () =>
        cpuPerCall(target, async () => {
          await rawPost(target.secured, accepted, big, n, 200);
          return n;
        }),
    );
    return [
      {
        name: "server: authenticated unary call vs no auth, throughput by the auth layer's share of the profiled server (gRPC, HTTP/2 loopback, 32 in flight, warm cache)",
        ratio: 1 - share.share,
        a: `auth layer ${share.text}`,
        b: "the rest of the server's work, which a no-auth server does alike",
        target: ">= 0.95",
      },
      {
        name: "server: authenticated unary call vs no auth, server CPU time, for information (±30% run to run here) (gRPC, HTTP/2 loopback, 32 in flight, warm cache)",
        ratio: perCall.b / perCall.a,
        a: `with auth ${perCall.a.toFixed(1)} µs CPU/call`,
        b: `no auth ${perCall.b.toFixed(1)} µs CPU/call`,
      },
      {
        name: "server: refused 1 MB call vs accepted 1 MB call, server CPU saved (gate before the body)",
        ratio: oneMb.b / oneMb.a,
        a: `refused (no credential) ${oneMb.a.toFixed(0)} µs CPU/call`,
        b: `accepted ${oneMb.b.toFixed(0)} µs CPU/call`,
        target: "> 1",
      },
    ];
  } finally {
    target.close();
  }
}
