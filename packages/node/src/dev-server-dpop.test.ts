// DPoP (RFC 9449 §5) at the development issuer's token endpoint: a request with one valid proof gets a
// token bound to the proof's key; every other proof is a 400 invalid_dpop_proof that quotes nothing of it.
// The development mint binds tokens to a thumbprint it is given.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import { randomUUID } from "node:crypto";
import {
  type CryptoKey,
  type JWK,
  SignJWT,
  calculateJwkThumbprint,
  createRemoteJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
} from "jose";
import { type DevServer, startDevServer } from "./dev-server.js";
import { createDevIssuer, isJwkThumbprint } from "./dev-issuer.js";

let dev: DevServer;
let privateKey: CryptoKey;
let jwk: JWK;
let jkt: string;
before(async () => {
  dev = await startDevServer({ defaultScopes: ["greet"] });
  const pair = await generateKeyPair("ES256", { extractable: true });
  privateKey = pair.privateKey;
  jwk = await exportJWK(pair.publicKey);
  jkt = await calculateJwkThumbprint(jwk);
});
after(() => dev.close());

const grant = "grant_type=client_credentials&client_id=dev-client&client_secret=dev-secret";
const nowS = () => Math.floor(Date.now() / 1000);

/** A proof of the token request, with claims or header members changed to make a bad one. */
function proof(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, key: CryptoKey = privateKey) {
  return new SignJWT({ htm: "POST", htu: `${dev.url}/token`, iat: nowS(), jti: randomUUID(), ...claims })
    .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk, ...header })
    .sign(key);
}

/** POSTs the client_credentials grant with the given DPoP header fields (each its own field on the wire). */
function tokenRequest(dpop: readonly string[]): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { "content-type": "application/x-www-form-urlencoded" };
    if (dpop.length > 0) headers["dpop"] = [...dpop];
    const req = http.request(`${dev.url}/token`, { method: "POST", headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown>, text }));
    });
    req.once("error", reject);
    req.end(grant);
  });
}

test("discovery names the proof algorithms the token endpoint takes", async () => {
  const doc = (await (await fetch(`${dev.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  assert.deepEqual(doc["dpop_signing_alg_values_supported"], ["ES256", "ES384", "EdDSA", "Ed25519", "RS256", "PS256"]);
});

test("a token request with a valid proof gets a DPoP token bound to the proof's key; without one, a bearer token", async () => {
  const jwks = createRemoteJWKSet(new URL(`${dev.url}/.well-known/jwks.json`));
  const bound = await tokenRequest([await proof()]);
  assert.equal(bound.status, 200, bound.text);
  assert.equal(bound.body["token_type"], "DPoP");
  const { payload } = await jwtVerify(String(bound.body["access_token"]), jwks, { issuer: dev.url, audience: "dev-api" });
  assert.deepEqual(payload["cnf"], { jkt });
  assert.equal(payload["scope"], "greet");

  const bearer = await tokenRequest([]);
  assert.equal(bearer.body["token_type"], "Bearer");
  const plain = await jwtVerify(String(bearer.body["access_token"]), jwks, { issuer: dev.url });
  assert.equal(plain.payload["cnf"], undefined);

  // An Ed25519 key and a proof whose htu has a query (ignored, RFC 9449 §4.3) are bound as well.
  const ed = await generateKeyPair("EdDSA", { extractable: true });
  const edJwk = await exportJWK(ed.publicKey);
  const edProof = await proof({ htu: `${dev.url}/token?x=1` }, { alg: "EdDSA", jwk: edJwk }, ed.privateKey);
  const edBound = await tokenRequest([edProof]);
  assert.equal(edBound.status, 200, edBound.text);
  const edPayload = (await jwtVerify(String(edBound.body["access_token"]), jwks)).payload;
  assert.deepEqual(edPayload["cnf"], { jkt: await calculateJwkThumbprint(edJwk) });
});

test("every other proof is refused with invalid_dpop_proof, quoting nothing of it", async () => {
  const { privateKey: otherKey } = await generateKeyPair("ES256");
  const hmac = new TextEncoder().encode("a-shared-secret-of-thirty-two-bytes!");
  const privateJwk = await exportJWK((await generateKeyPair("ES256", { extractable: true })).privateKey);
  const replayed = await proof();
  assert.equal((await tokenRequest([replayed])).status, 200);
  const bad: Record<string, string[]> = {
    "typ JWT": [await proof({}, { typ: "JWT" })],
    "alg HS256": [
      await new SignJWT({ htm: "POST", htu: `${dev.url}/token`, iat: nowS(), jti: randomUUID() })
        .setProtectedHeader({ alg: "HS256", typ: "dpop+jwt", jwk })
        .sign(hmac),
    ],
    "no jwk": [await proof({}, { jwk: undefined })],
    "a private jwk": [await proof({}, { jwk: privateJwk })],
    "signed by another key": [await proof({}, {}, otherKey)],
    "htm GET": [await proof({ htm: "GET" })],
    "htu another path": [await proof({ htu: `${dev.url}/dev/mint` })],
    "htu another origin": [await proof({ htu: "http://127.0.0.1:1/token" })],
    "iat two minutes ago": [await proof({ iat: nowS() - 120 })],
    "iat two minutes ahead": [await proof({ iat: nowS() + 120 })],
    "no jti": [await proof({ jti: undefined })],
    "two proofs": [await proof(), await proof()],
    "not a JWS": ["not-a-proof"],
    replayed: [replayed],
  };
  for (const [name, proofs] of Object.entries(bad)) {
    const refused = await tokenRequest(proofs);
    assert.equal(refused.status, 400, name);
    assert.equal(refused.body["error"], "invalid_dpop_proof", name);
    assert.equal(refused.body["access_token"], undefined, name);
    for (const p of proofs) {
      for (const part of p.split(".").filter((x) => x.length > 8)) assert.ok(!refused.text.includes(part), `${name}: proof text`);
    }
  }
});

test("the development mint binds a token to the thumbprint it is given, and refuses one that is not", async () => {
  const jwks = createRemoteJWKSet(new URL(`${dev.url}/.well-known/jwks.json`));
  const mint = (body: unknown) =>
    fetch(`${dev.url}/dev/mint`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const minted = await mint({ sub: "alice", scope: "greet", jkt });
  assert.equal(minted.status, 200);
  const body = (await minted.json()) as { access_token: string; token_type: string };
  assert.equal(body.token_type, "DPoP");
  assert.deepEqual((await jwtVerify(body.access_token, jwks)).payload["cnf"], { jkt });
  for (const bad of ["", "abc", `${jkt}x`, 42, jkt.replace(/.$/, "B")]) {
    const refused = await mint({ sub: "alice", jkt: bad });
    assert.equal(refused.status, 400, String(bad));
    assert.match(
      ((await refused.json()) as { error_description: string }).error_description,
      /jkt must be a JWK SHA-256 thumbprint/,
    );
  }
});

test("createDevIssuer's mint: cnf.jkt with jkt, a TypeError for a jkt that is not a thumbprint", async () => {
  const issuer = await createDevIssuer({ issuer: "https://issuer.test", audience: "greeter" });
  const key = await importJWK(issuer.jwks.keys[0]!, "ES256");
  assert.deepEqual((await jwtVerify(await issuer.mint({ subject: "alice", jkt }), key)).payload["cnf"], { jkt });
  assert.equal((await jwtVerify(await issuer.mint({ subject: "alice" }), key)).payload["cnf"], undefined);
  await assert.rejects(issuer.mint({ subject: "alice", jkt: "not-a-thumbprint" }), TypeError);
  assert.equal(isJwkThumbprint(jkt), true);
  for (const bad of [undefined, 42, "", `${"A".repeat(42)}B`, `${"A".repeat(42)}E=`, jkt.slice(1), `${jkt}A`]) {
    assert.equal(isJwkThumbprint(bad), false, String(bad));
  }
});
