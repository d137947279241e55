import { test } from "node:test";
import assert from "node:assert/strict";
import * as core from "./index.js";
import * as protocol from "./protocol.js";
import { addScopes, scopeDifference, scopesFromClaims } from "./scopes.js";

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
  assert.deepEqual([...scopesFromClaims(custom, ["permissions", "realm_access.roles", "realm_access.scope"])].sort(), [
    "nested",
    "ops",
    "read",
  ]);
});

test("scopeDifference: missing are all-of, then any-of when none is granted", () => {
  const g = new Set(["greet"]);
  const missing = (allScopes: string[], anyScopes: string[], granted: ReadonlySet<string> = g) =>
    scopeDifference({ allScopes, anyScopes }, granted).missing;
  assert.deepEqual(missing(["admin", "greet"], []), ["admin"]);
  assert.deepEqual(missing([], ["read", "greet"]), []);
  assert.deepEqual(missing(["x"], ["read", "write"]), ["x", "read", "write"]);
  assert.deepEqual(missing([], [], new Set()), []);
  assert.deepEqual(missing(["read"], ["read", "write"]), ["read", "write"], "each scope once");
});

test("scopeDifference: required are all-of, and any-of only while none of it is granted", () => {
  const g = new Set(["greet"]);
  const required = (allScopes: string[], anyScopes: string[], granted: ReadonlySet<string> = g) =>
    scopeDifference({ allScopes, anyScopes }, granted).required;
  assert.deepEqual(required(["admin", "greet"], []), ["admin", "greet"], "granted ones too: the token must carry them");
  assert.deepEqual(required(["admin"], ["read", "greet"]), ["admin"], "an any-of that is met is not asked for");
  assert.deepEqual(required(["admin"], ["read", "write"]), ["admin", "read", "write"]);
  assert.deepEqual(required([], [], new Set()), []);
});

test("addScopes: a space-delimited string or an array of strings, nothing else", () => {
  const into = new Set<string>();
  for (const value of ["a  b", ["c", 1, "", "a"], 42, { d: true }, null]) addScopes(into, value);
  assert.deepEqual([...into].sort(), ["a", "b", "c"]);
  assert.equal(protocol.addScopes, addScopes, "our packages import it from @connectauth/core/protocol");
  assert.ok(!("addScopes" in core), "apps do not see it: scopesFromClaims is theirs");
});
