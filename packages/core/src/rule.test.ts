import { test } from "node:test";
import assert from "node:assert/strict";
// The example's generated descriptors carry every kind of rule.
import { GreeterService } from "../../example/src/gen/example/v1/greeter_pb.js";
import { ruleOf } from "./rule.js";

test("rules come from the method options, with deny-by-default when there is none", () => {
  const m = GreeterService.method;
  assert.deepEqual({ ...ruleOf(m.greet) }, { public: false, allScopes: ["greet"], anyScopes: [], source: "method" });
  assert.deepEqual({ ...ruleOf(m.admin) }, { public: false, allScopes: ["admin", "greet"], anyScopes: [], source: "method" });
  assert.deepEqual({ ...ruleOf(m.ping) }, { public: true, allScopes: [], anyScopes: [], source: "method" });
  assert.deepEqual({ ...ruleOf(m.whoAmI) }, { public: false, allScopes: [], anyScopes: [], source: "default" });
});

test("a rule is resolved once and frozen", () => {
  const r = ruleOf(GreeterService.method.greet);
  assert.equal(ruleOf(GreeterService.method.greet), r);
  assert.ok(Object.isFrozen(r) && Object.isFrozen(r.allScopes));
});
