import { test } from "node:test";
import assert from "node:assert/strict";
import { type KeyObject, createHash, generateKeyPairSync, sign as nodeSign } from "node:crypto";
import { type CryptoKey, type JWK, SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import { createDpopNonces } from "./dpop-nonce.js";
import { type DpopProofInput, type DpopProofOptions, type DpopProofResult, createDpopProofVerifier } from "./dpop-proof.js";
import { type ReplayStore, createMemoryReplayStore } from "./replay-store.js";

const clock = Date.UTC(2026, 0, 1, 12);
const nowS = clock / 1000;
const accessToken = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg";
const ath = createHash("sha256").update(accessToken).digest("base64url");
const url = "https://api.example.com/greeter.v1.Greeter/Greet";
const call: DpopProofInput = { proof: "", httpMethod: "POST", url, accessToken, scope: "https://issuer.test" };

const es256 = await generateKeyPair("ES256", { extractable: true });
const es256Jwk = await exportJWK(es256.publicKey);
const es256PrivateJwk = await exportJWK(es256.privateKey);

let jtiCounter = 0;
const claims = (extra: Record<string, unknown> = {}) => ({
  jti: `jti-${++jtiCounter}`,
  htm: "POST",
  htu: url,
  iat: nowS,
  ath,
  ...extra,
});

/** A proof as a client makes it with jose: typ dpop+jwt and the public jwk in the protected header. */
async function proofOf(
  extra: Record<string, unknown> = {},
  opts: { alg?: string; key?: CryptoKey; jwk?: JWK; header?: Record<string, unknown> } = {},
): Promise<string> {
  return new SignJWT(claims(extra))
    .setProtectedHeader({ alg: opts.alg ?? "ES256", typ: "dpop+jwt", jwk: opts.jwk ?? es256Jwk, ...opts.header })
    .sign(opts.key ?? es256.privateKey);
}

// A proof signed by hand (ES256, node:crypto), for headers jose's SignJWT will not write (crit, b64, none).
const raw = generateKeyPairSync("ec", { namedCurve: "P-256" });
const rawJwk = raw.publicKey.export({ format: "jwk" }) as JWK;
function rawProof(header: Record<string, unknown>, payload: unknown, key: KeyObject = raw.privateKey): string {
  const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${nodeSign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" }).toString("base64url")}`;
}
const rawHeader = (extra: Record<string, unknown> = {}) => ({ alg: "ES256", typ: "dpop+jwt", jwk: rawJwk, ...extra });

const verifier = (options: DpopProofOptions = {}) => createDpopProofVerifier({ now: () => clock, ...options });

function assertRefused(result: DpopProofResult, reason: string, detail: string, message?: string) {
  assert.equal(result.ok, false, `expected a refusal (${detail})`);
  if (result.ok) return;
  assert.equal(result.reason, reason, message);
  assert.equal(result.detail, detail, message);
}

test("a valid proof is accepted with the RFC 7638 SHA-256 thumbprint of its key", async () => {
  const result = await verifier().verify({ ...call, proof: await proofOf() });
  assert.deepEqual(result, { ok: true, jkt: await calculateJwkThumbprint(es256Jwk, "sha256") });
});

test("ES256, ES384, RS256, PS256, EdDSA and Ed25519 proofs are accepted by default", async () => {
  const dpop = verifier();
  assert.deepEqual(dpop.algorithms, ["ES256", "ES384", "EdDSA", "Ed25519", "RS256", "PS256"]);
  for (const alg of ["ES256", "ES384", "RS256", "PS256", "EdDSA", "Ed25519"]) {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const jwk = await exportJWK(publicKey);
    const result = await dpop.verify({ ...call, proof: await proofOf({}, { alg, key: privateKey, jwk }) });
    assert.deepEqual(result, { ok: true, jkt: await calculateJwkThumbprint(jwk) }, alg);
  }
});

test("each check refuses with its fixed detail word, and no result holds proof, token or key text", async () => {
  const other = await generateKeyPair("ES256");
  const rsaSmall = generateKeyPairSync("rsa", { modulusLength: 1024 });
  const ed = await generateKeyPair("EdDSA", { extractable: true });
  const edJwk = await exportJWK(ed.publicKey);
  const secretJwk = { kty: "oct", k: "c2VjcmV0LWtleS1tYXRlcmlhbC0xMjM0NTY3ODkwYWI" };
  const signedJwtHeader = (h: Record<string, unknown>) => rawProof(rawHeader(h), claims());
  const cases: [name: string, proof: string, detail: string, input?: Partial<DpopProofInput>][] = [
    ["too long", `${await proofOf({ pad: "x".repeat(5000) })}`, "format"],
    ["not a JWS", "not-a-jws", "format"],
    ["two segments", "eyJhbGciOiJFUzI1NiJ9.eyJ9", "format"],
    ["a JWE (five segments)", "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d", "format"],
    ["a header that is not JSON", `${Buffer.from("{oops").toString("base64url")}.e30.c2ln`, "format"],
    ["characters outside base64url", `${(await proofOf()).slice(0, -2)}+/`, "format"],
    ["no typ", rawProof({ alg: "ES256", jwk: rawJwk }, claims()), "typ"],
    ["typ jwt", await proofOf({}, { header: { typ: "JWT" } }), "typ"],
    ["alg none", rawProof({ alg: "none", typ: "dpop+jwt", jwk: rawJwk }, claims()), "alg"],
    ["alg HS256", rawProof(rawHeader({ alg: "HS256" }), claims()), "alg"],
    ["alg ES512 (not in the list)", rawProof(rawHeader({ alg: "ES512" }), claims()), "alg"],
    ["no jwk", rawProof({ alg: "ES256", typ: "dpop+jwt" }, claims()), "jwk"],
    ["jwk a string", signedJwtHeader({ jwk: "key" }), "jwk"],
    ["jwk an array", signedJwtHeader({ jwk: [rawJwk] }), "jwk"],
    ["jwk with its private part", await proofOf({}, { jwk: es256PrivateJwk }), "jwk"],
    ["jwk oct", signedJwtHeader({ jwk: secretJwk }), "jwk"],
    ["jwk with k on an EC key", signedJwtHeader({ jwk: { ...rawJwk, k: "AAAA" } }), "jwk"],
    ["jwk of another type than alg (EC for EdDSA)", signedJwtHeader({ alg: "EdDSA" }), "jwk"],
    ["jwk of another curve", signedJwtHeader({ alg: "ES384" }), "jwk"],
    ["jwk whose alg differs", signedJwtHeader({ jwk: { ...rawJwk, alg: "ES384" } }), "jwk"],
    ["jwk for encryption", signedJwtHeader({ jwk: { ...rawJwk, use: "enc" } }), "jwk"],
    ["jwk unparseable as a key", signedJwtHeader({ jwk: { kty: "EC", crv: "P-256", x: "AA", y: "AA" } }), "jwk"],
    ["RSA key under 2048 bits", signedJwtHeader({ alg: "RS256", jwk: rsaSmall.publicKey.export({ format: "jwk" }) }), "jwk"],
    ["crit", rawProof(rawHeader({ crit: ["exp"] }), claims()), "format"],
    ["b64", rawProof(rawHeader({ b64: false, crit: undefined }), claims()), "format"],
    ["signed by another key than its jwk", await proofOf({}, { key: other.privateKey }), "signature"],
    [
      "EdDSA signed by another key",
      await proofOf({}, { alg: "EdDSA", key: (await generateKeyPair("EdDSA")).privateKey, jwk: edJwk }),
      "signature",
    ],
    ["payload not JSON", rawProof(rawHeader(), "not json"), "format"],
    ["no jti", await proofOf({ jti: undefined }), "jti"],
    ["empty jti", await proofOf({ jti: "" }), "jti"],
    ["jti of 257 characters", await proofOf({ jti: "j".repeat(257) }), "jti"],
    ["jti a number", await proofOf({ jti: 7 }), "jti"],
    ["htm GET for POST", await proofOf({ htm: "GET" }), "htm"],
    ["htm lowercase", await proofOf({ htm: "post" }), "htm"],
    ["no htm", await proofOf({ htm: undefined }), "htm"],
    ["htu another path", await proofOf({ htu: "https://api.example.com/greeter.v1.Greeter/Other" }), "htu"],
    ["htu another host", await proofOf({ htu: "https://evil.example.com/greeter.v1.Greeter/Greet" }), "htu"],
    ["htu another scheme", await proofOf({ htu: "http://api.example.com/greeter.v1.Greeter/Greet" }), "htu"],
    ["htu another port", await proofOf({ htu: "https://api.example.com:8443/greeter.v1.Greeter/Greet" }), "htu"],
    ["htu with userinfo", await proofOf({ htu: "https://u:p@api.example.com/greeter.v1.Greeter/Greet" }), "htu"],
    ["htu not a URL", await proofOf({ htu: "/greeter.v1.Greeter/Greet" }), "htu"],
    ["htu not http(s)", await proofOf({ htu: "ftp://api.example.com/greeter.v1.Greeter/Greet" }), "htu"],
    ["no htu", await proofOf({ htu: undefined }), "htu"],
    ["request URL not absolute", await proofOf(), "htu", { url: "/greeter.v1.Greeter/Greet" }],
    ["no iat", await proofOf({ iat: undefined }), "iat"],
    ["iat 61 s old", await proofOf({ iat: nowS - 61 }), "iat"],
    ["iat 61 s ahead", await proofOf({ iat: nowS + 61 }), "iat"],
    ["iat a string (jose's check)", await proofOf({ iat: String(nowS) }), "iat"],
    ["exp passed (jose's check)", await proofOf({ exp: nowS - 10 }), "iat"],
    ["exp not a number (jose's check)", await proofOf({ exp: String(nowS + 60) }), "iat"],
    ["nbf ahead (jose's check)", await proofOf({ nbf: nowS + 10 }), "iat"],
    ["nbf not a number (jose's check)", await proofOf({ nbf: "now" }), "iat"],
    ["iat a string and no jti (the time claims first, as jose checked them)", await proofOf({ iat: "x", jti: 7 }), "iat"],
    ["no ath", await proofOf({ ath: undefined }), "ath"],
    ["ath of another token", await proofOf({ ath: createHash("sha256").update("other").digest("base64url") }), "ath"],
    ["ath padded", await proofOf({ ath: createHash("sha256").update(accessToken).digest("base64") }), "ath"],
    ["a token that is not ASCII", await proofOf(), "ath", { accessToken: `${accessToken}é` }],
    ["a token that is not ASCII, no ath", await proofOf({ ath: undefined }), "ath", { accessToken: `${accessToken}é` }],
    ["no htm, no request method", await proofOf({ htm: undefined }), "htm", { httpMethod: undefined as unknown as string }],
  ];
  const dpop = verifier();
  const texts = [accessToken, ath, es256Jwk.x!, es256Jwk.y!, es256PrivateJwk.d!, rawJwk.x!, rawJwk.y!, edJwk.x!, secretJwk.k];
  for (const [name, proof, detail, input] of cases) {
    const result = await dpop.verify({ ...call, ...input, proof });
    assertRefused(result, "INVALID_DPOP_PROOF", detail, name);
    const json = JSON.stringify(result);
    const parts = proof.split(".").filter((part) => part.length >= 8); // short ones ("a") are in any text
    for (const text of [proof, ...parts, ...texts]) assert.ok(!json.includes(text), `${name}: the result names no secret text`);
  }
  // The same checks do pass a proof that is right (so the table's refusals come from their one defect).
  assert.ok((await dpop.verify({ ...call, proof: rawProof(rawHeader(), claims()) })).ok);
  assert.ok((await dpop.verify({ ...call, proof: await proofOf({}, { alg: "EdDSA", key: ed.privateKey, jwk: edJwk }) })).ok);
});

test("only the configured algorithms are accepted", async () => {
  const dpop = verifier({ algorithms: ["EdDSA"] });
  assert.deepEqual(dpop.algorithms, ["EdDSA"]);
  assertRefused(await dpop.verify({ ...call, proof: await proofOf() }), "INVALID_DPOP_PROOF", "alg");
  const es512 = await generateKeyPair("ES512", { extractable: true });
  const proof = await proofOf({}, { alg: "ES512", key: es512.privateKey, jwk: await exportJWK(es512.publicKey) });
  assert.ok((await verifier({ algorithms: ["ES512"] }).verify({ ...call, proof })).ok);
});

test("htu matches after normalisation: query, fragment, default port, scheme and host case, dot segments", async () => {
  const dpop = verifier();
  const same: [htu: string, requestUrl: string][] = [
    [url, `${url}?page=2#top`],
    [`${url}?a=b#frag`, url],
    ["https://api.example.com:443/greeter.v1.Greeter/Greet", url],
    ["HTTPS://API.Example.COM/greeter.v1.Greeter/Greet", url],
    [url, "https://API.example.com:443/greeter.v1.Greeter/Greet?x=1"],
    ["https://api.example.com/greeter.v1.Greeter/./x/../Greet", url],
  ];
  for (const [htu, requestUrl] of same) {
    assert.ok((await dpop.verify({ ...call, url: requestUrl, proof: await proofOf({ htu }) })).ok, `${htu} for ${requestUrl}`);
  }
  assertRefused(
    await dpop.verify({ ...call, proof: await proofOf({ htu: "https://api.example.com/greeter.v1.greeter/greet" }) }),
    "INVALID_DPOP_PROOF",
    "htu",
    "the path is case-sensitive",
  );
});

test("publicOrigin: behind a proxy, htu is compared with the public origin, not the request's", async () => {
  const dpop = verifier({ publicOrigin: "https://api.example.com" });
  const inside = "http://10.0.0.5:8080/greeter.v1.Greeter/Greet?q=1";
  assert.ok((await dpop.verify({ ...call, url: inside, proof: await proofOf() })).ok);
  const proof = await proofOf({ htu: "http://10.0.0.5:8080/greeter.v1.Greeter/Greet" });
  assertRefused(await dpop.verify({ ...call, url: inside, proof }), "INVALID_DPOP_PROOF", "htu");
  assertRefused(
    await dpop.verify({ ...call, url: "http://10.0.0.5:8080/other", proof: await proofOf() }),
    "INVALID_DPOP_PROOF",
    "htu",
    "the path still counts",
  );
  assert.ok(
    (await verifier({ publicOrigin: "https://API.example.com:443/" }).verify({ ...call, url: inside, proof: await proofOf() }))
      .ok,
  );
});

test("iat: within the window and the clock tolerance of now, by the injected clock", async () => {
  const dpop = verifier({ iatWindowSeconds: 30, clockToleranceSeconds: 5 });
  assert.ok((await dpop.verify({ ...call, proof: await proofOf({ iat: nowS - 35 }) })).ok);
  assert.ok((await dpop.verify({ ...call, proof: await proofOf({ iat: nowS + 35 }) })).ok);
  assertRefused(await dpop.verify({ ...call, proof: await proofOf({ iat: nowS - 36 }) }), "INVALID_DPOP_PROOF", "iat");
  assertRefused(await dpop.verify({ ...call, proof: await proofOf({ iat: nowS + 36 }) }), "INVALID_DPOP_PROOF", "iat");
  let later = clock + 3_600_000;
  const moved = createDpopProofVerifier({ now: () => later });
  assertRefused(await moved.verify({ ...call, proof: await proofOf() }), "INVALID_DPOP_PROOF", "iat");
  later = clock;
  assert.ok((await moved.verify({ ...call, proof: await proofOf() })).ok);
});

test("replay: a proof is accepted once per scope and key; a refused proof does not use up its jti", async () => {
  const dpop = verifier();
  const proof = await proofOf();
  assert.ok((await dpop.verify({ ...call, proof })).ok);
  assertRefused(await dpop.verify({ ...call, proof }), "INVALID_DPOP_PROOF", "jti_replay");
  assert.ok((await dpop.verify({ ...call, proof, scope: "https://other-issuer.test" })).ok, "another scope");

  const jti = "reused-after-a-refusal";
  assertRefused(await dpop.verify({ ...call, proof: await proofOf({ jti, htm: "GET" }) }), "INVALID_DPOP_PROOF", "htm");
  assert.ok((await dpop.verify({ ...call, proof: await proofOf({ jti }) })).ok, "the refused proof did not record its jti");
  const ed = await generateKeyPair("EdDSA", { extractable: true });
  const edProof = await proofOf({ jti }, { alg: "EdDSA", key: ed.privateKey, jwk: await exportJWK(ed.publicKey) });
  assert.ok((await dpop.verify({ ...call, proof: edProof })).ok, "the same jti with another key");
});

test("replay: the store is given scope, thumbprint and jti, until iat + window + tolerance", async () => {
  const calls: [string, number][] = [];
  const replayStore: ReplayStore = {
    add: async (key, expiresAtMs) => {
      calls.push([key, expiresAtMs]);
      return true;
    },
  };
  const dpop = verifier({ replayStore, iatWindowSeconds: 45, clockToleranceSeconds: 15 });
  assert.ok((await dpop.verify({ ...call, proof: await proofOf({ jti: "the-jti", iat: nowS - 10 }) })).ok);
  const jkt = await calculateJwkThumbprint(es256Jwk);
  assert.deepEqual(calls, [[`https://issuer.test\n${jkt}\nthe-jti`, (nowS - 10 + 60) * 1000]]);
});

test("replay store full, failing, hanging or answering nonsense: REPLAY_STORE_UNAVAILABLE, never accepted", async () => {
  const full = verifier({ replayStore: createMemoryReplayStore({ maxEntries: 1, now: () => clock }) });
  assert.ok((await full.verify({ ...call, proof: await proofOf() })).ok);
  assertRefused(await full.verify({ ...call, proof: await proofOf() }), "REPLAY_STORE_UNAVAILABLE", "replay_store", "full");

  const stores: [string, ReplayStore][] = [
    ["rejects", { add: () => Promise.reject(new Error(`redis down for ${accessToken}`)) }],
    [
      "throws",
      {
        add: () => {
          throw new Error("sync");
        },
      },
    ],
    ["hangs", { add: () => new Promise<boolean>(() => {}) }],
    ["answers a string", { add: async () => "OK" as unknown as boolean }],
  ];
  for (const [name, replayStore] of stores) {
    const result = await verifier({ replayStore, replayTimeoutMs: 20 }).verify({ ...call, proof: await proofOf() });
    assertRefused(result, "REPLAY_STORE_UNAVAILABLE", "replay_store", name);
    assert.ok(!JSON.stringify(result).includes(accessToken), `${name}: the store's error is not passed on`);
  }
});

test("nonces: missing or unknown → USE_DPOP_NONCE with the nonce to use; current and previous accepted", async () => {
  let now = clock;
  const nonces = createDpopNonces({ secret: "a-secret-of-at-least-32-bytes-long!", rotationSeconds: 300, now: () => now });
  const dpop = createDpopProofVerifier({ nonces, now: () => now });
  const nonce = await nonces.current();
  const missing = await dpop.verify({ ...call, proof: await proofOf() });
  assertRefused(missing, "USE_DPOP_NONCE", "nonce");
  assert.equal(!missing.ok && missing.nonce, nonce, "the nonce to send in DPoP-Nonce");
  assertRefused(await dpop.verify({ ...call, proof: await proofOf({ nonce: "made-up" }) }), "USE_DPOP_NONCE", "nonce");
  assert.ok((await dpop.verify({ ...call, proof: await proofOf({ nonce }) })).ok);

  now += 300_000; // the next period: the previous nonce still counts
  const iat = now / 1000;
  assert.ok((await dpop.verify({ ...call, proof: await proofOf({ nonce, iat }) })).ok, "previous period");
  now += 300_000; // two periods old
  const stale = await dpop.verify({ ...call, proof: await proofOf({ nonce, iat: now / 1000 }) });
  assertRefused(stale, "USE_DPOP_NONCE", "nonce");
  assert.equal(!stale.ok && stale.nonce, await nonces.current());
  assert.notEqual(await nonces.current(), nonce);

  const other = createDpopNonces({ secret: "another-secret-of-at-least-32-bytes", now: () => now });
  const foreign = await other.current();
  assertRefused(
    await dpop.verify({ ...call, proof: await proofOf({ nonce: foreign, iat: now / 1000 }) }),
    "USE_DPOP_NONCE",
    "nonce",
  );

  const unused = "jti-refused-for-its-nonce";
  await dpop.verify({ ...call, proof: await proofOf({ jti: unused, iat: now / 1000 }) });
  const fresh = await nonces.current();
  assert.ok(
    (await dpop.verify({ ...call, proof: await proofOf({ jti: unused, nonce: fresh, iat: now / 1000 }) })).ok,
    "jti not used up",
  );
});

test("a client's steady proofs import its key and compute its thumbprint once", async (t) => {
  const subtle = globalThis.crypto.subtle;
  const counts = { importKey: 0, digest: 0 };
  for (const name of ["importKey", "digest"] as const) {
    const original = subtle[name].bind(subtle) as (...args: unknown[]) => Promise<unknown>;
    t.mock.method(subtle, name, (...args: unknown[]) => {
      counts[name]++;
      return original(...args);
    });
  }
  const dpop = verifier();
  const jkt = await calculateJwkThumbprint(es256Jwk);
  counts.digest = 0;
  for (let i = 0; i < 20; i++) assert.deepEqual(await dpop.verify({ ...call, proof: await proofOf() }), { ok: true, jkt });
  assert.equal(counts.importKey, 1, "one key import");
  assert.equal(counts.digest, 1, "one thumbprint");
  // The key is kept by the header's segment: another header (a kid added) with the same jwk is another entry.
  assert.ok((await dpop.verify({ ...call, proof: await proofOf({}, { header: { kid: "k" } }) })).ok);
  assert.equal(counts.importKey, 2, "a new segment, a new import");
});

test("a client's first proofs, arriving at once, import its key once", async (t) => {
  const subtle = globalThis.crypto.subtle;
  const original = subtle.importKey.bind(subtle) as (...args: unknown[]) => Promise<unknown>;
  let imports = 0;
  t.mock.method(subtle, "importKey", (...args: unknown[]) => {
    imports++;
    return original(...args);
  });
  const dpop = verifier();
  const proofs = await Promise.all(Array.from({ length: 8 }, () => proofOf()));
  const results = await Promise.all(proofs.map((proof) => dpop.verify({ ...call, proof })));
  assert.deepEqual(
    results.map((r) => r.ok),
    proofs.map(() => true),
  );
  assert.equal(imports, 1);
});

test("a steady proof's header is not decoded again: only its payload is parsed", async (t) => {
  const dpop = verifier();
  assert.ok((await dpop.verify({ ...call, proof: await proofOf() })).ok);
  const proofs = [await proofOf(), await proofOf()];
  const texts: string[] = [];
  const parse = JSON.parse;
  t.mock.method(JSON, "parse", (text: string) => {
    texts.push(text);
    return parse(text);
  });
  for (const proof of proofs) assert.ok((await dpop.verify({ ...call, proof })).ok);
  t.mock.restoreAll();
  const payloads = proofs.map((proof) => Buffer.from(proof.split(".")[1]!, "base64url").toString());
  assert.deepEqual(texts, payloads);
});

test("a known key's proofs are still refused for any character or segment out of form after the header", async () => {
  const dpop = verifier();
  assert.ok((await dpop.verify({ ...call, proof: await proofOf() })).ok, "the key is known");
  const [head, payload, signature] = (await proofOf()).split(".") as [string, string, string];
  const cases = [
    `${head}.${payload}=.${signature}`, // padding, which atob would take
    `${head}.${payload}.${signature}=`,
    `${head}.${payload} .${signature}`, // whitespace, likewise
    `${head}.${payload}é.${signature}`, // not ASCII
    `${head}.${payload}.${signature.slice(0, -2)}+/`,
    `${head}.${payload}.${signature}.e30`, // four segments
    `${head}.${payload}`, // two
    `${head}..${signature}`, // an empty payload
    `${head}.${payload}.`, // no signature
    `${head}`,
  ];
  for (const proof of cases) assertRefused(await dpop.verify({ ...call, proof }), "INVALID_DPOP_PROOF", "format", proof);
  assert.ok((await dpop.verify({ ...call, proof: `${head}.${payload}.${signature}` })).ok, "its form is fine");
});

test("a header refused is refused again: only a header that passed every check is kept", async () => {
  const dpop = verifier();
  const bad = rawProof(rawHeader({ jwk: { ...rawJwk, use: "enc" } }), claims());
  for (let i = 0; i < 2; i++) assertRefused(await dpop.verify({ ...call, proof: bad }), "INVALID_DPOP_PROOF", "jwk");
  const signedByOther = await proofOf({}, { key: (await generateKeyPair("ES256")).privateKey });
  assertRefused(await dpop.verify({ ...call, proof: signedByOther }), "INVALID_DPOP_PROOF", "signature");
  assert.ok((await dpop.verify({ ...call, proof: await proofOf() })).ok, "its key, kept, verifies its own proofs");
  assertRefused(await dpop.verify({ ...call, proof: signedByOther }), "INVALID_DPOP_PROOF", "signature", "and no other's");
});

test("ath is checked against each call's token: a key's last token is remembered, not trusted", async () => {
  const dpop = verifier();
  const other = `${accessToken}x`;
  const otherAth = createHash("sha256").update(other).digest("base64url");
  assert.ok((await dpop.verify({ ...call, proof: await proofOf() })).ok);
  assertRefused(await dpop.verify({ ...call, accessToken: other, proof: await proofOf() }), "INVALID_DPOP_PROOF", "ath");
  assert.ok((await dpop.verify({ ...call, accessToken: other, proof: await proofOf({ ath: otherAth }) })).ok);
  assertRefused(await dpop.verify({ ...call, proof: await proofOf({ ath: otherAth }) }), "INVALID_DPOP_PROOF", "ath");
  assert.ok((await dpop.verify({ ...call, proof: await proofOf() })).ok, "back to the first token");
});

test("a proof with no access token (a token request, RFC 9449 §5) must carry no ath", async () => {
  const dpop = verifier();
  const { accessToken: _, ...tokenRequest } = call;
  assert.ok((await dpop.verify({ ...tokenRequest, proof: await proofOf({ ath: undefined }) })).ok);
  assertRefused(await dpop.verify({ ...tokenRequest, proof: await proofOf() }), "INVALID_DPOP_PROOF", "ath");
});

test("htu: each request URL and htu is judged on its own (one htu, two request URLs)", async () => {
  const dpop = verifier();
  const elsewhere = "https://api.example.com/greeter.v1.Greeter/Other";
  for (let i = 0; i < 2; i++) {
    assert.ok((await dpop.verify({ ...call, proof: await proofOf() })).ok);
    assertRefused(await dpop.verify({ ...call, url: elsewhere, proof: await proofOf() }), "INVALID_DPOP_PROOF", "htu");
  }
});

test("the memory replay store is asked with no timer; any other store with one", async (t) => {
  const timers = t.mock.method(globalThis, "setTimeout");
  assert.ok((await verifier().verify({ ...call, proof: await proofOf() })).ok);
  const memory = createMemoryReplayStore({ now: () => clock });
  assert.ok((await verifier({ replayStore: memory }).verify({ ...call, proof: await proofOf() })).ok);
  assert.equal(timers.mock.callCount(), 0, "a memory store cannot hang");
  const proof = await proofOf();
  assert.ok((await verifier({ replayStore: { add: memory.add } }).verify({ ...call, proof })).ok, "its add, held elsewhere");
  assertRefused(await verifier({ replayStore: memory }).verify({ ...call, proof }), "INVALID_DPOP_PROOF", "jti_replay");
  assert.equal(timers.mock.callCount(), 0);
  const wrapped: ReplayStore = { add: (key, expiresAtMs) => memory.add(key, expiresAtMs) };
  assert.ok((await verifier({ replayStore: wrapped }).verify({ ...call, proof: await proofOf() })).ok);
  assert.equal(timers.mock.callCount(), 1, "a store that may hang is timed");
});

test("bad options throw a TypeError", () => {
  const bad: [string, unknown][] = [
    ["algorithms empty", { algorithms: [] }],
    ["algorithms none", { algorithms: ["none"] }],
    ["algorithms HS256", { algorithms: ["ES256", "HS256"] }],
    ["algorithms unknown", { algorithms: ["ES999"] }],
    ["algorithms a string", { algorithms: "ES256" }],
    ["iatWindowSeconds 0", { iatWindowSeconds: 0 }],
    ["iatWindowSeconds NaN", { iatWindowSeconds: Number.NaN }],
    ["clockToleranceSeconds negative", { clockToleranceSeconds: -1 }],
    ["replayTimeoutMs 0", { replayTimeoutMs: 0 }],
    ["replayTimeoutMs 1.5", { replayTimeoutMs: 1.5 }],
    ["maxProofLength 0", { maxProofLength: 0 }],
    ["replayStore without add", { replayStore: {} }],
    ["nonces without check", { nonces: { current: async () => "n" } }],
    ["publicOrigin with a path", { publicOrigin: "https://api.example.com/v1" }],
    ["publicOrigin with a query", { publicOrigin: "https://api.example.com/?a" }],
    ["publicOrigin not http(s)", { publicOrigin: "ftp://api.example.com" }],
    ["publicOrigin not a URL", { publicOrigin: "api.example.com" }],
    ["publicOrigin with userinfo", { publicOrigin: "https://u@api.example.com" }],
    ["now not a function", { now: 5 }],
  ];
  for (const [name, options] of bad) {
    assert.throws(() => createDpopProofVerifier(options as DpopProofOptions), TypeError, name);
  }
  assert.doesNotThrow(() => createDpopProofVerifier({ algorithms: ["ES512", "RS384", "PS512", "Ed25519"] }));
});
