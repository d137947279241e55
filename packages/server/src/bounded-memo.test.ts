import { test } from "node:test";
import assert from "node:assert/strict";
import { boundedMemo } from "./bounded-memo.js";

test("computes once per string, and returns the same result after (undefined too)", () => {
  const computed: string[] = [];
  const lengthOf = boundedMemo(4, (s) => {
    computed.push(s);
    return s === "none" ? undefined : s.length;
  });
  assert.equal(lengthOf("abc"), 3);
  assert.equal(lengthOf("abc"), 3);
  assert.equal(lengthOf("none"), undefined);
  assert.equal(lengthOf("none"), undefined);
  assert.deepEqual(computed, ["abc", "none"]);
});

test("keeps the last maxEntries strings computed: the one computed longest ago goes first", () => {
  const computed: string[] = [];
  const upper = boundedMemo(2, (s) => {
    computed.push(s);
    return s.toUpperCase();
  });
  for (const s of ["a", "b", "a", "c", "b", "a"]) assert.equal(upper(s), s.toUpperCase());
  // a, b computed; a kept; c drops a; b kept; a computed again (dropping b).
  assert.deepEqual(computed, ["a", "b", "c", "a"]);
});

test("a maxEntries that is not an integer >= 1 is a TypeError", () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => boundedMemo(bad, (s) => s), TypeError, String(bad));
});
