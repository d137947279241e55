import { test } from "node:test";
import assert from "node:assert/strict";
import { exportJWK, generateKeyPair } from "jose";
import { createDiscoveryKeySource, createRemoteKeySource, familyOf, resolveKeySource } from "./key-source.js";
import { createJwtAuthenticator } from "./jwt-authenticator.js";

test("remote key URLs: https, or http on loopback only when allowed", () => {
  assert.doesNotThrow(() => createRemoteKeySource(new URL("https://issuer.example.com/jwks")));
  assert.throws(() => createRemoteKeySource(new URL("http://issuer.example.com/jwks")), TypeError);
  assert.throws(() => createRemoteKeySource(new URL("http://127.0.0.1:1/jwks")), TypeError);
  assert.throws(() => createRemoteKeySource(new URL("http://10.0.0.1/jwks"), { allowInsecureLoopback: true }), TypeError);
  for (const host of ["127.0.0.1:1", "[::1]:1", "localhost:1"]) {
    assert.doesNotThrow(() => createRemoteKeySource(new URL(`http://${host}/jwks`), { allowInsecureLoopback: true }));
  }
  assert.throws(() => createRemoteKeySource(new URL("https://i.example/jwks"), { timeoutDuration: -1 }), TypeError);
  assert.throws(() => createDiscoveryKeySource("not a url"), TypeError);
  assert.throws(() => createDiscoveryKeySource("http://issuer.example.com"), TypeError);
});

test("discovery and keys: exactly one, and discovery for one issuer", () => {
  const base = { audience: "a", algorithms: ["ES256"] };
  assert.throws(() => createJwtAuthenticator({ ...base, issuer: "https://i.example" }), /exactly one of keys and discovery/);
  assert.throws(
    () => createJwtAuthenticator({ ...base, issuer: "https://i.example", discovery: true, keys: new URL("https://i.example/jwks") }),
    /exactly one/,
  );
  assert.throws(() => createJwtAuthenticator({ ...base, issuer: ["https://a.example", "https://b.example"], discovery: true }), /one issuer/);
  assert.doesNotThrow(() => createJwtAuthenticator({ ...base, issuer: "https://i.example", discovery: true }));
});

test("local keys: public JWKs only, families known", async () => {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const pub = await exportJWK(publicKey);
  const priv = await exportJWK(privateKey);
  assert.equal(resolveKeySource(pub, {}, "t").family, "asymmetric");
  assert.equal(resolveKeySource(publicKey, {}, "t").family, "asymmetric");
  assert.equal(resolveKeySource(new Uint8Array(32).fill(1), {}, "t").family, "hmac");
  assert.throws(() => resolveKeySource(priv, {}, "t"), /public keys only/);
  assert.throws(() => resolveKeySource({ keys: [priv] }, {}, "t"), /public keys only/);
  assert.throws(() => resolveKeySource({ kty: "oct", k: "c2VjcmV0" }, {}, "t"), /bytes/);
  assert.deepEqual(["HS256", "HS512", "ES256", "RS256", "EdDSA"].map(familyOf), ["hmac", "hmac", "asymmetric", "asymmetric", "asymmetric"]);
});
