import { test } from "node:test";
import assert from "node:assert/strict";
import { formatChallenge, parseChallenges } from "./challenge.js";

test("formats RFC 6750 challenges with quoted, escaped values", () => {
  assert.equal(formatChallenge({ scheme: "Bearer", params: {} }), "Bearer");
  assert.equal(
    formatChallenge({ scheme: "Bearer", params: { realm: 'a "b" \\c', error: "insufficient_scope", scope: "x y" } }),
    'Bearer realm="a \\"b\\" \\\\c", error="insufficient_scope", scope="x y"',
  );
});

test("refuses what a header cannot carry", () => {
  assert.throws(() => formatChallenge({ scheme: "Bea rer", params: {} }), TypeError);
  assert.throws(() => formatChallenge({ scheme: "Bearer", params: { "re alm": "x" } }), TypeError);
  assert.throws(() => formatChallenge({ scheme: "Bearer", params: { realm: "a\r\nSet-Cookie: x" } }), TypeError);
});

test("parses several challenges, token and quoted values, token68", () => {
  assert.deepEqual(parseChallenges('Bearer realm="api", error="invalid_token", Basic realm="x y", Negotiate abc=='), [
    { scheme: "Bearer", params: { realm: "api", error: "invalid_token" } },
    { scheme: "Basic", params: { realm: "x y" } },
    { scheme: "Negotiate", params: { token68: "abc==" } },
  ]);
  assert.deepEqual(parseChallenges("Bearer"), [{ scheme: "Bearer", params: {} }]);
  assert.deepEqual(parseChallenges("bearer ERROR=invalid_token"), [{ scheme: "bearer", params: { error: "invalid_token" } }]);
  assert.deepEqual(parseChallenges(null), []);
  assert.deepEqual(parseChallenges(""), []);
});

test("round-trips what it formats", () => {
  const c = { scheme: "Bearer", params: { realm: 'r,"\\', error: "insufficient_scope", scope: "admin greet" } };
  assert.deepEqual(parseChallenges(formatChallenge(c)), [c]);
});

test("stops at garbage without throwing", () => {
  assert.deepEqual(parseChallenges('Bearer realm="unterminated'), [{ scheme: "Bearer", params: {} }]);
  assert.deepEqual(parseChallenges("=== ,,, ("), []);
});

test("a parameter named __proto__ is kept as data, not as a prototype", () => {
  const [c] = parseChallenges('Bearer __proto__="x", realm="r"');
  assert.equal(Object.getPrototypeOf(c!.params), Object.prototype);
  assert.deepEqual(Object.keys(c!.params), ["__proto__", "realm"]);
  assert.equal(Object.getOwnPropertyDescriptor(c!.params, "__proto__")?.value, "x");
});
