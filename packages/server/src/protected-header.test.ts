import { type TestContext, test } from "node:test";
import assert from "node:assert/strict";
import { base64url, decodeProtectedHeader } from "jose";
import { precheckJws } from "./jws-precheck.js";
import { verifyJwt } from "./native-jws.js";
import { protectedHeaderOf } from "./protected-header.js";

const segmentOf = (text: string) => base64url.encode(text);
let unique = 0;

/** The JSON texts JSON.parse is given while `run` runs. */
async function parsedTexts(t: TestContext, run: () => unknown): Promise<unknown[]> {
  const texts: unknown[] = [];
  const parse = JSON.parse;
  const mocked = t.mock.method(JSON, "parse", (text: string, reviver?: Parameters<typeof JSON.parse>[1]) => {
    texts.push(text);
    return parse(text, reviver);
  });
  try {
    await run();
  } finally {
    mocked.mock.restore();
  }
  return texts;
}

test("decodes as jose's decodeProtectedHeader does, and refuses what it refuses with its TypeError", () => {
  const texts = [
    '{"alg":"ES256","kid":"k1","typ":"at+jwt"}',
    '{"alg":"ES256","n":1,"b":true,"z":null}',
    '{"__proto__":"x","2":1,"a":2,"1":3}',
    '{"alg":"ES256","jwk":{"kty":"EC"},"crit":["b64"]}',
    "{}",
  ];
  for (const text of texts) {
    const segment = segmentOf(text);
    for (let i = 0; i < 2; i++) {
      const header = protectedHeaderOf(segment);
      assert.deepEqual(header, decodeProtectedHeader({ protected: segment }), text);
      assert.equal(Object.getPrototypeOf(header), Object.prototype);
    }
  }
  const refused = ["", segmentOf("[]"), segmentOf("null"), segmentOf("{oops"), "e3+", "!!", segmentOf("\u00e9"), "_-8"];
  for (const segment of refused) {
    const theirs = (() => {
      try {
        return decodeProtectedHeader({ protected: segment });
      } catch (error) {
        return error;
      }
    })();
    assert.ok(theirs instanceof TypeError, `jose refuses ${JSON.stringify(segment)}`);
    for (let i = 0; i < 2; i++) assert.throws(() => protectedHeaderOf(segment), { name: "TypeError", message: theirs.message });
  }
});

test("a new object on every call: changing one does not change the next", () => {
  const segment = segmentOf(`{"alg":"ES256","kid":"k-${++unique}"}`);
  const first = protectedHeaderOf(segment);
  first["alg"] = "none";
  first["added"] = 1;
  const second = protectedHeaderOf(segment);
  assert.notEqual(second, first);
  assert.deepEqual(second, { alg: "ES256", kid: `k-${unique}` });
});

test("a header of primitive members is decoded once; one with objects in it each time", async (t) => {
  const flat = `{"alg":"ES256","kid":"k-${++unique}"}`;
  const nested = `{"alg":"ES256","kid":"k-${++unique}","jwk":{"kty":"EC"}}`;
  const texts = await parsedTexts(t, () => {
    for (let i = 0; i < 3; i++) protectedHeaderOf(segmentOf(flat));
    for (let i = 0; i < 3; i++) protectedHeaderOf(segmentOf(nested));
  });
  assert.deepEqual(
    texts.filter((text) => text === flat || text === nested),
    [flat, nested, nested, nested],
  );
});

test("the precheck and verifyJwt decode a token's header once between them", async (t) => {
  const { privateKey, publicKey } = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
    "sign",
    "verify",
  ]);
  const headerText = `{"alg":"ES256","kid":"k-${++unique}","typ":"at+jwt"}`;
  const mint = async (sub: string) => {
    const input = `${segmentOf(headerText)}.${segmentOf(JSON.stringify({ sub }))}`;
    const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, new TextEncoder().encode(input));
    return `${input}.${base64url.encode(new Uint8Array(signature))}`;
  };
  const options = { maxTokenLength: 8192, algorithms: new Set(["ES256"]), typ: "at+jwt" };
  const tokens = [await mint("alice"), await mint("bob")];
  const expected = JSON.parse(headerText);
  const subjects: unknown[] = [];
  const texts = await parsedTexts(t, async () => {
    for (const token of tokens) {
      const checked = precheckJws(token, options);
      assert.ok("header" in checked, "the precheck passes");
      const { payload, protectedHeader } = await verifyJwt(token, publicKey, { algorithms: ["ES256"] });
      assert.deepEqual(protectedHeader, expected);
      subjects.push(payload.sub);
    }
  });
  assert.deepEqual(subjects, ["alice", "bob"]);
  assert.equal(texts.filter((text) => text === headerText).length, 1, "decoded for the first token only");
});
