import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createDpopNonces } from "./dpop-nonce.js";

const secret = "0123456789abcdef0123456789abcdef"; // 32 bytes
const period = 300_000;
const start = 1_700_000_100_000; // inside a period, not at its edge

test("the nonce is base64url(HMAC-SHA256(secret, label + period index)), without padding", async () => {
  const nonces = createDpopNonces({ secret, now: () => start });
  const expected = createHmac("sha256", secret)
    .update(`connectauth-dpop-nonce:${Math.floor(start / period)}`)
    .digest("base64url");
  const nonce = await nonces.current();
  assert.equal(nonce, expected);
  assert.match(nonce, /^[A-Za-z0-9_-]{43}$/);
});

test("two servers with the same secret agree (string or its UTF-8 bytes); other secrets do not", async () => {
  const now = () => start;
  const a = createDpopNonces({ secret, now });
  const b = createDpopNonces({ secret: new TextEncoder().encode(secret), now });
  const other = createDpopNonces({ secret: `${secret.slice(0, -1)}g`, now });
  assert.equal(await a.current(), await b.current());
  assert.equal(await b.check(await a.current()), true);
  assert.notEqual(await other.current(), await a.current());
  assert.equal(await other.check(await a.current()), false);
});

test("a nonce is valid in its period and the next (grace), not two periods later nor before it", async () => {
  let clock = start;
  const nonces = createDpopNonces({ secret, rotationSeconds: 300, now: () => clock });
  const first = await nonces.current();
  assert.equal(await nonces.check(first), true, "current");
  clock += period;
  const second = await nonces.current();
  assert.notEqual(second, first, "rotated");
  assert.equal(await nonces.check(first), true, "previous period: grace");
  assert.equal(await nonces.check(second), true);
  clock += period;
  assert.equal(await nonces.check(first), false, "two periods old");
  assert.equal(await nonces.check(second), true);
  clock = start - period;
  assert.equal(await nonces.check(first), false, "a nonce of a later period is not valid yet");
});

test("check refuses what is not the nonce: other text, a prefix, a longer string, a non-string", async () => {
  const nonces = createDpopNonces({ secret, now: () => start });
  const nonce = await nonces.current();
  for (const wrong of ["", "nonce", nonce.slice(0, -1), `${nonce}A`, `${nonce.slice(0, -1)}${nonce.endsWith("A") ? "B" : "A"}`]) {
    assert.equal(await nonces.check(wrong), false, JSON.stringify(wrong));
  }
  assert.equal(await nonces.check(undefined as unknown as string), false);
  assert.equal(await nonces.check(42 as unknown as string), false);
});

test("steady calls cost no HMAC: each period's nonce is computed once", async (t) => {
  const subtle = globalThis.crypto.subtle;
  let signs = 0;
  const sign = subtle.sign.bind(subtle);
  t.mock.method(subtle, "sign", (...args: Parameters<SubtleCrypto["sign"]>) => {
    signs++;
    return sign(...args);
  });
  let clock = start;
  const nonces = createDpopNonces({ secret, now: () => clock });
  const nonce = await nonces.current();
  for (let i = 0; i < 50; i++) {
    assert.equal(await nonces.current(), nonce);
    assert.equal(await nonces.check(nonce), true);
  }
  assert.equal(signs, 2, "the current and the previous period, once each");
  clock += period;
  await nonces.current();
  await nonces.check(nonce);
  assert.equal(signs, 3, "a new period: one more");
});

test("bad options throw a TypeError", () => {
  const bad: unknown[] = [
    {},
    { secret: "x".repeat(31) },
    { secret: new Uint8Array(31) },
    { secret: 12345 },
    { secret, rotationSeconds: 0 },
    { secret, rotationSeconds: 1.5 },
    { secret, rotationSeconds: -300 },
    { secret, rotationSeconds: "300" },
    { secret, now: 1 },
  ];
  for (const options of bad) {
    assert.throws(() => createDpopNonces(options as Parameters<typeof createDpopNonces>[0]), TypeError, JSON.stringify(options));
  }
  assert.doesNotThrow(() => createDpopNonces({ secret: "é".repeat(16) }), "16 two-byte characters are 32 bytes");
  assert.throws(() => createDpopNonces({ secret: "é".repeat(15) }), TypeError, "30 bytes");
});
