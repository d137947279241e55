// A real OAuth2 authorization server for the tests: `oidc-provider` (a certified OpenID Provider) on
// 127.0.0.1, port 0, with the client_credentials and refresh_token grants, client secret and
// private_key_jwt client authentication, and JWT access tokens for the resource indicator (RFC 8707)
// of the API. Test support only: in-memory storage, throwaway keys.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair } from "jose";
import Provider from "oidc-provider";

export interface TestOAuthServer {
  readonly issuer: string;
  readonly jwksUri: string;
  /** The audience (resource indicator) its access tokens are for. */
  readonly audience: string;
  /** A client with a secret (client_secret_basic and client_secret_post). */
  readonly secretClient: { readonly id: string; readonly secret: string };
  /** A client that authenticates with private_key_jwt. */
  readonly jwtClient: { readonly id: string; readonly privateKey: CryptoKey; readonly kid: string };
  /** How many token requests the token endpoint answered (by grant type). */
  readonly tokenRequests: Record<string, number>;
  /** Issues a refresh token to `secretClient` for a user, as an authorization-code login would. */
  issueRefreshToken(accountId: string, scopes: readonly string[]): Promise<string>;
  close(): Promise<void>;
}

export async function startOAuthServer(options: { audience?: string; accessTokenTtl?: number } = {}): Promise<TestOAuthServer> {
  const audience = options.audience ?? "urn:example:greeter";
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const signing = await generateKeyPair("ES256", { extractable: true });
  const rsa = await generateKeyPair("RS256", { extractable: true });
  const client = await generateKeyPair("ES256", { extractable: true });
  const kid = "client-key-1";
  const secretClient = { id: "worker", secret: "worker-secret-for-tests-only-0123456789" };
  const scopes = ["greet", "admin"];

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: secretClient.id,
        client_secret: secretClient.secret,
        grant_types: ["client_credentials", "refresh_token", "authorization_code"],
        redirect_uris: ["http://127.0.0.1/cb"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
      {
        client_id: "worker-post",
        client_secret: secretClient.secret,
        grant_types: ["client_credentials"],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: "client_secret_post",
      },
      {
        client_id: "jwt-worker",
        grant_types: ["client_credentials"],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: "private_key_jwt",
        token_endpoint_auth_signing_alg: "ES256",
        jwks: { keys: [{ ...(await exportJWK(client.publicKey)), kid, alg: "ES256", use: "sig" }] },
      },
    ],
    jwks: {
      keys: [
        { ...(await exportJWK(signing.privateKey)), kid: "as-es256", alg: "ES256", use: "sig" },
        { ...(await exportJWK(rsa.privateKey)), kid: "as-rs256", alg: "RS256", use: "sig" },
      ],
    },
    scopes: ["openid", "offline_access", ...scopes],
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => ({
          scope: scopes.join(" "),
          audience: resource,
          accessTokenFormat: "jwt",
          accessTokenTTL: options.accessTokenTtl ?? 300,
          jwt: { sign: { alg: "ES256" } },
        }),
      },
    },
    ttl: {
      Grant: 3600,
      RefreshToken: 3600,
      ClientCredentials: options.accessTokenTtl ?? 300,
      AccessToken: options.accessTokenTtl ?? 300,
    },
    cookies: { keys: ["test-cookie-key"] },
  });
  const tokenRequests: Record<string, number> = {};
  provider.on("grant.success", (ctx) => {
    const grant = String((ctx.oidc.params as { grant_type?: string } | undefined)?.grant_type ?? "unknown");
    tokenRequests[grant] = (tokenRequests[grant] ?? 0) + 1;
  });
  server.on("request", provider.callback());

  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    audience,
    secretClient,
    jwtClient: { id: "jwt-worker", privateKey: client.privateKey, kid },
    tokenRequests,
    async issueRefreshToken(accountId, granted) {
      const found = await provider.Client.find(secretClient.id);
      if (found === undefined) throw new Error("the test client is not registered");
      const grant = new provider.Grant({ accountId, clientId: secretClient.id });
      grant.addOIDCScope("offline_access");
      grant.addResourceScope(audience, granted.join(" "));
      const grantId = await grant.save();
      const rt = new provider.RefreshToken({
        client: found,
        accountId,
        grantId,
        scope: ["offline_access", ...granted].join(" "),
        resource: audience,
        gty: "authorization_code",
      });
      return rt.save();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
