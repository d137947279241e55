import { test } from "node:test";
import assert from "node:assert/strict";
// The example's generated descriptors carry every kind of rule.
import { GreeterService } from "../../example/src/gen/example/v1/greeter_pb.js";
import { createRuleResolver, isPublicMethod, requiredScopesOf, ruleOf } from "./rule.js";
import { claimAt, scopesFromClaims } from "./scopes.js";

const m = GreeterService.method;
const base = { claims: [], condition: undefined, origin: "proto" };

test("rules come from the method options; an empty rule admits any authenticated caller", () => {
  assert.deepEqual({ ...ruleOf(m.greet) }, { ...base, public: false, allScopes: ["greet"], anyScopes: [], source: "method" });
  assert.deepEqual({ ...ruleOf(m.admin) }, { ...base, public: false, allScopes: ["admin", "greet"], anyScopes: [], source: "method" });
  assert.deepEqual({ ...ruleOf(m.ping) }, { ...base, public: true, allScopes: [], anyScopes: [], source: "method" });
  assert.deepEqual({ ...ruleOf(m.whoAmI) }, { ...base, public: false, allScopes: [], anyScopes: [], source: "method" });
});

test("a rule is resolved once and frozen", () => {
  const r = ruleOf(m.greet);
  assert.equal(ruleOf(m.greet), r);
  assert.ok(Object.isFrozen(r) && Object.isFrozen(r.allScopes) && Object.isFrozen(r.claims));
});

test("code rules: method names beat proto method rules, which beat code service rules", () => {
  const resolve = createRuleResolver({
    rules: {
      "example.v1.GreeterService": { public: true },
      "/example.v1.GreeterService/Greet": { anyScopes: ["a", "b"], claims: [{ path: "tenant", equals: "t1" }] },
    },
  });
  assert.deepEqual(
    { ...resolve(m.greet) },
    { public: false, allScopes: [], anyScopes: ["a", "b"], claims: [{ path: "tenant", equals: "t1" }], condition: undefined, source: "method", origin: "code" },
  );
  assert.equal(resolve(m.admin), ruleOf(m.admin), "a proto method rule beats a code service rule");
  assert.equal(resolve(m.greet), resolve(m.greet), "resolved once");
  assert.equal(createRuleResolver(), ruleOf, "no code rules: the proto resolver itself");
});

test("malformed code rules throw TypeError at construction", () => {
  assert.throws(() => createRuleResolver({ rules: { "not a name": {} } }), TypeError);
  assert.throws(() => createRuleResolver({ rules: { "a.B/C/D": {} } }), TypeError);
  assert.throws(() => createRuleResolver({ rules: { "a.B": { allScopes: [""] } } }), TypeError);
  assert.throws(
    () => createRuleResolver({ rules: { "a.B": { claims: [{ path: "x", equals: "1", contains: "2" } as never] } } }),
    /exactly one of equals, contains/,
  );
  assert.throws(() => createRuleResolver({ rules: { "a.B": { claims: [{ path: "", equals: "1" }] } } }), TypeError);
});

test("requiredScopesOf tells what to ask for before calling; public methods need nothing", () => {
  assert.deepEqual(requiredScopesOf(m.admin), { allScopes: ["admin", "greet"], anyScopes: [] });
  assert.deepEqual(requiredScopesOf(m.ping), { allScopes: [], anyScopes: [] });
  const resolve = createRuleResolver({ rules: { "example.v1.GreeterService/Ping": { anyScopes: ["x", "y"] } } });
  assert.deepEqual(requiredScopesOf(m.ping, resolve), { allScopes: [], anyScopes: ["x", "y"] });
});

test("claim paths: nested objects, whole dotted names first, nothing through arrays or scalars", () => {
  const claims = { realm_access: { roles: ["ops"] }, "https://x.example/roles": ["r"], tenant: "t1", list: [{ a: 1 }] };
  assert.deepEqual(claimAt(claims, "realm_access.roles"), ["ops"]);
  assert.deepEqual(claimAt(claims, "https://x.example/roles"), ["r"]);
  assert.equal(claimAt(claims, "tenant.x"), undefined);
  assert.equal(claimAt(claims, "list.0"), undefined);
  assert.equal(claimAt(claims, "realm_access.missing"), undefined);
  assert.equal(claimAt(claims, "toString"), undefined, "no prototype lookups");
  assert.deepEqual(
    [...scopesFromClaims({ scope: "a", permissions: ["p"], realm_access: { roles: ["ops"] } }, ["permissions", "realm_access.roles"])].sort(),
    ["ops", "p"],
  );
});

test("isPublicMethod agrees with ruleOf(method).public on every method", () => {
  assert.equal(isPublicMethod(m.ping), true);
  assert.equal(isPublicMethod(m.greet), false);
  for (const method of GreeterService.methods) {
    assert.equal(isPublicMethod(method), ruleOf(method).public, method.name);
  }
});
