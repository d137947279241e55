import { test } from "node:test";
import assert from "node:assert/strict";
import { missingScopes, scopesFromClaims } from "./scopes.js";

test("scopes come from scope (string) and scp (array or string); other types are ignored", () => {
  assert.deepEqual([...scopesFromClaims({ scope: "a  b", scp: ["c", 1, "", "a"] })].sort(), ["a", "b", "c"]);
  assert.deepEqual([...scopesFromClaims({ scp: "x y" })].sort(), ["x", "y"]);
  assert.deepEqual([...scopesFromClaims({ scope: 42, scp: { a: 1 } })], []);
});

test("missing scopes: all-of, then any-of when none is granted", () => {
  const g = new Set(["greet"]);
  assert.deepEqual(missingScopes({ allScopes: ["admin", "greet"], anyScopes: [] }, g), ["admin"]);
  assert.deepEqual(missingScopes({ allScopes: [], anyScopes: ["read", "greet"] }, g), []);
  assert.deepEqual(missingScopes({ allScopes: ["x"], anyScopes: ["read", "write"] }, g), ["x", "read", "write"]);
  assert.deepEqual(missingScopes({ allScopes: [], anyScopes: [] }, new Set()), []);
});
