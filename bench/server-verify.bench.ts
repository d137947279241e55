// Token verification cost: the JWT authenticator (cache hit, cache miss) against raw jose jwtVerify with
// the same key set, measured side by side in alternating rounds.
import { createLocalJWKSet, jwtVerify } from "jose";
import { createJwtAuthenticator } from "@connectauth/server";
import { benchTokens } from "./bench-tokens.js";
import type { BenchOptions, BenchResult } from "./result.js";
import { perOp, sideBySide } from "./server-measure.js";

const us = (v: number) => `${v.toFixed(2)} µs/op`;

export default async function bench({ quick }: BenchOptions): Promise<BenchResult[]> {
  const verifies = quick ? 300 : 2000;
  const hits = quick ? 5000 : 100000;
  const rounds = quick ? 3 : 5;
  const { issuer, audience, jwk, tokens } = await benchTokens(verifies);
  const jwks = { keys: [jwk] };
  const token = tokens[0]!;
  const rawKeys = createLocalJWKSet(jwks);
  const options = { issuer, audience, algorithms: ["ES256"] };
  const rawVerify = (t: string) => jwtVerify(t, rawKeys, { ...options, requiredClaims: ["exp"], clockTolerance: 30 });
  const credentials = { scheme: "bearer", value: token };
  const cached = createJwtAuthenticator({ ...options, keys: jwks });
  if (!(await cached.authenticate(credentials)).ok) throw new Error("bench setup: the token does not verify");

  const hit = await sideBySide(
    rounds,
    () => perOp(hits, () => cached.authenticate(credentials)),
    () => perOp(verifies, () => rawVerify(token)),
  );
  let i = 0;
  const miss = await sideBySide(
    rounds,
    () => {
      // A fresh authenticator per round: its cache holds none of the tokens.
      const fresh = createJwtAuthenticator({ ...options, keys: jwks });
      i = 0;
      return perOp(verifies, () => fresh.authenticate({ scheme: "bearer", value: tokens[i++]! }));
    },
    () => {
      i = 0;
      return perOp(verifies, () => rawVerify(tokens[i++]!));
    },
  );
  return [
    {
      name: "server: cache-hit verify speedup vs raw jose jwtVerify",
      ratio: hit.b / hit.a,
      a: `cache hit ${us(hit.a)}`,
      b: `jose jwtVerify ES256 ${us(hit.b)}`,
      target: ">= 50",
    },
    {
      name: "server: miss-path verify cost vs raw jose jwtVerify",
      ratio: miss.a / miss.b,
      a: `authenticator, cache miss ${us(miss.a)}`,
      b: `jose jwtVerify ES256 ${us(miss.b)}`,
      target: "<= 1.10",
    },
  ];
}
