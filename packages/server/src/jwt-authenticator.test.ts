import { test } from "node:test";
import assert from "node:assert/strict";
import { type CryptoKey, SignJWT, exportJWK, generateKeyPair, type JWTPayload } from "jose";
import type { AuthOutcome } from "./authenticator.js";
import { createJwtAuthenticator } from "./jwt-authenticator.js";

const issuer = "https://issuer.test";
const audience = "greeter";
const now = Date.UTC(2026, 0, 1) ;
const nowS = now / 1000;
const es = await generateKeyPair("ES256", { extractable: true });
const other = await generateKeyPair("ES256", { extractable: true });
const jwks = { keys: [{ ...(await exportJWK(es.publicKey)), kid: "k1", alg: "ES256" }] };

function sign(claims: JWTPayload, opts: { key?: CryptoKey; kid?: string; alg?: string } = {}) {
  return new SignJWT({ iss: issuer, aud: audience, sub: "alice", iat: nowS, exp: nowS + 300, ...claims })
    .setProtectedHeader({ alg: opts.alg ?? "ES256", kid: opts.kid ?? "k1" })
    .sign(opts.key ?? es.privateKey);
}

const jwt = createJwtAuthenticator({ issuer, audience, algorithms: ["ES256"], keys: jwks, now: () => now });
const verify = (token: string) => jwt.authenticate({ scheme: "bearer", value: token });

function assertRejected(outcome: AuthOutcome, reason: string, detail?: string) {
  assert.equal(outcome.ok, false, "expected a rejection");
  if (outcome.ok) return;
  assert.equal(outcome.reason, reason);
  if (detail !== undefined) assert.equal(outcome.detail, detail);
}

test("accepts a valid token: identity with subject, scopes, claims", async () => {
  const outcome = await verify(await sign({ scope: "greet admin", tenant: "t1" }));
  assert.ok(outcome.ok);
  assert.equal(outcome.identity.subject, "alice");
  assert.deepEqual([...outcome.identity.scopes].sort(), ["admin", "greet"]);
  assert.equal(outcome.identity.claims["tenant"], "t1");
  assert.equal(outcome.identity.authenticator, "jwt");
});

test("maps each claim failure to its reason", async () => {
  assertRejected(await verify(await sign({ exp: nowS - 3600 })), "TOKEN_EXPIRED");
  assertRejected(await verify(await sign({ nbf: nowS + 3600 })), "TOKEN_NOT_YET_VALID");
  assertRejected(await verify(await sign({ aud: "someone-else" })), "INVALID_AUDIENCE");
  assertRejected(await verify(await sign({ iss: "https://evil.test" })), "INVALID_ISSUER");
  assertRejected(await verify(await sign({ exp: undefined })), "INVALID_TOKEN", "claim_exp");
});

test("tolerates 30 s of clock skew by default, not more", async () => {
  assert.ok((await verify(await sign({ exp: nowS - 20 }))).ok);
  assertRejected(await verify(await sign({ exp: nowS - 40 })), "TOKEN_EXPIRED");
});

test("rejects bad signatures, unknown keys, disallowed algorithms and garbage", async () => {
  assertRejected(await verify(await sign({}, { key: other.privateKey })), "INVALID_TOKEN", "signature");
  assertRejected(await verify(await sign({}, { kid: "unknown" })), "INVALID_TOKEN", "unknown_key");
  const hs = await new SignJWT({ iss: issuer, aud: audience, exp: nowS + 60 })
    .setProtectedHeader({ alg: "HS256", kid: "k1" })
    .sign(new Uint8Array(32));
  assertRejected(await verify(hs), "INVALID_TOKEN", "algorithm");
  const none = `${b64({ alg: "none" })}.${b64({ iss: issuer, aud: audience, exp: nowS + 60 })}.`;
  assertRejected(await verify(none), "INVALID_TOKEN");
  assertRejected(await verify("a.b.c"), "INVALID_TOKEN", "format");
  assertRejected(await verify("x".repeat(9000)), "INVALID_TOKEN", "too_large");
});

test("a key source that fails is KEYS_UNAVAILABLE, not a token fault", async () => {
  const down = createJwtAuthenticator({
    issuer,
    audience,
    algorithms: ["ES256"],
    keys: async () => {
      throw new TypeError("fetch failed");
    },
    now: () => now,
  });
  assertRejected(await down.authenticate({ scheme: "bearer", value: await sign({}) }), "KEYS_UNAVAILABLE");
});

test("no outcome holds the token", async () => {
  for (const token of [await sign({ exp: nowS - 3600 }), await sign({ aud: "x" }), await sign({}, { kid: "nope" })]) {
    const text = JSON.stringify(await verify(token));
    assert.ok(!text.includes(token) && !text.includes(token.split(".")[1]!));
  }
});

test("misconfiguration fails at creation with TypeError", () => {
  const base = { issuer, audience, algorithms: ["ES256"], keys: jwks };
  assert.throws(() => createJwtAuthenticator({ ...base, issuer: "" }), TypeError);
  assert.throws(() => createJwtAuthenticator({ ...base, audience: [] }), TypeError);
  assert.throws(() => createJwtAuthenticator({ ...base, algorithms: [] }), TypeError);
  assert.throws(() => createJwtAuthenticator({ ...base, algorithms: ["none"] }), TypeError);
  assert.throws(() => createJwtAuthenticator({ ...base, clockToleranceSeconds: -1 }), TypeError);
  assert.throws(() => createJwtAuthenticator({ ...base, keys: "secret" as never }), TypeError);
});

function b64(o: object): string {
  return btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
}
