import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { type DevServer, startDevServer } from "./dev-server.js";

let dev: DevServer;
before(async () => {
  dev = await startDevServer({ defaultScopes: ["greet"], ttlSeconds: 120 });
});
after(() => dev.close());

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`;
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const post = (body: string, headers: Record<string, string> = {}) =>
  fetch(`${dev.url}/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body,
  });

test("discovery names the JWKS and the token endpoint", async () => {
  const doc = (await (await fetch(`${dev.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  assert.equal(doc["issuer"], dev.url);
  assert.equal(doc["jwks_uri"], `${dev.url}/.well-known/jwks.json`);
  assert.equal(doc["token_endpoint"], `${dev.url}/token`);
  assert.deepEqual(doc["token_endpoint_auth_methods_supported"], ["client_secret_basic", "client_secret_post"]);
});

test("client_credentials with client_secret_basic and client_secret_post: tokens that verify against the JWKS", async () => {
  const jwks = createRemoteJWKSet(new URL(`${dev.url}/.well-known/jwks.json`));
  const viaBasic = await post(form({ grant_type: "client_credentials", scope: "greet admin" }), {
    authorization: basic("dev-client", "dev-secret"),
  });
  const viaPost = await post(form({ grant_type: "client_credentials", client_id: "dev-client", client_secret: "dev-secret" }));
  for (const [response, scope] of [
    [viaBasic, "greet admin"],
    [viaPost, "greet"],
  ] as const) {
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("cache-control"), "no-store");
    const body = (await response.json()) as { access_token: string; token_type: string; expires_in: number; scope: string };
    assert.equal(body.token_type, "Bearer");
    assert.equal(body.expires_in, 120);
    assert.equal(body.scope, scope);
    // The default audience belongs to no project (it was the example's "greeter").
    const { payload } = await jwtVerify(body.access_token, jwks, { issuer: dev.url, audience: "dev-api" });
    assert.equal(payload.sub, "dev-client");
    assert.equal(payload["scope"], scope);
  }
});

test("token endpoint errors per RFC 6749 §5.2", async () => {
  const wrong = await post(form({ grant_type: "client_credentials" }), { authorization: basic("dev-client", "nope") });
  assert.equal(wrong.status, 401);
  assert.match(wrong.headers.get("www-authenticate") ?? "", /^Basic /);
  assert.equal(((await wrong.json()) as { error: string }).error, "invalid_client");
  const none = await post(form({ grant_type: "client_credentials" }));
  assert.equal(none.status, 401);
  const both = await post(form({ grant_type: "client_credentials", client_id: "dev-client", client_secret: "dev-secret" }), {
    authorization: basic("dev-client", "dev-secret"),
  });
  assert.equal(((await both.json()) as { error: string }).error, "invalid_request");
  const grant = await post(form({ grant_type: "password", client_id: "dev-client", client_secret: "dev-secret" }));
  assert.equal(grant.status, 400);
  assert.equal(((await grant.json()) as { error: string }).error, "unsupported_grant_type");
});

test("the development mint: POST /dev/mint with { sub, scope, ttl, aud }", async () => {
  const jwks = createRemoteJWKSet(new URL(`${dev.url}/.well-known/jwks.json`));
  const mint = (body: string) =>
    fetch(`${dev.url}/dev/mint`, { method: "POST", headers: { "content-type": "application/json" }, body });
  const minted = await mint(JSON.stringify({ sub: "bob", scope: "greet admin", ttl: 60, aud: "billing" }));
  assert.equal(minted.status, 200);
  const { access_token } = (await minted.json()) as { access_token: string };
  const { payload } = await jwtVerify(access_token, jwks, { issuer: dev.url, audience: "billing" });
  assert.deepEqual([payload.sub, payload["scope"], payload.exp! - payload.iat!], ["bob", "greet admin", 60]);
  const defaults = (await (await mint(JSON.stringify({ sub: "bob" }))).json()) as { access_token: string };
  const plain = await jwtVerify(defaults.access_token, jwks, { issuer: dev.url, audience: "dev-api" });
  assert.equal(plain.payload.exp! - plain.payload.iat!, 120, "the server's ttlSeconds");
  for (const body of ["{}", JSON.stringify({ sub: "" }), "not json"]) {
    const refused = await mint(body);
    assert.equal(refused.status, 400, body);
    assert.equal(((await refused.json()) as { error: string }).error, "invalid_request");
  }
  assert.equal((await fetch(`${dev.url}/nowhere`)).status, 404);
});

test("bad options: TypeError before anything listens", async () => {
  const bad = [
    { port: 70000 },
    { port: -1 },
    { port: 1.5 },
    { ttlSeconds: 0 },
    { ttlSeconds: -5 },
    { ttlSeconds: 2.5 },
    { host: "" },
    { audience: "" },
    { clientId: "" },
    { clientSecret: "" },
    { now: 5 as unknown as () => number },
  ];
  for (const options of bad) {
    await assert.rejects(startDevServer(options), TypeError, JSON.stringify(options));
  }
});
