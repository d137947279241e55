// An ES256 issuer for tests and benches: one key (kid k1) and the one function that mints its tokens.
import { type JWK, type JWTPayload, SignJWT, exportJWK, generateKeyPair } from "jose";

/** An issuer's name, audience, public key (as a JWK, kid k1, alg ES256) and token minting. */
export interface TestIssuer {
  readonly issuer: string;
  readonly audience: string;
  readonly jwk: JWK;
  /**
   * A token for `alice`, valid for an hour from now, with the claims given (added to `sub`, `iss`, `aud`,
   * `iat` and `exp`, which they replace) and the protected header's `typ` if given. Nothing is checked.
   */
  mint(claims?: JWTPayload, typ?: string): Promise<string>;
}

/**
 * A fresh issuer (`https://issuer.test` by default, audience `greeter`).
 *
 * ```ts
 * const { mint, jwk } = await testIssuer();
 * const token = await mint({ scope: "greet" });
 * ```
 */
export async function testIssuer(issuer = "https://issuer.test", audience = "greeter"): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" };
  const mint = (claims: JWTPayload = {}, typ?: string) =>
    new SignJWT({ sub: "alice", iss: issuer, aud: audience, ...claims })
      .setProtectedHeader(typ === undefined ? { alg: "ES256", kid: "k1" } : { alg: "ES256", kid: "k1", typ })
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(privateKey);
  return { issuer, audience, jwk, mint };
}
