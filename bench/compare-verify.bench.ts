// Token verification in process, side by side: connectauth's JWT authenticator against fast-jwt's
// verifier with its cache (cache hit: the same token again; miss: a new token each time).
import { createPublicKey } from "node:crypto";
import { createVerifier } from "fast-jwt";
import { createJwtAuthenticator } from "@connectauth/server";
import { benchTokens } from "./bench-tokens.js";
import type { BenchOptions, BenchResult } from "./result.js";
import { perOp, sideBySide } from "./server-measure.js";

const us = (v: number) => `${v.toFixed(2)} µs/op`;

export default async function bench({ quick }: BenchOptions): Promise<BenchResult[]> {
  const verifies = quick ? 300 : 2000;
  const hits = quick ? 5000 : 100000;
  const rounds = quick ? 2 : 5;
  const { issuer, audience, jwk, tokens } = await benchTokens(verifies);
  const token = tokens[0]!;
  const pem = createPublicKey({ key: jwk, format: "jwk" }).export({ type: "spki", format: "pem" }).toString();
  // A cache larger than the miss run, so that the misses are misses and the hit stays cached.
  const fastJwt = (cacheSize = verifies * 2) =>
    createVerifier({ key: pem, algorithms: ["ES256"], allowedIss: issuer, allowedAud: audience, cache: cacheSize });
  const options = { issuer, audience, algorithms: ["ES256"], keys: { keys: [jwk] } };
  const ours = createJwtAuthenticator(options);
  const theirs = fastJwt();
  if (!(await ours.authenticate({ scheme: "bearer", value: token })).ok)
    throw new Error("bench setup: the token does not verify");
  theirs(token);

  const hit = await sideBySide(
    rounds,
    () => perOp(hits, () => ours.authenticate({ scheme: "bearer", value: token })),
    () => perOp(hits, async () => theirs(token)),
  );
  let i = 0;
  const miss = await sideBySide(
    rounds,
    () => {
      const fresh = createJwtAuthenticator(options);
      i = 0;
      return perOp(verifies, () => fresh.authenticate({ scheme: "bearer", value: tokens[i++]! }));
    },
    () => {
      const fresh = fastJwt();
      i = 0;
      return perOp(verifies, async () => fresh(tokens[i++]!));
    },
  );
  return [
    {
      name: "compare: cache-hit verify, fast-jwt (cache) ÷ connectauth",
      ratio: hit.b / hit.a,
      a: `connectauth cache hit ${us(hit.a)}`,
      b: `fast-jwt cache hit ${us(hit.b)}`,
      target: "> 1",
    },
    {
      name: "compare: miss-path verify, fast-jwt ÷ connectauth (no slower than fast-jwt)",
      ratio: miss.b / miss.a,
      a: `connectauth cache miss ${us(miss.a)}`,
      b: `fast-jwt cache miss ${us(miss.b)}`,
      target: ">= 1",
    },
  ];
}
