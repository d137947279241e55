// The tokens of the verification benches: one ES256 key (kid k1) and `count` distinct tokens for one
// issuer and audience (distinct, so that every verification by a caching verifier is a miss).
import { SignJWT, exportJWK, generateKeyPair, type JWK } from "jose";

export interface BenchTokens {
  readonly issuer: string;
  readonly audience: string;
  /** The public key as a JWK (kid k1, alg ES256). */
  readonly jwk: JWK;
  readonly tokens: readonly string[];
}

export async function benchTokens(count: number): Promise<BenchTokens> {
  const issuer = "https://issuer.bench";
  const audience = "greeter";
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" };
  const mint = (jti: string) =>
    new SignJWT({ scope: "greet", client_id: "app", jti })
      .setProtectedHeader({ alg: "ES256", kid: "k1", typ: "at+jwt" })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject("alice")
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(privateKey);
  const tokens = await Promise.all(Array.from({ length: count }, (_, i) => mint(`t${i}`)));
  return { issuer, audience, jwk, tokens };
}
