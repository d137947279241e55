import { test } from "node:test";
import assert from "node:assert/strict";
import { missingScopes, scopesFromClaims } from "./scopes.js";

test("scopes come from scope (string) and scp (array or string); other types are ignored", () => {
  assert.deepEqual([...scopesFromClaims({ scope: "a  b", scp: ["c", 1, "", "a"] })].sort(), ["a", "b", "c"]);
  assert.deepEqual([...scopesFromClaims({ scp: "x y" })].sort(), ["x", "y"]);
  assert.deepEqual([...scopesFromClaims({ scope: 42, scp: { a: 1 } })], []);
});

test("a scope claim that is not a string grants nothing (RFC 9068 §2.2.3); scp and custom paths keep arrays", () => {
  for (const scope of [["admin", "greet"], 42, { admin: true }, true, null]) {
    assert.deepEqual([...scopesFromClaims({ scope })], [], JSON.stringify(scope));
    assert.deepEqual([...scopesFromClaims({ scope, scp: ["greet"] })], ["greet"], "scp as an array still works");
  }
  assert.deepEqual([...scopesFromClaims({ scope: ["admin"], scp: "greet" })], ["greet"]);
  assert.deepEqual([...scopesFromClaims({ scope: "admin greet" })].sort(), ["admin", "greet"]);
  // Only the claim named exactly scope is string-only: arrays at custom paths are scopes (Auth0, Keycloak).
  const custom = { permissions: ["read"], realm_access: { roles: ["ops"], scope: ["nested"] } };
  assert.deepEqual(
    [...scopesFromClaims(custom, ["permissions", "realm_access.roles", "realm_access.scope"])].sort(),
    ["nested", "ops", "read"],
  );
});

test("missing scopes: all-of, then any-of when none is granted", () => {
  const g = new Set(["greet"]);
  assert.deepEqual(missingScopes({ allScopes: ["admin", "greet"], anyScopes: [] }, g), ["admin"]);
  assert.deepEqual(missingScopes({ allScopes: [], anyScopes: ["read", "greet"] }, g), []);
  assert.deepEqual(missingScopes({ allScopes: ["x"], anyScopes: ["read", "write"] }, g), ["x", "read", "write"]);
  assert.deepEqual(missingScopes({ allScopes: [], anyScopes: [] }, new Set()), []);
});
