import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { getHeapSnapshot } from "node:v8";
import { createVerifiedTokenCache } from "./verified-token-cache.js";
import { nativeSha256, nobleSha256 } from "./sha256.js";

const token = (n: number) => `eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ${n}In0.sig${n}`;

test("entries live until the earlier of exp and the TTL, by the injected clock", () => {
  let clock = 1_000_000;
  const cache = createVerifiedTokenCache<string>({ ttlSeconds: 60, now: () => clock });
  cache.set(cache.keyOf(token(1)), "one", clock + 10_000);
  cache.set(cache.keyOf(token(2)), "two", clock + 600_000);
  assert.equal(cache.get(cache.keyOf(token(1))), "one");
  clock += 10_000;
  assert.equal(cache.get(cache.keyOf(token(1))), undefined, "expired at exp");
  assert.equal(cache.get(cache.keyOf(token(2))), "two");
  clock += 50_000;
  assert.equal(cache.get(cache.keyOf(token(2))), undefined, "expired at the TTL");
  cache.set(cache.keyOf(token(3)), "three", clock - 1);
  assert.equal(cache.size, 0, "an already expired token is not cached");
});

test("an entry whose stillTrusted check fails is dropped on the next look-up, within its TTL and exp", () => {
  const clock = 1_000_000;
  const cache = createVerifiedTokenCache<string>({ ttlSeconds: 60, now: () => clock });
  const trusted = new Set(["k1", "k2"]);
  let checks = 0;
  const check = (kid: string) => () => {
    checks++;
    return trusted.has(kid);
  };
  cache.set(cache.keyOf(token(1)), "one", clock + 600_000, check("k1"));
  cache.set(cache.keyOf(token(2)), "two", clock + 600_000, check("k2"));
  cache.set(cache.keyOf(token(3)), "three", clock + 600_000);
  assert.equal(cache.get(cache.keyOf(token(1))), "one");
  assert.equal(checks, 1, "checked on every hit");
  trusted.delete("k1"); // the key is gone
  assert.equal(cache.get(cache.keyOf(token(1))), undefined);
  assert.equal(cache.size, 2, "dropped, not kept for later");
  trusted.add("k1");
  assert.equal(cache.get(cache.keyOf(token(1))), undefined, "a dropped entry does not come back");
  assert.equal(cache.get(cache.keyOf(token(2))), "two");
  assert.equal(cache.get(cache.keyOf(token(3))), "three", "no check: the TTL and exp alone");
});

test("bounded: the oldest entry goes when full", () => {
  const cache = createVerifiedTokenCache<number>({ maxEntries: 3 });
  for (let i = 0; i < 5; i++) cache.set(cache.keyOf(token(i)), i, Date.now() + 60_000);
  assert.equal(cache.size, 3);
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((i) => cache.get(cache.keyOf(token(i)))),
    [undefined, undefined, 2, 3, 4],
  );
  cache.clear();
  assert.equal(cache.size, 0);
});

test("a hit needs the exact token: same signature with another header or payload is a miss", () => {
  const cache = createVerifiedTokenCache<string>();
  cache.set(cache.keyOf("aaa.bbb.sig"), "x", Date.now() + 60_000);
  assert.equal(cache.get(cache.keyOf("aaa.bbb.sig")), "x");
  assert.equal(cache.get(cache.keyOf("aaa.bbc.sig")), undefined);
  assert.equal(cache.get(cache.keyOf("aab.bbb.sig")), undefined);
  assert.equal(cache.get(cache.keyOf("aaa.bbb.sih")), undefined);
});

test("bad options throw TypeError", () => {
  assert.throws(() => createVerifiedTokenCache({ maxEntries: 0 }), TypeError);
  assert.throws(() => createVerifiedTokenCache({ ttlSeconds: -1 }), TypeError);
});

test("a signature with a lone surrogate has no key and is never cached; other text is cached as it is", () => {
  const cache = createVerifiedTokenCache<string>();
  // "\ud800" and "\udfff" are both U+FFFD in UTF-8: they cannot have keys of their own.
  assert.equal(cache.keyOf("aaa.bbb.s\ud800g"), undefined);
  cache.set(cache.keyOf("aaa.bbb.s\ud800g"), "x", Date.now() + 60_000);
  assert.equal(cache.size, 0);
  cache.set(cache.keyOf("aaa.bbb.s\u0169g"), "x", Date.now() + 60_000);
  assert.equal(cache.get(cache.keyOf("aaa.bbb.s\u0169g")), "x");
  assert.equal(cache.get(cache.keyOf("aaa.bbb.s\u0168g")), undefined);
  assert.equal(cache.get(cache.keyOf("aaa.bbb.sig")), undefined);
});

test("the parts of a token are cut at its second dot; a token without two dots has a key of its own", () => {
  const cache = createVerifiedTokenCache<string>();
  cache.set(cache.keyOf("a.b.c.d"), "four", Date.now() + 60_000);
  cache.set(cache.keyOf("abc"), "one", Date.now() + 60_000);
  assert.equal(cache.get(cache.keyOf("a.b.c.d")), "four");
  assert.equal(cache.get(cache.keyOf("a.b.c")), undefined);
  assert.equal(cache.get(cache.keyOf("a.b.c.e")), undefined);
  assert.equal(cache.get(cache.keyOf("abc")), "one");
  assert.equal(cache.get(cache.keyOf("ab")), undefined);
  assert.equal(cache.get(cache.keyOf("a.bc")), undefined);
});

test("an entry keeps no part of the token's signature alive (not even through a slice of it)", async () => {
  const cache = createVerifiedTokenCache<string>();
  const signature = randomUUID().replaceAll("-", "");
  (() => {
    // As a server gets it: the token cut from a header value made at run time.
    const header = `Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLnRlc3QifQ.${signature}`;
    const token = header.slice("Bearer ".length);
    cache.set(cache.keyOf(token), "alice", Date.now() + 60_000);
  })();
  assert.equal(cache.size, 1);
  // The snapshot holds every string still reachable (it collects garbage first).
  const chunks: Buffer[] = [];
  for await (const chunk of getHeapSnapshot()) chunks.push(chunk as Buffer);
  const { strings } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { strings: string[] };
  assert.ok(strings.length > 1000, "a real snapshot");
  assert.deepEqual(
    strings.filter((s) => s.includes(`.${signature}`)),
    [],
  );
});

test("the runtime's SHA-256 and @noble/hashes give the same keys", () => {
  const hex = (s: string) => Buffer.from(s, "latin1").toString("hex");
  const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  assert.equal(hex(nobleSha256("abc")), abc);
  assert.ok(nativeSha256 !== undefined, "Node has crypto.hash through process.getBuiltinModule");
  assert.equal(hex(nativeSha256("abc")), abc);
  for (let length = 0; length < 300; length += 7) {
    const text = Array.from({ length }, (_, i) => String.fromCharCode((i * 31 + length) % 128)).join("");
    assert.equal(nativeSha256(text), nobleSha256(text), `length ${length}`);
  }
  // Both read the UTF-8 of text that is not ASCII.
  for (const text of ["s\u0169g", "\u20ac", "\u{1f600}", "\ud800"]) {
    assert.equal(nativeSha256(text), nobleSha256(text), JSON.stringify(text));
  }
});
