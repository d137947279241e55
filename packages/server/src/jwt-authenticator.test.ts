import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createContextValues } from "@connectrpc/connect";
import { type CryptoKey, SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWTPayload } from "jose";
import type { AuthCall, AuthOutcome } from "./authenticator.js";
import { type JwtAuthenticatorOptions, createJwtAuthenticator } from "./jwt-authenticator.js";
import { createMultiIssuerJwtAuthenticator } from "./multi-issuer-jwt-authenticator.js";
import { type RevocationList, type RevocationSubject, createMemoryRevocationList, revocationDigest } from "./revocation-list.js";

const issuer = "https://issuer.test";
const audience = "greeter";
const now = Date.UTC(2026, 0, 1);
const nowS = now / 1000;
const es = await generateKeyPair("ES256", { extractable: true });
const other = await generateKeyPair("ES256", { extractable: true });
const jwks = { keys: [{ ...(await exportJWK(es.publicKey)), kid: "k1", alg: "ES256" }] };

function sign(claims: JWTPayload, opts: { key?: CryptoKey; kid?: string; alg?: string } = {}) {
  return new SignJWT({ iss: issuer, aud: audience, sub: "alice", iat: nowS, exp: nowS + 300, ...claims })
    .setProtectedHeader({ alg: opts.alg ?? "ES256", kid: opts.kid ?? "k1" })
    .sign(opts.key ?? es.privateKey);
}

/** The issuer every authenticator here trusts, its ES256 keys from `jwks`. */
const issuerOptions = { issuer, audience, algorithms: ["ES256"], keys: jwks };
/** What every single-issuer authenticator here starts from: `issuerOptions` and the fixed clock. */
const options = { ...issuerOptions, now: () => now };
/** A JWT authenticator on `options` with these changed or added. */
const jwtWith = (changes: Partial<JwtAuthenticatorOptions>) => createJwtAuthenticator({ ...options, ...changes });
const jwt = jwtWith({});
/** Keys from `jwks` through a getter that counts its lookups (a cache hit makes none). */
const counting = () => {
  const counter = { lookups: 0 };
  const keys = async (...args: Parameters<ReturnType<typeof import("jose").createLocalJWKSet>>) => {
    counter.lookups++;
    return (await import("jose")).createLocalJWKSet(jwks)(...args);
  };
  return { counter, keys };
};
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

test("the lifetime cap counts from now too: a late iat does not stretch it", async () => {
  const year = 365 * 86400;
  // exp a year out: refused with iat now, and with iat set an hour before exp (its signature is good).
  assertRejected(await verify(await sign({ exp: nowS + year })), "INVALID_TOKEN", "lifetime");
  assertRejected(await verify(await sign({ iat: nowS + year - 3600, exp: nowS + year })), "INVALID_TOKEN", "lifetime");
  // The cap from now takes the clock tolerance (30 s), as a slightly early iat does.
  assert.ok((await verify(await sign({ iat: nowS + 20, exp: nowS + 20 + 86400 }))).ok);
  assertRejected(await verify(await sign({ iat: nowS, exp: nowS + 86400 + 1 })), "INVALID_TOKEN", "lifetime");
  assertRejected(await verify(await sign({ iat: nowS + 29, exp: nowS + 86400 + 31 })), "INVALID_TOKEN", "lifetime");
});

test("an iat later than now plus the clock tolerance is TOKEN_NOT_YET_VALID, with or without a max age", async () => {
  const aged = jwtWith({ maxTokenAgeSeconds: 3600 });
  for (const jwtOf of [jwt, aged]) {
    const run = async (claims: JWTPayload) => jwtOf.authenticate({ scheme: "bearer", value: await sign(claims) });
    assertRejected(await run({ iat: nowS + 30 + 5, exp: nowS + 300 }), "TOKEN_NOT_YET_VALID", "iat");
    assertRejected(await run({ iat: nowS + 3600, exp: nowS + 3900 }), "TOKEN_NOT_YET_VALID", "iat");
    assert.ok((await run({ iat: nowS + 25, exp: nowS + 300 })).ok, "within the tolerance");
  }
  const strict = jwtWith({ clockToleranceSeconds: 0 });
  assertRejected(
    await strict.authenticate({ scheme: "bearer", value: await sign({ iat: nowS + 1 }) }),
    "TOKEN_NOT_YET_VALID",
    "iat",
  );
  assert.ok((await strict.authenticate({ scheme: "bearer", value: await sign({ iat: nowS }) })).ok);
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
  const down = jwtWith({
    keys: async () => {
      throw new TypeError("fetch failed");
    },
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
  const base = issuerOptions;
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

test("HMAC secrets: weak or PEM-looking ones are refused at creation; a good one verifies HS256 only", async () => {
  const base = { issuer, audience, now: () => now };
  assert.throws(() => createJwtAuthenticator({ ...base, algorithms: ["HS256"], keys: new Uint8Array(31) }), /at least 32 bytes/);
  const pem = new TextEncoder().encode(`-----BEGIN PUBLIC KEY-----\n${"A".repeat(64)}\n-----END PUBLIC KEY-----\n`);
  assert.throws(() => createJwtAuthenticator({ ...base, algorithms: ["HS256"], keys: pem }), /PEM/);
  const secret = crypto.getRandomValues(new Uint8Array(32));
  assert.throws(() => createJwtAuthenticator({ ...base, algorithms: ["HS256", "ES256"], keys: secret }), /does not fit/);
  const hmac = createJwtAuthenticator({ ...base, algorithms: ["HS256"], keys: secret });
  const token = await new SignJWT({ iss: issuer, aud: audience, sub: "svc", exp: nowS + 60 })
    .setProtectedHeader({ alg: "HS256" })
    .sign(secret);
  assert.ok((await hmac.authenticate({ scheme: "bearer", value: token })).ok);
});

test("no HMAC with an asymmetric key, ever: refused at creation, and at run time from a key getter", async () => {
  const base = { issuer, audience, now: () => now };
  assert.throws(() => createJwtAuthenticator({ ...base, algorithms: ["HS256"], keys: es.publicKey }), /does not fit/);
  assert.throws(() => createJwtAuthenticator({ ...base, algorithms: ["HS256"], keys: jwks }), /does not fit/);
  assert.throws(() => createJwtAuthenticator({ ...base, algorithms: ["ES256"], keys: es.privateKey }), /private/);
  // A getter may serve both families; the key it returns must still fit the token's algorithm.
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", es.publicKey));
  const mixed = createJwtAuthenticator({ ...base, algorithms: ["ES256", "HS256"], keys: async () => es.publicKey });
  const confused = await new SignJWT({ iss: issuer, aud: audience, exp: nowS + 60 })
    .setProtectedHeader({ alg: "HS256" })
    .sign(spki);
  assertRejected(await mixed.authenticate({ scheme: "bearer", value: confused }), "INVALID_TOKEN", "key_type");
  assert.ok((await mixed.authenticate({ scheme: "bearer", value: await sign({}) })).ok);
});

test("the RFC 9068 profile requires typ at+jwt and its claims", async () => {
  const profiled = jwtWith({ profile: "rfc9068" });
  const at = (claims: JWTPayload, typ = "at+jwt") =>
    new SignJWT({ iss: issuer, aud: audience, sub: "alice", iat: nowS, exp: nowS + 300, client_id: "app", jti: "j1", ...claims })
      .setProtectedHeader({ alg: "ES256", kid: "k1", typ })
      .sign(es.privateKey);
  assert.ok((await profiled.authenticate({ scheme: "bearer", value: await at({}) })).ok);
  assertRejected(await profiled.authenticate({ scheme: "bearer", value: await at({}, "JWT") }), "INVALID_TOKEN", "typ");
  assertRejected(
    await profiled.authenticate({ scheme: "bearer", value: await at({ client_id: undefined }) }),
    "INVALID_TOKEN",
    "claim_client_id",
  );
  assertRejected(
    await profiled.authenticate({ scheme: "bearer", value: await at({ jti: undefined }) }),
    "INVALID_TOKEN",
    "claim_jti",
  );
});

test("the verified-token cache: a hit skips the key lookup, and lives no longer than exp nor the TTL", async () => {
  let clock = now;
  const { counter, keys } = counting();
  const local = jwtWith({});
  const cached = jwtWith({ keys, cache: { ttlSeconds: 60 }, clockToleranceSeconds: 0, now: () => clock });
  const run = async (token: string) => cached.authenticate({ scheme: "bearer", value: token });
  const long = await sign({ exp: nowS + 300 });
  assert.ok((await run(long)).ok);
  assert.ok((await run(long)).ok);
  assert.equal(counter.lookups, 1, "the second call is a cache hit");
  clock = now + 61_000; // past the TTL: verified again
  assert.ok((await run(long)).ok);
  assert.equal(counter.lookups, 2);
  const short = await sign({ exp: nowS + 10 });
  clock = now;
  assert.ok((await run(short)).ok);
  clock = now + 11_000; // past exp: not served from the cache, and refused
  assertRejected(await run(short), "TOKEN_EXPIRED");
  assert.equal(counter.lookups, 4);
  // A token differing from a cached one in its payload only is not a hit.
  const [h, , s] = long.split(".");
  clock = now;
  assertRejected(
    await run(`${h}.${b64({ iss: issuer, aud: audience, sub: "mallory", exp: nowS + 300 })}.${s}`),
    "INVALID_TOKEN",
    "signature",
  );
  assert.ok((await local.authenticate({ scheme: "bearer", value: long })).ok);
});

test("the cache answers for the exact token once verified only: never a rejected one nor a value around a verified one", async () => {
  const { counter, keys } = counting();
  const counted = jwtWith({ keys });
  const run = (value: string) => counted.authenticate({ scheme: "bearer", value });
  const token = await sign({ scope: "greet" });
  assert.ok((await run(token)).ok);
  assert.ok((await run(token)).ok);
  assert.equal(counter.lookups, 1, "the second call is answered by the cache, inside authenticate");
  for (const around of [`x${token}`, `${token}x`, token.replace(/\.[^.]*$/, ".AAAA")]) {
    assertRejected(await run(around), "INVALID_TOKEN");
  }
  const forged = await sign({ scope: "greet" }, { key: other.privateKey });
  const before = counter.lookups;
  assertRejected(await run(forged), "INVALID_TOKEN", "signature");
  assertRejected(await run(forged), "INVALID_TOKEN", "signature");
  assert.equal(counter.lookups - before, 2, "a rejection is not cached");
});

// DPoP (RFC 9449): the binding's checks have their own suite (dpop-binding.test.ts); here, the authenticators' option.
const proofKeys = await generateKeyPair("ES256", { extractable: true });
const proofJwk = await exportJWK(proofKeys.publicKey);
const jkt = await calculateJwkThumbprint(proofJwk);
const url = "https://api.test/test.v1.GreeterService/Greet";
let jti = 0;
async function dpopCall(token: string): Promise<AuthCall> {
  const ath = createHash("sha256").update(token).digest("base64url");
  const proof = await new SignJWT({ htm: "POST", htu: url, iat: nowS, jti: `j${++jti}`, ath })
    .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: proofJwk })
    .sign(proofKeys.privateKey);
  return { values: createContextValues(), requestHeader: new Headers({ dpop: proof }), requestMethod: "POST", url };
}

test("dpop: off by default; on, the authenticator takes bearer and dpop and asks for what its mode takes", () => {
  assert.deepEqual([jwt.schemes, jwt.challenge], [["bearer"], undefined]);
  const base = issuerOptions;
  const required = createJwtAuthenticator({ ...base, dpop: { mode: "required", algorithms: ["ES256", "EdDSA"] } });
  assert.deepEqual(
    [required.schemes, required.challenge],
    [["bearer", "dpop"], { schemes: ["DPoP"], dpopAlgorithms: ["ES256", "EdDSA"] }],
  );
  const allowed = createMultiIssuerJwtAuthenticator({ issuers: [base as typeof base & { issuer: string }], dpop: "allowed" });
  assert.deepEqual(
    [allowed.schemes, allowed.challenge?.schemes],
    [
      ["bearer", "dpop"],
      ["Bearer", "DPoP"],
    ],
  );
  for (const dpop of ["on", { mode: "optional" }, { mode: "required", algorithms: ["HS256"] }]) {
    assert.throws(() => createJwtAuthenticator({ ...base, dpop: dpop as never }), /^TypeError: createJwtAuthenticator: dpop/);
    assert.throws(
      () => createMultiIssuerJwtAuthenticator({ issuers: [{ ...base, issuer }], dpop: dpop as never }),
      /^TypeError: createMultiIssuerJwtAuthenticator: dpop/,
    );
  }
});

test("dpop: a bound token with its proof is accepted with its confirmation, the token verified once (cached)", async () => {
  const { counter, keys } = counting();
  const single = jwtWith({ keys, dpop: "required" });
  const multi = createMultiIssuerJwtAuthenticator({ issuers: [{ ...issuerOptions, keys }], dpop: "required", now: () => now });
  for (const authenticator of [single, multi]) {
    counter.lookups = 0;
    const token = await sign({ scope: "greet", cnf: { jkt } });
    for (let i = 0; i < 2; i++) {
      const outcome = await authenticator.authenticate({ scheme: "dpop", value: token }, await dpopCall(token));
      assert.ok(outcome.ok, JSON.stringify(outcome));
      assert.deepEqual(outcome.identity.confirmation, { jkt });
    }
    assert.equal(counter.lookups, 1, "the second call's token is answered by the cache; its proof is checked anew");
    // The same token as Bearer: refused before any verification where DPoP is required.
    assertRejected(await authenticator.authenticate({ scheme: "bearer", value: token }), "INVALID_TOKEN", "dpop_required");
    assert.equal(counter.lookups, 1);
    // A proof is never cached: the same proof again is a replay.
    const call = await dpopCall(token);
    assert.ok((await authenticator.authenticate({ scheme: "dpop", value: token }, call)).ok);
    assertRejected(await authenticator.authenticate({ scheme: "dpop", value: token }, call), "INVALID_DPOP_PROOF", "jti_replay");
  }
});

test("dpop allowed: a bearer token without cnf.jkt passes, one with it is dpop_bound; too large is refused with DPoP", async () => {
  const allowed = jwtWith({ dpop: "allowed" });
  assert.ok((await allowed.authenticate({ scheme: "bearer", value: await sign({}) })).ok);
  assertRejected(
    await allowed.authenticate({ scheme: "bearer", value: await sign({ cnf: { jkt } }) }),
    "INVALID_TOKEN",
    "dpop_bound",
  );
  const large = "a".repeat(9000);
  const outcome = await allowed.authenticate({ scheme: "dpop", value: large }, await dpopCall(large));
  assertRejected(outcome, "INVALID_TOKEN", "too_large");
  assert.deepEqual(!outcome.ok && outcome.challenge?.schemes, ["DPoP"]);
});

// Revocation: the list is checked on every call, after the token is verified or found in the cache.
const bearer = (authenticator: { authenticate: typeof jwt.authenticate }, value: string) =>
  authenticator.authenticate({ scheme: "bearer", value });

test("revocation: a revoked token is refused even when it is in the verified-token cache, others are not", async () => {
  const revocations = createMemoryRevocationList({ now: () => now });
  const { counter, keys } = counting();
  const single = jwtWith({ keys, revocation: revocations });
  const multi = createMultiIssuerJwtAuthenticator({
    issuers: [{ ...issuerOptions, keys }],
    now: () => now,
    revocation: revocations,
  });
  for (const [i, authenticator] of [single, multi].entries()) {
    counter.lookups = 0;
    const token = await sign({ jti: `revoked-${i}` });
    const kept = await sign({ jti: `kept-${i}` });
    assert.ok((await bearer(authenticator, token)).ok);
    assert.ok((await bearer(authenticator, kept)).ok);
    await revocations.revoke({ issuer, jti: `revoked-${i}`, expiresAt: nowS + 300 });
    assertRejected(await bearer(authenticator, token), "INVALID_TOKEN", "revoked");
    assertRejected(await bearer(authenticator, token), "INVALID_TOKEN", "revoked");
    assert.ok((await bearer(authenticator, kept)).ok);
    assert.equal(counter.lookups, 2, "the revoked token was answered from the cache, and refused all the same");
  }
  // The same jti from another issuer is another token.
  const revokedB = createMemoryRevocationList({ now: () => now });
  await revokedB.revoke({ issuer: "https://other.test", jti: "shared" });
  const other = jwtWith({ revocation: revokedB });
  assert.ok((await bearer(other, await sign({ jti: "shared" }))).ok);
});

test("revocation: a token without jti is revoked by the digest of its signing input, under any of its signatures", async () => {
  const revocations = createMemoryRevocationList({ now: () => now });
  const authenticator = jwtWith({ revocation: revocations });
  const claims = { sub: "svc", iat: nowS - 5 };
  const token = await sign(claims);
  const resigned = await sign(claims); // ECDSA: another signature over the same header.payload
  assert.notEqual(token, resigned);
  assert.equal(token.slice(0, token.lastIndexOf(".")), resigned.slice(0, resigned.lastIndexOf(".")));
  const otherToken = await sign({ sub: "svc", iat: nowS - 4 });
  for (const t of [token, resigned, otherToken]) assert.ok((await bearer(authenticator, t)).ok);
  await revocations.revoke({ issuer, digest: revocationDigest(token), expiresAt: nowS + 300 });
  assertRejected(await bearer(authenticator, token), "INVALID_TOKEN", "revoked");
  assertRejected(await bearer(authenticator, resigned), "INVALID_TOKEN", "revoked");
  assert.ok((await bearer(authenticator, otherToken)).ok, "another token of the same subject");
});

test("revocation: by subject and by client, the tokens issued before the instant, not those after", async () => {
  const revocations = createMemoryRevocationList({ now: () => now });
  const authenticator = jwtWith({ revocation: revocations });
  const old = await sign({ sub: "alice", iat: nowS - 60 });
  const fresh = await sign({ sub: "alice", iat: nowS });
  const bob = await sign({ sub: "bob", iat: nowS - 60 });
  const appOld = await sign({ sub: "carol", client_id: "app", iat: nowS - 60 });
  const appFresh = await sign({ sub: "dave", client_id: "app", iat: nowS + 1 });
  const noIat = await sign({ sub: "erin", client_id: "app", iat: undefined });
  for (const t of [old, fresh, bob, appOld, appFresh, noIat]) assert.ok((await bearer(authenticator, t)).ok);
  await revocations.revoke({ issuer, subject: "alice", before: nowS });
  await revocations.revoke({ issuer, clientId: "app", before: nowS });
  assertRejected(await bearer(authenticator, old), "INVALID_TOKEN", "revoked");
  assert.ok((await bearer(authenticator, fresh)).ok, "issued at the instant: not before it");
  assert.ok((await bearer(authenticator, bob)).ok);
  assertRejected(await bearer(authenticator, appOld), "INVALID_TOKEN", "revoked");
  assert.ok((await bearer(authenticator, appFresh)).ok);
  assertRejected(await bearer(authenticator, noIat), "INVALID_TOKEN", "revoked");
});

test("revocation: a list that cannot be trusted is REVOCATION_UNAVAILABLE without a challenge, never a token reason", async () => {
  let answer: string = "unavailable";
  const subjects: RevocationSubject[] = [];
  const list: RevocationList = {
    check: (subject) => {
      subjects.push(subject);
      if (answer === "throw") throw new Error("redis://user:secret@host down");
      return answer as "clear";
    },
    revoke: async () => {},
    list: async () => [],
    status: () => ({ ready: false, lastError: "unreachable" }),
  };
  const authenticator = jwtWith({ revocation: list });
  const token = await sign({ jti: "j-1", client_id: "app", iat: nowS - 1 });
  for (const a of ["unavailable", "throw", "maybe"]) {
    answer = a;
    const outcome = await bearer(authenticator, token);
    assertRejected(outcome, "REVOCATION_UNAVAILABLE", "revocation_list");
    assert.equal(!outcome.ok && outcome.challenge, undefined, a);
    assert.ok(!JSON.stringify(outcome).includes("secret"));
  }
  answer = "clear";
  assert.ok((await bearer(authenticator, token)).ok);
  // What the list was asked: the verified claims, and the digest of the token's signing input.
  assert.deepEqual(subjects.at(-1), {
    issuer,
    jti: "j-1",
    digest: revocationDigest(token),
    subject: "alice",
    clientId: "app",
    issuedAt: nowS - 1,
  });
  // A token the verification refused is not checked against the list.
  const asked = subjects.length;
  assertRejected(await bearer(authenticator, await sign({ exp: nowS - 3600 })), "TOKEN_EXPIRED");
  assert.equal(subjects.length, asked);
  assert.throws(
    () => createJwtAuthenticator({ ...issuerOptions, revocation: {} as never }),
    /^TypeError: createJwtAuthenticator: revocation must be a RevocationList/,
  );
  assert.throws(
    () =>
      createMultiIssuerJwtAuthenticator({
        issuers: [issuerOptions],
        revocation: { check() {} } as never,
      }),
    /^TypeError: createMultiIssuerJwtAuthenticator: revocation must be a RevocationList/,
  );
});

test("revocation with DPoP: a revoked bound token is refused with a DPoP challenge, its proof not recorded", async () => {
  const revocations = createMemoryRevocationList({ now: () => now });
  const added: string[] = [];
  const authenticator = jwtWith({
    revocation: revocations,
    dpop: { mode: "required", replayStore: { add: async (key) => added.push(key) > 0 } },
  });
  const token = await sign({ jti: "bound-1", cnf: { jkt } });
  assert.ok((await authenticator.authenticate({ scheme: "dpop", value: token }, await dpopCall(token))).ok);
  await revocations.revoke({ issuer, jti: "bound-1" });
  const outcome = await authenticator.authenticate({ scheme: "dpop", value: token }, await dpopCall(token));
  assertRejected(outcome, "INVALID_TOKEN", "revoked");
  assert.deepEqual(!outcome.ok && outcome.challenge?.schemes, ["DPoP"]);
  assert.equal(added.length, 1, "the proof of a revoked token's call is not checked");
});

test("revalidate: an identity it accepted holds until its token is revoked; one it did not accept is refused", async () => {
  const revocations = createMemoryRevocationList({ now: () => now });
  assert.equal(jwt.revalidate, undefined, "no list, nothing to revalidate");
  const single = jwtWith({ revocation: revocations, dpop: "allowed" });
  const multi = createMultiIssuerJwtAuthenticator({ issuers: [issuerOptions], now: () => now, revocation: revocations });
  for (const [i, authenticator] of [single, multi].entries()) {
    const first = await bearer(authenticator, await sign({ sub: `user-${i}` }));
    const cached = await bearer(authenticator, await sign({ sub: `user-${i}` }));
    assert.ok(first.ok && cached.ok);
    assert.equal(authenticator.revalidate?.(first.identity), undefined);
    await revocations.revoke({ issuer, subject: `user-${i}`, before: nowS + 1 });
    for (const identity of [first.identity, cached.identity]) {
      const r = authenticator.revalidate?.(identity);
      assert.ok(r !== undefined);
      assertRejected(r, "INVALID_TOKEN", "revoked");
    }
    const copy = { ...first.identity };
    assertRejected(authenticator.revalidate?.(copy) as AuthOutcome, "INVALID_TOKEN", "revalidate");
  }
  // A DPoP call's identity (with its confirmation) is known too.
  const token = await sign({ sub: "dpop-user", cnf: { jkt } });
  const bound = await single.authenticate({ scheme: "dpop", value: token }, await dpopCall(token));
  assert.ok(bound.ok && bound.identity.confirmation !== undefined);
  assert.equal(single.revalidate?.(bound.identity), undefined);
  await revocations.revoke({ issuer, subject: "dpop-user", before: nowS + 1 });
  assertRejected(single.revalidate?.(bound.identity) as AuthOutcome, "INVALID_TOKEN", "revoked");
});

test("dpop: a proof's iat may be off by the window plus the issuer's clockToleranceSeconds", async () => {
  const base = options;
  const proofAt = async (token: string, iat: number): Promise<AuthCall> => {
    const ath = createHash("sha256").update(token).digest("base64url");
    const proof = await new SignJWT({ htm: "POST", htu: url, iat, jti: `t${++jti}`, ath })
      .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: proofJwk })
      .sign(proofKeys.privateKey);
    return { values: createContextValues(), requestHeader: new Headers({ dpop: proof }), requestMethod: "POST", url };
  };
  const token = await sign({ cnf: { jkt } });
  const strict = createJwtAuthenticator({ ...base, clockToleranceSeconds: 0, dpop: "required" });
  const loose = createMultiIssuerJwtAuthenticator({
    issuers: [{ ...base, clockToleranceSeconds: 120 }],
    now: () => now,
    dpop: "required",
  });
  const byDefault = createJwtAuthenticator({ ...base, dpop: "required" });
  const run = async (a: typeof jwt, secondsAgo: number) => {
    const outcome = await a.authenticate({ scheme: "dpop", value: token }, await proofAt(token, nowS - secondsAgo));
    return outcome.ok ? "ok" : outcome.detail;
  };
  assert.deepEqual([await run(strict, 59), await run(strict, 61)], ["ok", "iat"]);
  assert.deepEqual([await run(byDefault, 89), await run(byDefault, 91)], ["ok", "iat"]);
  assert.deepEqual([await run(loose, 179), await run(loose, 181)], ["ok", "iat"]);
});
