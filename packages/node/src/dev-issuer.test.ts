import { suite, test } from "node:test";
import assert from "node:assert/strict";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { createDevIssuer } from "./dev-issuer.js";

const now = 1_800_000_000_000;

suite("createDevIssuer()", () => {
  test("mints access tokens that verify against its JWKS, at its clock", async () => {
    const issuer = await createDevIssuer({ issuer: "https://issuer.test/", audience: "greeter", now: () => now });
    const token = await issuer.mint({ subject: "alice", scopes: ["greet", "admin"] });
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(issuer.jwks), {
      issuer: "https://issuer.test/",
      audience: "greeter",
      currentDate: new Date(now),
    });
    assert.deepEqual(protectedHeader, { alg: "ES256", kid: issuer.keyId, typ: "at+jwt" });
    assert.equal(payload.sub, "alice");
    assert.equal(payload["scope"], "greet admin");
    assert.equal(payload.iat, now / 1000);
    assert.equal(payload.exp, now / 1000 + 300, "five minutes unless told otherwise");
    assert.equal(payload.nbf, undefined);
    assert.notEqual(
      payload.jti,
      (await jwtVerify(await issuer.mint({ subject: "alice" }), createLocalJWKSet(issuer.jwks), { currentDate: new Date(now) }))
        .payload.jti,
    );
    assert.deepEqual(
      issuer.jwks.keys.map((k) => [k.kid, k.alg, k.use, k.kty, "d" in k]),
      [[issuer.keyId, "ES256", "sig", "EC", false]],
    );
    assert.deepEqual(issuer.discovery, { issuer: "https://issuer.test/", jwks_uri: "https://issuer.test/.well-known/jwks.json" });
  });

  test("overrides make the bad tokens a demo shows; extra claims do not replace the registered ones", async () => {
    const issuer = await createDevIssuer({ issuer: "https://issuer.test", audience: "greeter", now: () => now });
    const keys = createLocalJWKSet(issuer.jwks);
    const verify = (token: string, options = {}) => jwtVerify(token, keys, { currentDate: new Date(now), ...options });
    await assert.rejects(verify(await issuer.mint({ subject: "a", ttlSeconds: -60 })), { code: "ERR_JWT_EXPIRED" });
    await assert.rejects(verify(await issuer.mint({ subject: "a", notBeforeSeconds: 600 })), {
      code: "ERR_JWT_CLAIM_VALIDATION_FAILED",
      claim: "nbf",
    });
    await assert.rejects(verify(await issuer.mint({ subject: "a", audience: "billing" }), { audience: "greeter" }), {
      claim: "aud",
    });
    await assert.rejects(
      verify(await issuer.mint({ subject: "a", issuer: "https://other.test" }), { issuer: "https://issuer.test" }),
      { claim: "iss" },
    );
    const unknown = await issuer.mint({ subject: "a", keyId: "gone" });
    assert.equal(decodeProtectedHeader(unknown).kid, "gone");
    await assert.rejects(verify(unknown), { code: "ERR_JWKS_NO_MATCHING_KEY" });
    const { payload } = await verify(
      await issuer.mint({
        subject: "alice",
        scopes: ["greet"],
        claims: { sub: "mallory", iss: "https://evil.test", scope: "admin", tenant: "t1" },
      }),
    );
    assert.deepEqual(
      [payload.sub, payload.iss, payload["scope"], payload["tenant"]],
      ["alice", "https://issuer.test", "greet", "t1"],
    );
  });

  test("each issuer has its own key", async () => {
    const one = await createDevIssuer({ issuer: "https://issuer.test", audience: "greeter" });
    const two = await createDevIssuer({ issuer: "https://issuer.test", audience: "greeter" });
    assert.notEqual(one.keyId, two.keyId);
    await assert.rejects(
      jwtVerify(
        await two.mint({ subject: "a" }),
        createLocalJWKSet({ keys: one.jwks.keys.map((k) => ({ ...k, kid: two.keyId })) }),
      ),
      {
        code: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
      },
    );
  });

  test("bad options: TypeError at creation", async () => {
    const bad = [
      { issuer: "", audience: "a" },
      { issuer: "i", audience: "" },
      { audience: "a" },
      { issuer: "i", audience: "a", now: 5 },
    ];
    for (const options of bad) {
      await assert.rejects(createDevIssuer(options as never), TypeError, JSON.stringify(options));
    }
  });
});
