// A local key set and the tokens of the tests: made here, verified by the servers, never sent anywhere
// but 127.0.0.1.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type JWK, SignJWT, exportJWK, generateKeyPair } from "jose";

export const issuer = "https://issuer.shop.test/";
export const audience = "shop";

export interface KeySet {
  /** The public keys, as a JWKS. */
  readonly jwks: { keys: JWK[] };
  /** A token for `sub` with these scopes, valid for `ttlSeconds` from now (negative: already expired). */
  mint(sub: string, scopes: readonly string[], ttlSeconds?: number): Promise<string>;
}

export async function createKeySet(): Promise<KeySet> {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "shop-1", alg: "ES256", use: "sig" };
  return {
    jwks: { keys: [jwk] },
    async mint(sub, scopes, ttlSeconds = 300) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ scope: scopes.join(" ") })
        .setProtectedHeader({ alg: "ES256", kid: "shop-1", typ: "at+jwt" })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(sub)
        .setIssuedAt(Math.min(now, now + ttlSeconds - 60))
        .setExpirationTime(now + ttlSeconds)
        .sign(privateKey);
    },
  };
}

/** Serves the key set at `http://127.0.0.1:<port>/jwks.json`, as an issuer would. */
export async function serveJwks(keys: KeySet): Promise<{ url: URL; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.url !== "/jwks.json") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(keys.jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/jwks.json`),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
