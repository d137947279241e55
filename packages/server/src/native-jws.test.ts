import { suite, test } from "node:test";
import assert from "node:assert/strict";
import * as nodeCrypto from "node:crypto";
import { type CryptoKey, type JWK, SignJWT, base64url, errors, exportJWK, generateKeyPair, jwtVerify } from "jose";
import { createVerifyJwsPayload, createVerifyJwt, verifyJwsPayload, verifyJwt, verifyPrecheckedJwt } from "./native-jws.js";
import { protectedHeaderOf } from "./protected-header.js";
import { type NativeCrypto, nodeCryptoOf } from "./node-crypto.js";

const node = { versions: { node: process.versions.node } };
const scopeWith = (module: unknown) => ({
  process: { ...node, getBuiltinModule: (id: string) => (id === "node:crypto" ? module : undefined) },
});

/** node:crypto, counting the calls the native path makes. */
function spyCrypto() {
  const calls = { verify: 0, createHmac: 0, keyObjectFrom: 0, createPublicKey: 0 };
  const real = nodeCrypto as unknown as NativeCrypto;
  const counted =
    <A extends unknown[], R>(name: keyof typeof calls, f: (...args: A) => R) =>
    (...args: A): R => {
      calls[name]++;
      return f(...args);
    };
  const crypto: NativeCrypto = {
    verify: counted("verify", real.verify),
    createHmac: counted("createHmac", real.createHmac),
    timingSafeEqual: real.timingSafeEqual,
    createPublicKey: counted("createPublicKey", real.createPublicKey),
    KeyObject: { from: counted("keyObjectFrom", (key: CryptoKey) => real.KeyObject.from(key)) },
    constants: real.constants,
  };
  return {
    calls,
    verify: createVerifyJwt({ scope: scopeWith(crypto) }),
    verifyPayload: createVerifyJwsPayload({ scope: scopeWith(crypto) }),
  };
}

const now = new Date("2030-01-01T00:00:00Z");
const options = { algorithms: ["ES256", "RS256", "PS256", "EdDSA", "HS256"], currentDate: now };
const mint = (alg: string, key: CryptoKey | Uint8Array, claims: Record<string, unknown> = { sub: "alice" }) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg })
    .setExpirationTime(now.getTime() / 1000 + 60)
    .sign(key);

suite("nodeCryptoOf()", () => {
  test("finds node:crypto through process.getBuiltinModule on Node", () => {
    assert.equal(nodeCryptoOf(globalThis), process.getBuiltinModule("node:crypto"));
    assert.equal(nodeCryptoOf(scopeWith(nodeCrypto)), nodeCrypto);
  });

  test("is undefined where there is no node:crypto, or not all of what the native path uses", () => {
    const { KeyObject: _, ...withoutKeyObject } = nodeCrypto;
    const scopes: unknown[] = [
      {},
      undefined,
      { process: node }, // Node < 20.16: no getBuiltinModule
      { process: { ...node, getBuiltinModule: () => undefined } },
      {
        process: {
          ...node,
          getBuiltinModule: () => {
            throw new Error("no");
          },
        },
      },
      scopeWith(withoutKeyObject),
      scopeWith({ ...nodeCrypto, verify: "not a function" }),
      { process: { getBuiltinModule: () => nodeCrypto } }, // not Node (no versions.node)
      { ...scopeWith(nodeCrypto), Deno: {} },
      { process: { versions: { node: "22.0.0", bun: "1.2.0" }, getBuiltinModule: () => nodeCrypto } },
    ];
    for (const scope of scopes) assert.equal(nodeCryptoOf(scope), undefined);
  });
});

suite("createVerifyJwt()", () => {
  test("is jose's jwtVerify itself without node:crypto, or with native: false", () => {
    assert.equal(createVerifyJwt({ scope: {} }), jwtVerify);
    assert.equal(createVerifyJwt({ scope: { process: node } }), jwtVerify);
    assert.equal(createVerifyJwt({ native: false }), jwtVerify);
    assert.notEqual(createVerifyJwt(), jwtVerify, "native on this Node");
    assert.notEqual(verifyJwt, jwtVerify, "the server's verifyJwt is native on this Node");
  });

  test("misuse of its options throws TypeError", () => {
    assert.throws(() => createVerifyJwt({ native: "yes" as unknown as boolean }), TypeError);
    assert.throws(() => createVerifyJwt(null as unknown as object), TypeError);
  });

  test("verifies each algorithm's signature with node:crypto, and returns what jose returns", async () => {
    for (const alg of ["ES256", "RS256", "PS256", "EdDSA"]) {
      const { calls, verify } = spyCrypto();
      const { privateKey, publicKey } = await generateKeyPair(alg);
      const token = await mint(alg, privateKey);
      const getKey = () => publicKey;
      assert.deepEqual(await verify(token, getKey, options), await jwtVerify(token, getKey, options), alg);
      assert.deepEqual(await verify(token, publicKey, options), await jwtVerify(token, publicKey, options), alg);
      assert.equal(calls.verify, 2, alg);
      assert.equal((await verify(token, getKey, options)).key, publicKey, `${alg}: the key the lookup returned`);
    }
    const { calls, verify } = spyCrypto();
    const secret = nodeCrypto.randomBytes(32);
    const token = await mint("HS256", secret);
    assert.deepEqual(await verify(token, secret, options), await jwtVerify(token, secret, options));
    assert.equal(calls.createHmac, 1);
  });

  test("refuses a bad signature itself, with jose's error", async () => {
    const { calls, verify } = spyCrypto();
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const other = await generateKeyPair("ES256");
    const token = await mint("ES256", other.privateKey);
    await assert.rejects(verify(token, publicKey, options), errors.JWSSignatureVerificationFailed);
    await assert.rejects(verify(token, publicKey, options), { code: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" });
    assert.equal(calls.verify, 2, "decided by node:crypto, not by jose");
    const good = await mint("ES256", privateKey);
    const secret = nodeCrypto.randomBytes(32);
    const hs = await mint("HS256", secret);
    await assert.rejects(verify(hs, nodeCrypto.randomBytes(32), options), errors.JWSSignatureVerificationFailed);
    assert.equal(calls.createHmac, 1);
    assert.ok((await verify(good, publicKey, options)).payload);
  });

  test("looks the key up once, with jose's arguments, also when jose decides", async () => {
    const { calls, verify } = spyCrypto();
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    const token = await mint("ES256", privateKey);
    const seen: unknown[][] = [];
    const jwk = await exportJWK(publicKey);
    // A KeyObject: jose verifies it (it converts it), after the one lookup.
    const keyObject = nodeCrypto.KeyObject.from(publicKey as unknown as nodeCrypto.webcrypto.CryptoKey);
    for (const key of [publicKey, jwk, keyObject]) {
      const lookups: unknown[][] = [];
      const record =
        (into: unknown[][]) =>
        (...args: unknown[]) => {
          into.push(args);
          return key as CryptoKey;
        };
      const ours = await verify(token, record(lookups), options);
      const theirs = await jwtVerify(token, record(seen), options);
      assert.equal(lookups.length, 1);
      assert.deepEqual(lookups, seen.splice(0));
      assert.deepEqual(ours, theirs);
      assert.equal(ours.key, theirs.key, "the same key object (jose's import of a JWK is cached per object)");
    }
    assert.equal(calls.verify, 1, "the JWK from a lookup and the KeyObject go to jose");
  });
});

suite("verifyPrecheckedJwt()", () => {
  const headerOf = (token: string) => protectedHeaderOf(token.slice(0, token.indexOf(".")));

  test("verifies as jose's jwtVerify does, with the header it is given (not decoded again)", async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const token = await mint("ES256", privateKey, { sub: "alice", scope: "greet" });
    const header = headerOf(token);
    const seen: unknown[] = [];
    const getKey = (h: unknown) => {
      seen.push(h);
      return publicKey;
    };
    const ours = await verifyPrecheckedJwt(token, header, getKey, options);
    assert.deepEqual(ours, await jwtVerify(token, () => publicKey, options));
    assert.equal(ours.protectedHeader, header, "the header given, returned as it is");
    assert.equal(seen[0], header, "and handed to the key lookup");
  });

  test("refuses what jose refuses, with jose's errors", async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const other = await generateKeyPair("ES256");
    const getKey = () => publicKey;
    const expired = await new SignJWT({ sub: "alice" })
      .setProtectedHeader({ alg: "ES256" })
      .setExpirationTime(now.getTime() / 1000 - 60)
      .sign(privateKey);
    const forged = await mint("ES256", other.privateKey);
    const good = await mint("ES256", privateKey);
    const cases: [string, { algorithms: string[]; currentDate: Date }][] = [
      [expired, options],
      [forged, options],
      [good, { ...options, algorithms: ["RS256"] }], // an alg not allowed: jose decides whole
    ];
    for (const [token, opts] of cases) {
      const theirs = await jwtVerify(token, getKey, opts).then(
        () => assert.fail("jose refuses it"),
        (e: Error & { code?: string }) => e,
      );
      await assert.rejects(verifyPrecheckedJwt(token, headerOf(token), getKey, opts), {
        name: theirs.name,
        code: theirs.code,
        message: theirs.message,
      });
    }
  });
});

suite("signing input", () => {
  test("long and short inputs one after the other verify, and a non-ASCII one goes to jose", async () => {
    const { calls, verify } = spyCrypto();
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const long = await mint("ES256", privateKey, { pad: "x".repeat(5000) });
    const short = await mint("ES256", privateKey);
    for (const token of [short, long, short, long]) assert.ok((await verify(token, publicKey, options)).payload);
    assert.equal(calls.verify, 4, "node:crypto decided each");
    // Not ASCII (é in the payload segment): jose refuses it, with its error.
    const [head, payload, signature] = short.split(".");
    const nonAscii = `${head}.${payload}é.${signature}`;
    const theirs = await jwtVerify(nonAscii, publicKey, options).then(
      () => assert.fail("jose refuses it"),
      (e: Error) => e,
    );
    await assert.rejects(verify(nonAscii, publicKey, options), { name: theirs.name, message: theirs.message });
    assert.equal(calls.verify, 4, "not by node:crypto");
  });
});

suite("key conversion", () => {
  test("a CryptoKey is converted once, whatever the number of tokens", async () => {
    const { calls, verify } = spyCrypto();
    const a = await generateKeyPair("ES256");
    const b = await generateKeyPair("ES256");
    for (let i = 0; i < 3; i++) {
      await verify(await mint("ES256", a.privateKey, { i }), a.publicKey, options);
      await verify(await mint("ES256", b.privateKey, { i }), () => b.publicKey, options);
    }
    assert.deepEqual([calls.keyObjectFrom, calls.verify], [2, 6]);
  });

  test("a JWK is converted once per object, and frozen as jose freezes it", async () => {
    const { calls, verify } = spyCrypto();
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    const exported = await exportJWK(publicKey);
    const jwk: JWK = { ...exported, key_ops: ["verify"] };
    const joses: JWK = { ...exported, key_ops: ["verify"] };
    for (let i = 0; i < 3; i++) await verify(await mint("ES256", privateKey, { i }), jwk, options);
    await jwtVerify(await mint("ES256", privateKey), joses, options);
    assert.equal(calls.createPublicKey, 1);
    assert.deepEqual(
      [Object.isFrozen(jwk), Object.isFrozen(jwk.key_ops)],
      [Object.isFrozen(joses), Object.isFrozen(joses.key_ops)],
    );
    assert.ok(Object.isFrozen(jwk));
    for (let i = 0; i < 2; i++) await verify(await mint("ES256", privateKey, { i }), { ...exported }, options);
    assert.deepEqual([calls.createPublicKey, calls.verify], [3, 5]);
  });

  test("an HMAC secret's bytes are read on every call, as jose reads them (not kept)", async () => {
    const { calls, verify } = spyCrypto();
    const secret = new Uint8Array(32).fill(1);
    const before = await mint("HS256", secret.slice());
    assert.ok((await verify(before, secret, options)).payload);
    secret.fill(2);
    const after = await mint("HS256", secret.slice());
    assert.ok((await verify(after, secret, options)).payload);
    await assert.rejects(verify(before, secret, options), errors.JWSSignatureVerificationFailed);
    await assert.rejects(jwtVerify(before, secret, options), errors.JWSSignatureVerificationFailed);
    assert.deepEqual([calls.createHmac, calls.keyObjectFrom], [3, 0]);
  });
});

suite("createVerifyJwsPayload()", () => {
  const segment = (value: unknown) => base64url.encode(typeof value === "string" ? value : JSON.stringify(value));
  const signed = async (alg: string, key: CryptoKey, payload: string, header: object = { alg }) => {
    const input = `${segment(header)}.${payload}`;
    const params =
      alg === "ES256"
        ? { name: "ECDSA", hash: "SHA-256" }
        : alg === "PS256"
          ? { name: "RSA-PSS", saltLength: 32 }
          : { name: alg === "EdDSA" ? "Ed25519" : "RSASSA-PKCS1-v1_5" };
    const signature = await globalThis.crypto.subtle.sign(params, key, new TextEncoder().encode(input));
    return `${input}.${base64url.encode(new Uint8Array(signature))}`;
  };
  /** The outcome of a verification: the claims, or the error's class, code and message (and whether it has a cause). */
  const outcomeOf = async (run: () => Promise<unknown>) => {
    try {
      return { claims: await run() };
    } catch (e) {
      const error = e as Error & { code?: string };
      return { type: error.constructor.name, code: error.code, message: error.message };
    }
  };
  const byJose = createVerifyJwsPayload({ native: false });

  test("the claims of a valid JWS of each algorithm, its signature checked by node:crypto", async () => {
    for (const alg of ["ES256", "RS256", "PS256", "EdDSA"]) {
      const { calls, verifyPayload } = spyCrypto();
      const { privateKey, publicKey } = await generateKeyPair(alg);
      const claims = { jti: "j1", htm: "POST", iat: 1_700_000_000, nested: { a: [1, "b"] } };
      const jws = await signed(alg, privateKey, segment(claims));
      assert.deepEqual(await verifyPayload(jws, alg, publicKey), claims, alg);
      assert.deepEqual(await byJose(jws, alg, publicKey), claims, `${alg} by jose`);
      assert.deepEqual(await verifyJwsPayload(jws, alg, publicKey), claims);
      assert.equal(calls.verify, 1, `${alg}: node:crypto decided`);
    }
  });

  test("no claim is validated: an expired or future claims set is returned as it is", async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const claims = { exp: 1, nbf: 99_999_999_999, iat: "not a number", iss: 7 };
    assert.deepEqual(await verifyJwsPayload(await signed("ES256", privateKey, segment(claims)), "ES256", publicKey), claims);
  });

  test("a bad signature is jose's JWSSignatureVerificationFailed, decided natively", async () => {
    const { calls, verifyPayload } = spyCrypto();
    const { publicKey } = await generateKeyPair("ES256");
    const other = await generateKeyPair("ES256");
    const jws = await signed("ES256", other.privateKey, segment({ sub: "alice" }));
    await assert.rejects(verifyPayload(jws, "ES256", publicKey), errors.JWSSignatureVerificationFailed);
    await assert.rejects(byJose(jws, "ES256", publicKey), errors.JWSSignatureVerificationFailed);
    assert.equal(calls.verify, 1);
  });

  test("refuses every payload jose's jwtVerify refuses, with its error class, code and message", async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    // Not a JSON object, not JSON, not UTF-8, not base64url: refused by jose whatever its base64url decoder.
    const refusedByJose = ["W10", "bnVsbA", "IiI", "MQ", segment("{oops"), "_-8", "!!", "e3+", "e3/", "e30é"];
    // Accepted or refused depending on the runtime's base64 decoding (padding, whitespace): as jose does here.
    const edges = ["e30", "e30=", " e30", "e30\t"];
    for (const payload of [...refusedByJose, ...edges]) {
      const jws = await signed("ES256", privateKey, payload);
      const theirs = await outcomeOf(() => jwtVerify(jws, publicKey, { algorithms: ["ES256"] }).then((r) => r.payload));
      if (refusedByJose.includes(payload)) assert.ok(!("claims" in theirs), `jose refuses ${payload}`);
      for (const verify of [verifyJwsPayload, byJose]) {
        assert.deepEqual(await outcomeOf(() => verify(jws, "ES256", publicKey)), theirs, payload);
      }
    }
  });

  test("its errors carry no cause, and no payload text", async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    for (const payload of [segment("not json: secret-text"), segment('["secret-text"]')]) {
      const error = await verifyJwsPayload(await signed("ES256", privateKey, payload), "ES256", publicKey).then(
        () => assert.fail("refused"),
        (e: Error) => e,
      );
      assert.equal(error.cause, undefined);
      assert.ok(!JSON.stringify({ ...error, message: error.message }).includes("secret-text"));
    }
  });

  test("jose decides for a key it does not match jose on (a KeyObject), after the signature", async () => {
    const { calls, verifyPayload } = spyCrypto();
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const keyObject = nodeCrypto.KeyObject.from(publicKey as unknown as nodeCrypto.webcrypto.CryptoKey);
    const jws = await signed("ES256", privateKey, segment({ sub: "alice" }));
    assert.deepEqual(await verifyPayload(jws, "ES256", keyObject as unknown as CryptoKey), { sub: "alice" });
    assert.equal(calls.verify, 0, "by jose's compactVerify");
    const bad = await signed("ES256", privateKey, "W10");
    await assert.rejects(verifyPayload(bad, "ES256", keyObject as unknown as CryptoKey), { code: "ERR_JWT_INVALID" });
  });

  test("misuse of its options throws TypeError", () => {
    assert.throws(() => createVerifyJwsPayload({ native: 1 as unknown as boolean }), TypeError);
    assert.throws(() => createVerifyJwsPayload(null as unknown as object), TypeError);
  });
});
