// Test tokens: an ES256 signer with a kid, and raw signing of any header and payload text (for the
// inputs jose refuses to produce: crit, header-supplied keys, non-JSON or oddly typed claims).
import { type CryptoKey, type JSONWebKeySet, type JWTPayload, SignJWT, exportJWK, generateKeyPair } from "jose";

export interface TestSigner {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly jwks: JSONWebKeySet;
  /** A signed token: `iat` now, `exp` in 5 minutes, `typ` `at+jwt`, unless the claims or header say otherwise. */
  sign(claims: JWTPayload, header?: Record<string, unknown>): Promise<string>;
  /** Signs any header object and payload text, exactly as given. */
  signRaw(header: Record<string, unknown>, payloadText: string): Promise<string>;
}

export const b64url = (text: string | Uint8Array) =>
  Buffer.from(typeof text === "string" ? Buffer.from(text, "utf8") : text).toString("base64url");

export async function createTestSigner(kid: string, now: () => number = Date.now): Promise<TestSigner> {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" }] };
  return {
    kid,
    privateKey,
    publicKey,
    jwks,
    sign(claims, header = {}) {
      const iat = Math.floor(now() / 1000);
      return new SignJWT({ iat, exp: iat + 300, ...claims })
        .setProtectedHeader({ alg: "ES256", kid, typ: "at+jwt", ...header })
        .sign(privateKey);
    },
    async signRaw(header, payloadText) {
      const input = `${b64url(JSON.stringify(header))}.${b64url(payloadText)}`;
      const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, new TextEncoder().encode(input));
      return `${input}.${b64url(new Uint8Array(signature))}`;
    },
  };
}
