// Differential (fast-check): the native path (node:crypto) and jose's jwtVerify accept and refuse exactly
// the same tokens, with the same results and errors (class, code, message, claim, reason), for valid
// tokens with random claims and options, mutated signatures, keys that do not fit, and malformed tokens.
import { before, suite, test } from "node:test";
import assert from "node:assert/strict";
import * as nodeCrypto from "node:crypto";
import fc from "fast-check";
import { type CryptoKey, type JWK, type JWTVerifyOptions, base64url, exportJWK, jwtVerify } from "jose";
import { createVerifyJwt } from "./native-jws.js";
import type { NativeCrypto } from "./node-crypto.js";

const { subtle } = globalThis.crypto;
const encoder = new TextEncoder();
const seed = 20240611;
const NOW = 1_900_000_000;

// node:crypto, counting signature checks: proof that the native path decided, not jose.
const checks = { native: 0 };
const real = nodeCrypto as unknown as NativeCrypto;
const counting: NativeCrypto = {
  ...real,
  verify: (...args) => {
    checks.native++;
    return real.verify(...args);
  },
  createHmac: (...args) => {
    checks.native++;
    return real.createHmac(...args);
  },
};
const native = createVerifyJwt({
  scope: { process: { versions: process.versions, getBuiltinModule: () => counting } },
});

const algs = ["ES256", "ES384", "ES512", "RS256", "PS256", "EdDSA", "HS256"] as const;
type Alg = (typeof algs)[number];

const signing: Record<Alg, AlgorithmIdentifier | RsaPssParams | EcdsaParams> = {
  ES256: { name: "ECDSA", hash: "SHA-256" },
  ES384: { name: "ECDSA", hash: "SHA-384" },
  ES512: { name: "ECDSA", hash: "SHA-512" },
  RS256: { name: "RSASSA-PKCS1-v1_5" },
  PS256: { name: "RSA-PSS", saltLength: 32 },
  EdDSA: { name: "Ed25519" },
  HS256: { name: "HMAC" },
};
// The curve orders (SEC 2, as `openssl ecparam -param_enc explicit` prints them), for the high-S form
// s' = n - s of an ECDSA signature.
const order: Partial<Record<Alg, bigint>> = {
  ES256: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  ES384: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  ES512:
    0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
};

interface Keys {
  readonly sign: CryptoKey;
  readonly verify: CryptoKey;
  readonly jwk: JWK;
  readonly secret?: Uint8Array<ArrayBuffer>;
}
let keys: Record<Alg, Keys>;
/** Keys of the wrong kind or shape for some algorithm, each as jose would be handed it. */
let misfits: { readonly name: string; readonly key: unknown }[];

async function keysOf(alg: Alg): Promise<Keys> {
  const generate = (params: RsaHashedKeyGenParams | EcKeyGenParams | Algorithm) =>
    subtle.generateKey(params, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;
  const rsa = { modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
  if (alg === "HS256") {
    const secret = new Uint8Array(nodeCrypto.randomBytes(32));
    const key = await subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, true, ["sign", "verify"]);
    return { sign: key, verify: key, jwk: await exportJWK(key), secret };
  }
  const pair =
    alg === "RS256"
      ? await generate({ name: "RSASSA-PKCS1-v1_5", ...rsa })
      : alg === "PS256"
        ? await generate({ name: "RSA-PSS", ...rsa })
        : alg === "EdDSA"
          ? await generate({ name: "Ed25519" })
          : await generate({ name: "ECDSA", namedCurve: { ES256: "P-256", ES384: "P-384", ES512: "P-521" }[alg] });
  return { sign: pair.privateKey, verify: pair.publicKey, jwk: await exportJWK(pair.publicKey) };
}

before(async () => {
  keys = Object.fromEntries(await Promise.all(algs.map(async (alg) => [alg, await keysOf(alg)]))) as Record<Alg, Keys>;
  const es256 = keys.ES256;
  const rs256 = keys.RS256;
  const small = (await subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  const noVerify = await subtle.importKey("jwk", es256.jwk as JsonWebKey, { name: "ECDSA", namedCurve: "P-256" }, true, []);
  const ps256ForRsPublic = await subtle.importKey(
    "jwk",
    keys.PS256.jwk as JsonWebKey,
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    true,
    ["verify"],
  );
  const rsAsSha384 = await subtle.importKey(
    "jwk",
    rs256.jwk as JsonWebKey,
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-384" },
    true,
    ["verify"],
  );
  const hmac384 = await subtle.importKey("raw", keys.HS256.secret!, { name: "HMAC", hash: "SHA-384" }, true, ["verify"]);
  const privateJwk = await exportJWK(es256.sign);
  misfits = [
    { name: "P-384 CryptoKey", key: keys.ES384.verify },
    { name: "P-384 JWK", key: keys.ES384.jwk },
    { name: "P-521 JWK", key: keys.ES512.jwk },
    { name: "RS256 key for PS256 tokens", key: ps256ForRsPublic },
    { name: "RSA key with SHA-384", key: rsAsSha384 },
    { name: "PS256 key", key: keys.PS256.verify },
    { name: "RSA 1024 CryptoKey", key: small.publicKey },
    { name: "RSA 1024 JWK", key: await exportJWK(small.publicKey) },
    { name: "HMAC CryptoKey", key: keys.HS256.verify },
    { name: "HMAC SHA-384 CryptoKey", key: hmac384 },
    { name: "HMAC bytes", key: keys.HS256.secret },
    { name: "empty bytes", key: new Uint8Array(0) },
    { name: "oct JWK", key: keys.HS256.jwk },
    { name: "ES256 public CryptoKey", key: es256.verify },
    { name: "ES256 JWK", key: es256.jwk },
    { name: "Ed25519 CryptoKey", key: keys.EdDSA.verify },
    { name: "Ed25519 JWK", key: keys.EdDSA.jwk },
    { name: "private CryptoKey", key: es256.sign },
    { name: "private JWK", key: privateJwk },
    { name: "CryptoKey without verify", key: noVerify },
    { name: "JWK alg ES384", key: { ...es256.jwk, alg: "ES384" } },
    { name: "JWK alg ES256", key: { ...es256.jwk, alg: "ES256" } },
    { name: "JWK use enc", key: { ...es256.jwk, use: "enc" } },
    { name: "JWK use sig", key: { ...es256.jwk, use: "sig" } },
    { name: "JWK key_ops verify", key: { ...es256.jwk, key_ops: ["verify"] } },
    { name: "JWK key_ops sign", key: { ...es256.jwk, key_ops: ["sign"] } },
    { name: "JWK key_ops verify sign", key: { ...es256.jwk, key_ops: ["verify", "sign"] } },
    { name: "JWK key_ops twice", key: { ...es256.jwk, key_ops: ["verify", "verify"] } },
    { name: "JWK ext false", key: { ...es256.jwk, ext: false } },
    { name: "JWK ext text", key: { ...es256.jwk, ext: "yes" } },
    { name: "JWK without y", key: { kty: "EC", crv: "P-256", x: es256.jwk.x } },
    { name: "JWK off-curve", key: { ...es256.jwk, y: es256.jwk.x } },
    { name: "JWK kty number", key: { ...es256.jwk, kty: 1 } },
    { name: "OKP JWK with Ed448", key: { ...keys.EdDSA.jwk, crv: "Ed448" } },
    { name: "KeyObject", key: nodeCrypto.KeyObject.from(es256.verify as unknown as nodeCrypto.webcrypto.CryptoKey) },
    { name: "null", key: null },
    { name: "text", key: "secret" },
    { name: "empty object", key: {} },
  ];
});

const isJwk = (key: unknown): key is JWK => key !== null && Object.getPrototypeOf(key) === Object.prototype;
const segmentOf = (value: unknown) => base64url.encode(typeof value === "string" ? value : JSON.stringify(value));

/** A compact JWS over the given segments, signed as `alg` with `key` (defaults: the algorithm's key). */
async function sign(alg: Alg, header: string, payload: string, key = keys[alg].sign): Promise<string> {
  const signature = await subtle.sign(signing[alg], key, encoder.encode(`${header}.${payload}`));
  return `${header}.${payload}.${base64url.encode(new Uint8Array(signature))}`;
}

type Outcome =
  | { readonly ok: true; readonly result: Record<string, unknown> }
  | { readonly ok: false; readonly error: Record<string, unknown> };

async function outcomeOf(verify: typeof jwtVerify, token: string, key: unknown, options?: JWTVerifyOptions): Promise<Outcome> {
  try {
    return { ok: true, result: { ...(await verify(token, key as Uint8Array, options)) } };
  } catch (e) {
    const error = e as Record<string, unknown> & Error;
    const { name, message } = error;
    return { ok: false, error: { type: error.constructor?.name, name, message, code: error.code, ...claimOf(error) } };
  }
}

const claimOf = (error: Record<string, unknown>) =>
  "claim" in error ? { claim: error["claim"], reason: error["reason"], payload: error["payload"] } : {};

/**
 * Verifies with both paths and asserts the same outcome, and for a key lookup the same calls to it (jose's
 * arguments, as many times); returns the outcome.
 */
async function same(token: string, key: unknown, options?: JWTVerifyOptions): Promise<Outcome> {
  const lookups: unknown[][][] = [[], []];
  const lookupFor = (path: 0 | 1) =>
    typeof key === "function"
      ? (...args: unknown[]) => {
          lookups[path]!.push(structuredClone(args));
          return key(...args);
        }
      : key;
  const byJose = await outcomeOf(jwtVerify, token, lookupFor(0), options);
  const byNative = await outcomeOf(native, token, lookupFor(1), options);
  assert.deepEqual(byNative, byJose);
  assert.deepEqual(lookups[1], lookups[0], "the key is looked up as jose looks it up");
  // The same key object (bytes from an oct JWK are decoded anew on each call: equal, above).
  const resolved = byJose.ok ? byJose.result["key"] : undefined;
  if (byNative.ok && !(resolved instanceof Uint8Array)) assert.equal(byNative.result["key"], resolved, "the same key object");
  return byJose;
}

const algArb = fc.constantFrom(...algs);
const time = fc.integer({ min: -400, max: 400 }).map((d) => NOW + d);
const claimsArb = fc
  .record(
    {
      iss: fc.constantFrom("https://a.example", "https://b.example", 7),
      aud: fc.constantFrom("api", ["x", "api"], "other", ["x"], 3),
      sub: fc.oneof(fc.string(), fc.integer()),
      exp: fc.oneof(time, time, fc.constantFrom("soon", null, 1.5)),
      nbf: fc.oneof(time, fc.constant("now")),
      iat: fc.oneof(time, fc.constant(true)),
      jti: fc.string(),
    },
    { requiredKeys: [] },
  )
  .chain((claims) =>
    fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })).map((extra) => ({ ...extra, ...claims })),
  );
const headerArb = fc.record(
  {
    typ: fc.constantFrom("JWT", "at+jwt", "application/AT+JWT", "dpop+jwt", 5, null),
    kid: fc.string({ maxLength: 8 }),
    x: fc.jsonValue({ maxDepth: 1 }),
  },
  { requiredKeys: [] },
);
const optionsArb = fc
  .record(
    {
      issuer: fc.constantFrom("https://a.example", ["https://b.example", "https://a.example"]),
      audience: fc.constantFrom("api", ["api", "y"], "z"),
      subject: fc.constantFrom("alice"),
      algorithms: fc.subarray([...algs, "RS384"]),
      typ: fc.constantFrom("at+jwt", "JWT", "dpop+jwt"),
      clockTolerance: fc.oneof(fc.integer({ min: 0, max: 120 }), fc.constantFrom("30s", "1m")),
      maxTokenAge: fc.oneof(fc.integer({ min: 0, max: 600 }), fc.constant("5m")),
      requiredClaims: fc.subarray(["exp", "sub", "jti", "iat"]),
    },
    { requiredKeys: [] },
  )
  .map((options): JWTVerifyOptions => ({ ...options, currentDate: new Date(NOW * 1000) }));

// Claims, header and options that mostly fit one another (most such tokens are accepted; times near the
// edges make some expired or not yet valid), beside the unrelated ones above.
const extraClaimsArb = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
const fittingArb = fc.record({
  claims: fc
    .record(
      {
        iss: fc.constant("https://a.example"),
        aud: fc.constantFrom("api", ["x", "api"]),
        sub: fc.constant("alice"),
        exp: fc.integer({ min: -60, max: 900 }).map((d) => NOW + d),
        nbf: fc.integer({ min: -900, max: 60 }).map((d) => NOW + d),
        iat: fc.integer({ min: -900, max: 60 }).map((d) => NOW + d),
        jti: fc.string({ maxLength: 12 }),
      },
      { requiredKeys: ["iss", "aud", "exp"] },
    )
    .chain((claims) => extraClaimsArb.map((extra) => ({ ...extra, ...claims }))),
  header: fc.record(
    { typ: fc.constantFrom("at+jwt", "application/AT+JWT"), kid: fc.string({ maxLength: 4 }) },
    { requiredKeys: [] },
  ),
  options: fc
    .record(
      {
        issuer: fc.constantFrom("https://a.example", ["https://b.example", "https://a.example"]),
        audience: fc.constantFrom("api", ["api", "y"]),
        algorithms: fc.constant<string[]>([...algs]),
        typ: fc.constant("at+jwt"),
        clockTolerance: fc.integer({ min: 0, max: 60 }),
        maxTokenAge: fc.integer({ min: 300, max: 1200 }),
        requiredClaims: fc.subarray(["exp", "iss", "aud"]),
      },
      { requiredKeys: [] },
    )
    .map((options): JWTVerifyOptions => ({ ...options, currentDate: new Date(NOW * 1000) })),
});
const casesArb = fc.oneof(
  { arbitrary: fittingArb, weight: 3 },
  { arbitrary: fc.record({ claims: claimsArb, header: headerArb, options: optionsArb }), weight: 2 },
);

// How the key is handed over: itself, or by a lookup (jose then returns it as the result's key).
const keyFormArb = fc.constantFrom("key", "lookup", "jwk", "jwk-lookup", "secret") as fc.Arbitrary<string>;
function keyFor(alg: Alg, form: string): unknown {
  const k = keys[alg];
  const key = form === "secret" ? (k.secret ?? k.verify) : form.startsWith("jwk") ? k.jwk : k.verify;
  return form.endsWith("lookup") ? () => key : key;
}

// Payload segments that are not a JSON object's base64url (or are, by a hair), and headers jose refuses
// or treats apart (crit, b64, algorithms it does not know or that are not the key's).
const payloadFaults = ["e30", "e30=", "e3+", "e3/", "e30.", "", "!!", "e30é", " e30", "eyJhIjoxfQ", "W10", "bnVsbA", "IiI"];
const headerFaults: Record<string, unknown>[] = [
  { crit: ["b64"], b64: false },
  { crit: ["b64"], b64: true },
  { crit: ["exp"], exp: 1 },
  { crit: [] },
  { crit: "b64" },
  { b64: false },
  { alg: "none" },
  { alg: "" },
  { alg: 256 },
  { alg: "ML-DSA-44" },
  { alg: "RS384" },
  { alg: "HS384" },
  { alg: "ES256K" },
  { typ: "at+jwt" },
  {},
];

suite("native verifyJwt and jose's jwtVerify: the same outcome", () => {
  test("valid signatures with random claims, headers, options and key forms", async () => {
    let accepted = 0;
    const before = checks.native;
    await fc.assert(
      fc.asyncProperty(algArb, casesArb, keyFormArb, async (alg, { claims, header, options }, form) => {
        const token = await sign(alg, segmentOf({ ...header, alg }), segmentOf(claims));
        if ((await same(token, keyFor(alg, form), options)).ok) accepted++;
      }),
      { seed, numRuns: 400 },
    );
    assert.ok(accepted > 100, `many tokens are accepted (${accepted})`);
    assert.ok(checks.native - before > 200, "the native path checked the signatures");
  });

  test("HMAC secrets of any length jose takes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 200 }), claimsArb, async (secret, claims) => {
        const key = await subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
        const token = await sign("HS256", segmentOf({ alg: "HS256" }), segmentOf(claims), key);
        await same(token, secret);
        await same(token, () => secret);
      }),
      { seed, numRuns: 200 },
    );
  });

  test("mutated signatures: bit flips, truncation, extra bytes, high-S, non-canonical and invalid base64url", async () => {
    const mutationArb = fc.oneof(
      fc.record({ kind: fc.constant("flip"), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant("truncate"), by: fc.integer({ min: 1, max: 40 }) }),
      fc.record({ kind: fc.constant("extend"), bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
      fc.record({ kind: fc.constant("prefix-zero") }),
      fc.record({ kind: fc.constant("high-s") }),
      fc.record({ kind: fc.constant("non-canonical") }),
      fc.record({ kind: fc.constant("empty") }),
      fc.record({ kind: fc.constant("drop-char") }),
      fc.record({
        kind: fc.constant("char"),
        at: fc.nat(),
        char: fc.constantFrom("+", "/", "=", "==", "!", " ", "\t", "*", "é", ".", "A"),
      }),
    );
    let highS = 0;
    const before = checks.native;
    await fc.assert(
      fc.asyncProperty(algArb, mutationArb, keyFormArb, async (alg, mutation, form) => {
        const token = await sign(alg, segmentOf({ alg }), segmentOf({ sub: "alice", exp: NOW + 60 }));
        const dot = token.lastIndexOf(".");
        const text = token.slice(dot + 1);
        const bytes = base64url.decode(text);
        let signature: string;
        switch (mutation.kind) {
          case "flip": {
            const flipped = bytes.slice();
            flipped[mutation.at % flipped.length]! ^= 1 << mutation.bit;
            signature = base64url.encode(flipped);
            break;
          }
          case "truncate":
            signature = base64url.encode(bytes.slice(0, Math.max(0, bytes.length - mutation.by)));
            break;
          case "extend":
            signature = base64url.encode(new Uint8Array([...bytes, ...mutation.bytes]));
            break;
          case "prefix-zero":
            signature = base64url.encode(new Uint8Array([0, ...bytes]));
            break;
          case "high-s": {
            const n = order[alg];
            if (n === undefined) return;
            const half = bytes.length / 2;
            const s = BigInt(`0x${Buffer.from(bytes.slice(half)).toString("hex")}`);
            const high = (n - s).toString(16).padStart(half * 2, "0");
            signature = base64url.encode(new Uint8Array([...bytes.slice(0, half), ...Buffer.from(high, "hex")]));
            break;
          }
          case "non-canonical": {
            // A last character whose unused low bits are set: the same bytes to a lenient decoder.
            const unused = [0, 4, 2][bytes.length % 3];
            if (unused === 0) return;
            const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            signature = text.slice(0, -1) + alphabet[alphabet.indexOf(text.at(-1)!) | 1];
            break;
          }
          case "empty":
            signature = "";
            break;
          case "drop-char":
            signature = text.slice(0, -1);
            break;
          case "char": {
            const at = mutation.at % (text.length + 1);
            signature = text.slice(0, at) + mutation.char + text.slice(at);
            break;
          }
        }
        const outcome = await same(`${token.slice(0, dot)}.${signature}`, keyFor(alg, form), {
          currentDate: new Date(NOW * 1000),
        });
        if (mutation.kind === "high-s") {
          assert.equal(outcome.ok, true, "a high-S ECDSA signature verifies (WebCrypto does not normalize S)");
          highS++;
        }
      }),
      { seed, numRuns: 500 },
    );
    assert.ok(highS > 0, "high-S signatures were tried");
    assert.ok(checks.native - before > 100, "the native path refused the mutated signatures");
  });

  test("keys that do not fit the algorithm (curve, padding, family, usage, size, JWK members): every pair", async () => {
    const before = checks.native;
    for (const alg of algs) {
      const token = await sign(alg, segmentOf({ alg }), segmentOf({ sub: "alice" }));
      for (const { name, key } of misfits) {
        for (const lookup of [false, true]) {
          // A fresh copy of a JWK for each path: jose freezes the JWKs it takes, and imports each once.
          const fresh = () => (isJwk(key) ? structuredClone(key) : key);
          const byJose = await outcomeOf(jwtVerify, token, lookup ? fresh : fresh());
          const byNative = await outcomeOf(native, token, lookup ? fresh : fresh());
          const without = (o: Outcome) => (o.ok ? { ...o.result, key: undefined } : o.error);
          assert.deepEqual(without(byNative), without(byJose), `${alg} with ${name}${lookup ? " (looked up)" : ""}`);
        }
      }
    }
    assert.ok(checks.native - before > 20, "the keys that fit were checked natively");
  });

  test("JWKs with random members (use, alg, key_ops, ext, private and unknown members)", async () => {
    const membersArb = fc.record(
      {
        use: fc.constantFrom("sig", "enc", 1),
        alg: fc.constantFrom(...algs, "RS384", 0),
        key_ops: fc.constantFrom(["verify"], ["sign"], ["verify", "sign"], [], ["verify", "verify"], "verify", [1]),
        ext: fc.constantFrom(true, false, "x"),
        kid: fc.string({ maxLength: 4 }),
        d: fc.constantFrom("AAAA", undefined),
        x5c: fc.constantFrom(["junk"]),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(algArb, membersArb, async (alg, members) => {
        const token = await sign(alg, segmentOf({ alg }), segmentOf({ sub: "alice" }));
        const [a, b] = [
          { ...keys[alg].jwk, ...members },
          { ...keys[alg].jwk, ...members },
        ];
        const byJose = await outcomeOf(jwtVerify, token, a);
        assert.deepEqual(await outcomeOf(native, token, b), byJose);
        assert.equal(Object.isFrozen(b), Object.isFrozen(a), "frozen as jose freezes it");
      }),
      { seed, numRuns: 400 },
    );
  });

  test("header and payload faults, every pair, with valid signatures", async () => {
    for (const alg of algs) {
      for (const header of headerFaults) {
        for (const payload of payloadFaults) {
          const token = await sign(alg, segmentOf({ alg, ...header }), payload);
          const key = keys[alg].secret ?? keys[alg].verify;
          await same(token, key);
          await same(token, () => key, { crit: { exp: true } });
          await same(token, () => key, { typ: "at+jwt", algorithms: [alg] });
        }
      }
    }
  });

  test("malformed tokens, headers, payloads and options, with valid signatures", async () => {
    const payloadArb = fc.oneof(
      fc.jsonValue().map((value) => segmentOf(value)), // not an object, mostly
      fc.uint8Array({ maxLength: 40 }).map((bytes) => base64url.encode(bytes)), // not JSON, not UTF-8
      fc.constantFrom(...payloadFaults),
    );
    const headerArb2 = fc.oneof(fc.constantFrom(...headerFaults), headerArb);
    const optionsArb2 = fc.oneof(
      optionsArb,
      fc.constantFrom<unknown>(
        undefined,
        { algorithms: "ES256" },
        { algorithms: [1] },
        { clockTolerance: "soon" },
        { clockTolerance: -1 },
        { maxTokenAge: "old" },
        { currentDate: new Date(Number.NaN) },
        { typ: "JWT" },
        { crit: { exp: true } },
      ),
    );
    const shapeArb = fc.constantFrom("signed", "raw-header", "two-parts", "four-parts", "five-parts", "empty-header");
    await fc.assert(
      fc.asyncProperty(
        algArb,
        headerArb2,
        payloadArb,
        optionsArb2,
        shapeArb,
        keyFormArb,
        async (alg, header, payload, options, shape, form) => {
          const headerSegment =
            shape === "raw-header"
              ? base64url.encode("{not json")
              : shape === "empty-header"
                ? ""
                : segmentOf({ alg, ...header });
          let token = await sign(alg, headerSegment, payload);
          if (shape === "two-parts") token = token.slice(0, token.lastIndexOf("."));
          if (shape === "four-parts") token = `${token}.e30`;
          if (shape === "five-parts") token = `${token}.e30.e30`; // a JWE's shape
          await same(token, keyFor(alg, form), options as JWTVerifyOptions);
        },
      ),
      { seed, numRuns: 500 },
    );
  });
});
