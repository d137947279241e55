// The OAuth2 token source against a real authorization server (oidc-provider on loopback), and its tokens
// used for real calls to the example server, which verifies them against that server's JWKS.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { type ClientAuthEvent, createAuthInterceptor, readAuthFailure, tokenHash } from "@connectauth/client";
import { createOAuth2TokenSource, type OAuth2TokenSourceOptions } from "@connectauth/client/oauth2";
import { GreeterService } from "../../packages/example/src/gen/example/v1/greeter_pb.js";
import { type ExampleServer, startExampleServer } from "../../packages/example/src/server.js";
import { type TestOAuthServer, startOAuthServer } from "../support/oauth-server.js";

let as: TestOAuthServer;
let api: ExampleServer;
before(async () => {
  as = await startOAuthServer();
  api = await startExampleServer({
    auth: { kind: "external", issuer: as.issuer, audience: as.audience, jwksUrl: as.jwksUri, algorithms: ["ES256"] },
  });
});
after(async () => {
  await api.close();
  await as.close();
});

const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;
const base = (): Pick<OAuth2TokenSourceOptions, "issuer" | "audience" | "audienceParameter" | "scopes"> => ({
  issuer: as.issuer,
  audience: as.audience,
  audienceParameter: "resource",
  scopes: ["greet"],
});
const greeter = (token: Parameters<typeof createAuthInterceptor>[0]["token"]) =>
  createClient(
    GreeterService,
    createConnectTransport({ baseUrl: api.url, httpVersion: "1.1", interceptors: [createAuthInterceptor({ token })] }),
  );

test("client_credentials with client_secret_basic, via discovery: a token the API accepts", async () => {
  const token = createOAuth2TokenSource({ ...base(), clientId: as.secretClient.id, clientSecret: as.secretClient.secret });
  const me = await greeter(token).whoAmI({});
  assert.deepEqual([me.subject, me.scopes], ["worker", ["greet"]]);
  const c = claims(await token.getToken());
  assert.deepEqual([c["iss"], c["aud"], c["scope"]], [as.issuer, as.audience, "greet"]);
  assert.match((await greeter(token).greet({ name: "oauth" })).greeting, /Hello, oauth! \(from worker\)/);
});

test("client_credentials with client_secret_post and with private_key_jwt", async () => {
  const post = createOAuth2TokenSource({
    ...base(),
    clientId: "worker-post",
    clientSecret: as.secretClient.secret,
    clientSecretMethod: "client_secret_post",
  });
  assert.equal((await greeter(post).whoAmI({})).subject, "worker-post");
  const jwt = createOAuth2TokenSource({
    ...base(),
    clientId: as.jwtClient.id,
    privateKey: { key: as.jwtClient.privateKey, kid: as.jwtClient.kid },
  });
  assert.equal((await greeter(jwt).whoAmI({})).subject, "jwt-worker");
});

test("refresh_token grant: a user's session token, refreshed again after invalidate (rotation followed)", async () => {
  const refreshToken = await as.issueRefreshToken("alice", ["greet"]);
  const token = createOAuth2TokenSource({
    ...base(),
    clientId: as.secretClient.id,
    clientSecret: as.secretClient.secret,
    grant: { refreshToken },
  });
  assert.equal((await greeter(token).whoAmI({})).subject, "alice");
  const first = await token.getToken();
  token.invalidate(first);
  const second = await token.getToken();
  assert.notEqual(second, first);
  assert.equal(claims(second)["sub"], "alice");
  assert.throws(() => token.forAudience("urn:other"), TypeError);
});

test("forAudience: a token for another resource, made once and kept; the interceptor sees its refreshes", async () => {
  const token = createOAuth2TokenSource({ ...base(), clientId: as.secretClient.id, clientSecret: as.secretClient.secret });
  const events: ClientAuthEvent[] = [];
  createAuthInterceptor({ token, onEvent: (e) => events.push(e) });
  const other = token.forAudience("urn:example:billing");
  const otherToken = await other.getToken();
  assert.deepEqual(
    events.map((e) => e.type === "refresh" && [e.ok, e.trigger, e.tokenHash]),
    [[true, "initial", await tokenHash(otherToken)]],
  );
  assert.ok(!JSON.stringify(events).includes(otherToken));
  assert.equal(token.forAudience("urn:example:billing"), other);
  assert.equal(claims(await other.getToken())["aud"], "urn:example:billing");
  assert.equal(claims(await token.getToken())["aud"], as.audience);
});

test("500 concurrent calls when the token is expiring: exactly one token request, all succeed", async () => {
  let now = Date.now();
  const token = createOAuth2TokenSource({
    ...base(),
    clientId: as.secretClient.id,
    clientSecret: as.secretClient.secret,
    now: () => now,
  });
  const client = greeter(token);
  await client.greet({});
  const before = as.tokenRequests["client_credentials"] ?? 0;
  now += 301_000; // past the token's expires_in, by the source's clock
  const results = await Promise.all(Array.from({ length: 500 }, (_, i) => client.greet({ name: `n${i}` })));
  assert.equal(results.length, 500);
  assert.ok(results.every((r, i) => r.greeting.startsWith(`Hello, n${i}!`)));
  assert.equal((as.tokenRequests["client_credentials"] ?? 0) - before, 1);
});

test("a wrong secret: the call fails with TOKEN_UNAVAILABLE, naming the OAuth error, never the secret", async () => {
  const wrong = "wrong-secret-value-0123456789";
  const token = createOAuth2TokenSource({ ...base(), clientId: as.secretClient.id, clientSecret: wrong });
  const error = await greeter(token)
    .greet({})
    .then(
      () => assert.fail("expected a failure"),
      (e: unknown) => ConnectError.from(e),
    );
  assert.equal(error.code, Code.Unavailable);
  const failure = readAuthFailure(error);
  assert.equal(failure?.reason, "TOKEN_UNAVAILABLE");
  // oidc-provider answers a failed client_secret_basic with 401 and a WWW-Authenticate challenge.
  assert.equal(failure?.metadata["cause"], "OAUTH_WWW_AUTHENTICATE_CHALLENGE invalid_client");
  assert.ok(!JSON.stringify([error.message, failure]).includes(wrong));
});

test("misuse throws TypeError at creation: plaintext remote issuer, no or two client authentications", () => {
  const ok = { clientId: "c", clientSecret: "s" };
  assert.throws(() => createOAuth2TokenSource({ ...ok, issuer: "http://login.example.com" }), /plaintext.*https/);
  assert.throws(() => createOAuth2TokenSource({ issuer: "https://login.example.com", clientId: "c" }), TypeError);
  assert.throws(
    () => createOAuth2TokenSource({ ...ok, issuer: "https://login.example.com", privateKey: {} as CryptoKey }),
    TypeError,
  );
  assert.throws(() => createOAuth2TokenSource({ ...ok, issuer: "not a url" }), TypeError);
  assert.throws(
    () => createOAuth2TokenSource({ ...ok, issuer: "https://l.example.com", grant: { refreshToken: "" } }),
    TypeError,
  );
  // Loopback plaintext is allowed (tests, local development).
  createOAuth2TokenSource({ ...ok, issuer: "http://127.0.0.1:1" });
});
