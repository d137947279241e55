// The client interceptor's own cost per call, measured in isolation: each interceptor wraps a `next`
// that answers at once, and is called with a real unary request (captured once from an in-memory
// transport), side by side in one run. A whole call costs far more (serialization, transport), so that
// the interceptor's share would be lost in noise.
// - steady state: connectauth's interceptor with a token, against a hand-written one setting the header;
// - the refresh path: every call needs a new token (a loader whose tokens expire at once), connectauth's
//   cached token source against a hand-written interceptor awaiting the loader on every call.
import {
  type Interceptor,
  type UnaryRequest,
  type UnaryResponse,
  createClient,
  createRouterTransport,
} from "@connectrpc/connect";
import { createAuthInterceptor, createCachedTokenSource } from "@connectauth/client";
import { GreeterService } from "../packages/example/src/gen/example/v1/greeter_pb.js";
import { greeterRoutes } from "../packages/example/src/greeter-service.js";
import type { BenchOptions, BenchResult } from "./result.js";
import { bestOf, perOp } from "./server-measure.js";

const token = `eyJhbGciOiJFUzI1NiJ9.${"e".repeat(200)}.${"s".repeat(86)}`;

/** What users would otherwise write: set the header from a token getter. */
const handWritten =
  (get: () => Promise<string> | string): Interceptor =>
  (next) =>
  async (req) => {
    req.header.set("authorization", `Bearer ${await get()}`);
    return next(req);
  };

/** A real unary request to GreeterService.Greet and the response it got. */
async function capture(): Promise<{ req: UnaryRequest; res: UnaryResponse }> {
  let seen: { req: UnaryRequest; res: UnaryResponse } | undefined;
  const recorder: Interceptor = (next) => async (req) => {
    const res = await next(req);
    if (!req.stream && !res.stream) seen = { req, res };
    return res;
  };
  await createClient(GreeterService, createRouterTransport(greeterRoutes, { transport: { interceptors: [recorder] } })).greet({
    name: "x",
  });
  if (seen === undefined) throw new Error("bench setup: no unary request captured");
  return seen;
}

export default async function bench({ quick }: BenchOptions): Promise<BenchResult[]> {
  const n = quick ? 10000 : 50000;
  const rounds = quick ? 2 : 5;
  const { req, res } = await capture();
  const answer = async () => res;
  // A loader that answers at once, so that only the token handling is measured.
  const loadToken = async () => ({ token, expiresIn: 0 });
  const wrapped = (i: Interceptor) => i(answer as Parameters<Interceptor>[0]);
  const variants = [
    wrapped(handWritten(() => token)),
    wrapped(createAuthInterceptor({ token })),
    wrapped(handWritten(async () => (await loadToken()).token)),
    wrapped(createAuthInterceptor({ token: createCachedTokenSource({ load: loadToken }) })),
  ];
  for (const v of variants) await perOp(n / 10, () => v(req));
  const [hand, ours, handRefresh, oursRefresh] = (
    await bestOf(
      rounds,
      variants.map((v) => async () => ({ us: await perOp(n, () => v(req)) })),
    )
  ).map((m) => m.us) as [number, number, number, number];
  const us = (v: number) => `${v.toFixed(2)} µs/call`;
  return [
    {
      // For information: a few hundred nanoseconds, within this machine's noise (0.9–1.5 over runs);
      // `npm run bench:instructions` counts the difference exactly.
      name: "compare: client interceptor per call (static token), hand-written header interceptor ÷ connectauth, for information",
      ratio: hand / ours,
      a: `hand-written ${us(hand)}`,
      b: `connectauth ${us(ours)}`,
    },
    {
      // For information: the cached source does more per load (one load in flight for all waiting
      // calls, expiry and back-off bookkeeping); against a real token endpoint (milliseconds) the
      // difference is in the noise.
      name: "compare: client refresh path (a new token every call), hand-written loader-per-call ÷ connectauth cached source, for information",
      ratio: handRefresh / oursRefresh,
      a: `hand-written ${us(handRefresh)}`,
      b: `connectauth cached source ${us(oursRefresh)}`,
    },
  ];
}
