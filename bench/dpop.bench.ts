// DPoP (RFC 9449) on the server, side by side in one run: three Greeter servers in a child process
// (dpop-target.ts), connectauth with bearer tokens, connectauth with DPoP required, and a hand-written jose
// DPoP check, over Connect HTTP/2 on loopback with 64 calls in flight and the token cache warm. The DPoP
// clients send a fresh proof per call (createAuthInterceptor with createDpopProver); the bearer client
// makes the same proof per call and drops it, so that every server sees the same client load. Only the
// server process is measured, so the client's signing is not counted.
//
// Two measures, as in compare-server.bench.ts: the server's CPU time per call (every thread: jose's
// WebCrypto work runs on libuv's pool), which moves by ±30% between runs on a shared machine; and the auth
// layer's share of the server's main-thread CPU samples (cpu-share.ts), which that noise cannot move but
// which misses work off the main thread (connectauth verifies on the main thread with node:crypto).
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type { Interceptor } from "@connectrpc/connect";
import { createAuthInterceptor } from "@connectauth/client";
import { type DpopProver, createDpopProver } from "@connectauth/client/dpop";
import { GreeterService } from "../packages/example/src/gen/example/v1/greeter_pb.js";
import { type DpopVariant, dpopVariants, startDpopTarget } from "./dpop-measure.js";
import type { BenchOptions, BenchResult } from "./result.js";
import { authShare, bestOf, cpuPerCall, load } from "./server-measure.js";

const inFlight = 64;
const where = `(Connect HTTP/2, loopback, ${inFlight} in flight, warm cache, a fresh proof per call)`;

const label: Record<DpopVariant, string> = {
  bearer: "connectauth bearer",
  dpop: "connectauth DPoP",
  "jose-dpop": "hand-written jose DPoP",
};

/** Makes a proof of each call as the DPoP clients do, and sends none: the bearer client's equal load. */
const sameClientWork =
  (prover: DpopProver, accessToken: string): Interceptor =>
  (next) =>
  async (req) => {
    await prover.proof({ method: req.requestMethod, url: req.url, accessToken });
    return next(req);
  };

export default async function bench({ quick }: BenchOptions): Promise<BenchResult[]> {
  const keyPair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  const prover = createDpopProver({ keyPair });
  const target = await startDpopTarget(await prover.jkt());
  const calls = quick ? 200 : 1500;
  const rounds = quick ? 1 : 3;
  const windows = quick ? 1 : 3;
  try {
    const { url, bearerToken, boundToken } = target;
    const transport = (baseUrl: string, interceptors: Interceptor[]) =>
      createConnectTransport({ baseUrl, httpVersion: "2", interceptors });
    const dpopClient = (baseUrl: string) =>
      createClient(
        GreeterService,
        transport(baseUrl, [createAuthInterceptor({ token: boundToken, dpop: prover, allowInsecureTransport: true })]),
      );
    const clients: Record<DpopVariant, ReturnType<typeof dpopClient>> = {
      bearer: createClient(
        GreeterService,
        transport(url.bearer, [
          createAuthInterceptor({ token: bearerToken, allowInsecureTransport: true }),
          sameClientWork(prover, bearerToken),
        ]),
      ),
      dpop: dpopClient(url.dpop),
      "jose-dpop": dpopClient(url["jose-dpop"]),
    };
    // Warm-up: connections, JIT, the verified-token cache and the proof key cache. A refused call throws.
    const run = (v: DpopVariant, n: number) => () => load(n, inFlight, () => clients[v].greet({ name: "bench" }));
    for (const v of dpopVariants) await run(v, quick ? 100 : 600)();
    const measured = await bestOf(
      rounds,
      dpopVariants.map((v) => async () => ({ cpu: await cpuPerCall(target, run(v, calls)) })),
    );
    const cpu = Object.fromEntries(dpopVariants.map((v, i) => [v, measured[i]!.cpu])) as Record<DpopVariant, number>;
    const share = {} as Record<DpopVariant, Awaited<ReturnType<typeof authShare>>>;
    for (const v of dpopVariants) share[v] = await authShare(target, run(v, calls * 2), windows);
    const time = (v: DpopVariant) => `${label[v]} ${cpu[v].toFixed(1)} µs CPU/call`;
    const layer = (v: DpopVariant) => `${label[v]}: auth layer ${share[v].text}`;
    // With the rest of the server's work alike, CPU per call is rest / (1 - share): A ÷ B = (1 - sB) / (1 - sA).
    const byShare = (a: DpopVariant, b: DpopVariant) => (1 - share[b].share) / (1 - share[a].share);
    return [
      {
        name: `dpop: server CPU per call, DPoP ÷ bearer, by the auth layer's share of a profiled server ${where}`,
        ratio: byShare("dpop", "bearer"),
        a: layer("dpop"),
        b: layer("bearer"),
        target: "<= 1.6",
      },
      {
        name: `dpop: server CPU time per call, DPoP ÷ bearer ${where}, for information (±30% run to run here)`,
        ratio: cpu.dpop / cpu.bearer,
        a: time("dpop"),
        b: time("bearer"),
      },
      {
        name: `dpop: hand-written jose DPoP check ÷ connectauth's, server CPU time per call ${where}`,
        ratio: cpu["jose-dpop"] / cpu.dpop,
        a: time("jose-dpop"),
        b: time("dpop"),
        target: ">= 1.5",
      },
      {
        name: `dpop: hand-written jose DPoP check ÷ connectauth's, server CPU per call by the auth layer's share ${where}, for information (jose's WebCrypto work off the main thread is not counted)`,
        ratio: byShare("jose-dpop", "dpop"),
        a: layer("jose-dpop"),
        b: layer("dpop"),
      },
    ];
  } finally {
    target.close();
  }
}
