// The tokens of the verification benches: one ES256 key (kid k1) and `count` distinct tokens for one
// issuer and audience (distinct, so that every verification by a caching verifier is a miss).
import type { JWK } from "jose";
import { testIssuer } from "../packages/server/src/test-support/issuer.js";

export interface BenchTokens {
  readonly issuer: string;
  readonly audience: string;
  /** The public key as a JWK (kid k1, alg ES256). */
  readonly jwk: JWK;
  readonly tokens: readonly string[];
}

export async function benchTokens(count: number): Promise<BenchTokens> {
  const { issuer, audience, jwk, mint } = await testIssuer("https://issuer.bench");
  const tokens = await Promise.all(
    Array.from({ length: count }, (_, i) => mint({ scope: "greet", client_id: "app", jti: `t${i}` }, "at+jwt")),
  );
  return { issuer, audience, jwk, tokens };
}
