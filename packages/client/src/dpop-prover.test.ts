// The DPoP prover alone: its proofs checked with jose as a server would (jwtVerify with the embedded
// JWK), claim by claim, for every kind of key it takes; its thumbprint, its nonces, and its misuse.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { EmbeddedJWK, type JWK, calculateJwkThumbprint, decodeProtectedHeader, jwtVerify } from "jose";
import { createDpopProver, type DpopAlgorithm, type DpopProverOptions } from "./dpop.js";

type KeyParams = RsaHashedKeyGenParams | EcKeyGenParams | { name: "Ed25519" };
const rsa = (name: string, hash: string): RsaHashedKeyGenParams => ({
  name,
  hash,
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
});
const keyKinds: [string, KeyParams, DpopAlgorithm][] = [
  ["P-256", { name: "ECDSA", namedCurve: "P-256" }, "ES256"],
  ["P-384", { name: "ECDSA", namedCurve: "P-384" }, "ES384"],
  ["Ed25519", { name: "Ed25519" }, "EdDSA"],
  ["RSASSA-PKCS1-v1_5 SHA-256", rsa("RSASSA-PKCS1-v1_5", "SHA-256"), "RS256"],
  ["RSA-PSS SHA-256", rsa("RSA-PSS", "SHA-256"), "PS256"],
];

/** A key pair as a browser app makes one: the private key not extractable. */
const keyPair = (params: KeyParams = { name: "ECDSA", namedCurve: "P-256" }) =>
  crypto.subtle.generateKey(params, false, ["sign", "verify"]) as Promise<CryptoKeyPair>;

/** What a server reads of a proof: jose checks the signature with the proof's own jwk, and the typ. */
async function verified(proof: string, algorithm: DpopAlgorithm = "ES256") {
  const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: "dpop+jwt", algorithms: [algorithm] });
  return { claims: payload, header: protectedHeader };
}

const privateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
const sha256 = (text: string) => createHash("sha256").update(text).digest("base64url");

test("every kind of key: its algorithm, and a proof that verifies with its own public jwk (no private member)", async () => {
  for (const [name, params, algorithm] of keyKinds) {
    const prover = createDpopProver({ keyPair: await keyPair(params) });
    assert.equal(prover.algorithm, algorithm, name);
    const { header } = await verified(await prover.proof({ method: "POST", url: "https://api.test/x" }), algorithm);
    assert.equal(header.typ, "dpop+jwt");
    assert.equal(header.alg, algorithm);
    const jwk = header.jwk as JWK;
    assert.deepEqual(
      privateMembers.filter((m) => m in jwk),
      [],
      `${name}: the jwk header has public members only`,
    );
    assert.deepEqual(
      Object.keys(jwk).sort(),
      jwk.kty === "RSA" ? ["e", "kty", "n"] : jwk.kty === "EC" ? ["crv", "kty", "x", "y"] : ["crv", "kty", "x"],
    );
  }
  const ed = createDpopProver({ keyPair: await keyPair({ name: "Ed25519" }), algorithm: "Ed25519" });
  assert.equal((await verified(await ed.proof({ method: "POST", url: "https://api.test/" }), "Ed25519")).header.alg, "Ed25519");
});

test("the claims: jti, htm, htu without query and fragment, iat from now(), ath of the token", async () => {
  const now = 1_750_000_000_123;
  const prover = createDpopProver({ keyPair: await keyPair(), now: () => now });
  const token = "eyJhbGciOiJFUzI1NiJ9.e30.sig-of-the-access-token";
  const proof = await prover.proof({
    method: "POST",
    url: "https://API.test:443/svc/Method?connect=v1&message=x#frag",
    accessToken: token,
  });
  const { claims } = await verified(proof);
  assert.deepEqual(Object.keys(claims).sort(), ["ath", "htm", "htu", "iat", "jti"]);
  assert.equal(claims.htm, "POST");
  assert.equal(claims["htu"], "https://api.test/svc/Method");
  assert.equal(claims.iat, Math.floor(now / 1000));
  assert.equal(claims["ath"], sha256(token));
  assert.match(String(claims.jti), /^[0-9a-f-]{36}$/);
  assert.ok(!proof.includes(token), "the token itself is not in the proof");

  const bare = (await verified(await prover.proof({ method: "GET", url: new URL("http://127.0.0.1:8080/a/b") }))).claims;
  assert.deepEqual([bare.htm, bare["htu"], "ath" in bare], ["GET", "http://127.0.0.1:8080/a/b", false]);
});

test("every proof is new: 200 proofs of the same request, 200 jti", async () => {
  const prover = createDpopProver({ keyPair: await keyPair() });
  const proofs = await Promise.all(
    Array.from({ length: 200 }, () => prover.proof({ method: "POST", url: "https://api.test/x" })),
  );
  const ids = new Set(await Promise.all(proofs.map(async (p) => (await verified(p)).claims.jti)));
  assert.equal(ids.size, 200);
});

test("nonces: none until a response gave one, then that origin's latest; other origins and malformed ones are not used", async () => {
  const prover = createDpopProver({ keyPair: await keyPair() });
  const nonceOf = async (url: string) => (await verified(await prover.proof({ method: "POST", url }))).claims["nonce"];
  assert.equal(await nonceOf("https://api.test/a"), undefined);
  prover.rememberNonce("https://api.test/a", new Headers({ "dpop-nonce": "n-1" }));
  assert.equal(await nonceOf("https://api.test/b?x=1"), "n-1", "the origin's nonce, whatever the path");
  prover.rememberNonce("https://api.test/c", new Headers({ "DPoP-Nonce": "n-2" }));
  assert.equal(await nonceOf("https://api.test/a"), "n-2", "the latest wins");
  assert.equal(await nonceOf("https://other.test/a"), undefined, "another origin");
  assert.equal(await nonceOf("https://api.test:8443/a"), undefined, "another port is another origin");
  for (const bad of ['has "quotes"', "back\\slash", "with space", "é"]) {
    prover.rememberNonce("https://api.test/", new Headers([["dpop-nonce", Buffer.from(bad).toString("latin1")]]));
  }
  prover.rememberNonce("https://api.test/", new Headers());
  assert.equal(await nonceOf("https://api.test/a"), "n-2", "malformed or missing nonces are ignored");
});

test("jkt: the RFC 7638 thumbprint of the proofs' jwk, as jose computes it", async () => {
  for (const [, params] of keyKinds) {
    const prover = createDpopProver({ keyPair: await keyPair(params) });
    const { header } = await verified(await prover.proof({ method: "POST", url: "https://api.test/" }), prover.algorithm);
    assert.equal(await prover.jkt(), await calculateJwkThumbprint(header.jwk as JWK, "sha256"));
  }
  const a = createDpopProver({ keyPair: await keyPair() });
  const b = createDpopProver({ keyPair: await keyPair() });
  assert.notEqual(await a.jkt(), await b.jkt());
});

test("a non-extractable private key signs; the prover never exports it", async () => {
  const pair = await keyPair();
  assert.equal(pair.privateKey.extractable, false);
  const prover = createDpopProver({ keyPair: pair });
  const proof = await prover.proof({ method: "POST", url: "https://api.test/" });
  assert.equal(decodeProtectedHeader(proof).alg, "ES256");
  await assert.rejects(crypto.subtle.exportKey("jwk", pair.privateKey), /not extractable/);
});

test("misuse throws TypeError at creation: not WebCrypto keys, a key that cannot sign, a mismatched algorithm", async () => {
  const pair = await keyPair();
  const hmac = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const ecdh = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"])) as CryptoKeyPair;
  const other = await keyPair({ name: "Ed25519" });
  const cases: [string, unknown][] = [
    ["no options", undefined],
    ["no key pair", {}],
    ["a JWK instead of keys", { keyPair: { privateKey: { kty: "EC" }, publicKey: { kty: "EC" } } }],
    ["an HMAC key", { keyPair: { privateKey: hmac, publicKey: pair.publicKey } }],
    ["the keys swapped", { keyPair: { privateKey: pair.publicKey, publicKey: pair.privateKey } }],
    ["a key that cannot sign (ECDH)", { keyPair: ecdh }],
    ["keys of two algorithms", { keyPair: { privateKey: pair.privateKey, publicKey: other.publicKey } }],
    ["an algorithm of another key", { keyPair: pair, algorithm: "RS256" }],
    ["a symmetric algorithm", { keyPair: pair, algorithm: "HS256" }],
    ["now that is not a function", { keyPair: pair, now: 5 }],
  ];
  for (const [name, options] of cases) {
    assert.throws(() => createDpopProver(options as DpopProverOptions), TypeError, name);
  }
  const publicNotExtractable = await crypto.subtle.importKey(
    "jwk",
    await crypto.subtle.exportKey("jwk", pair.publicKey),
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["verify"],
  );
  assert.throws(
    () => createDpopProver({ keyPair: { privateKey: pair.privateKey, publicKey: publicNotExtractable } }),
    /extractable/,
  );
});

test("a proof of a request without method or URL is refused (TypeError), naming neither key nor token", async () => {
  const prover = createDpopProver({ keyPair: await keyPair() });
  await assert.rejects(prover.proof({ method: "", url: "https://api.test/", accessToken: "tok-secret" }), (e: unknown) => {
    assert.ok(e instanceof TypeError);
    assert.ok(!e.message.includes("tok-secret"));
    return true;
  });
  await assert.rejects(prover.proof({ method: "POST", url: "not a url" }), TypeError);
});
