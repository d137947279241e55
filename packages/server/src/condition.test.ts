import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { GreetRequestSchema, GreeterService } from "./test-support/gen/test/v1/test_pb.js";
import { compileCondition } from "./condition.js";
import { claimMatches } from "./authorization.js";

const greet = GreeterService.method.greet;
const who = { claims: { tenant: "t1", roles: ["a", "b"], level: 3 }, scopes: new Set(["greet"]), subject: "alice" };

test("conditions see claims, scopes, subject and the request's fields by proto name", () => {
  const request = create(GreetRequestSchema, { name: "alice" });
  const cases: [string, boolean][] = [
    ["request.name == subject", true],
    ["request.name == claims.tenant", false],
    ["'greet' in scopes && claims.roles.exists(r, r == 'b')", true],
    ["claims.roles.all(r, r.size() == 1) && has(request.name)", true],
    ["claims.level >= 3", true],
    ["size(claims)", false], // not a boolean: never allows
  ];
  for (const [source, expected] of cases) {
    const c = compileCondition(source, greet);
    assert.equal(c.evaluate({ ...who, request }), expected, source);
  }
  assert.equal(compileCondition("claims.missing == 'x'", greet).evaluate(who), "error");
  assert.equal(compileCondition("request.name == ''", greet).evaluate(who), "error", "no request given");
});

test("readsRequest tells which conditions must wait for the body", () => {
  assert.equal(compileCondition("claims.tenant == 't1'", greet).readsRequest, false);
  assert.equal(compileCondition("has(request.name) || claims.x", greet).readsRequest, true);
  assert.equal(compileCondition("[1].exists(request, request == 1)", greet).readsRequest, false, "a bound variable");
});

test("compile errors name the method", () => {
  assert.throws(() => compileCondition("request.nam == ''", greet), /test\.v1\.GreeterService\/Greet .*has no field "nam"/);
  assert.throws(() => compileCondition("(", greet), /the condition of test\.v1\.GreeterService\/Greet does not compile/);
  assert.throws(() => compileCondition("x.exists(y, y)", greet), /unknown identifier "x"/);
});

test("claim matching: equals by string or JSON text, contains in arrays or space-delimited strings", () => {
  assert.ok(claimMatches({ path: "p", equals: "acme" }, "acme"));
  assert.ok(claimMatches({ path: "p", equals: "3" }, 3));
  assert.ok(claimMatches({ path: "p", equals: "true" }, true));
  assert.ok(!claimMatches({ path: "p", equals: "acme" }, ["acme"]));
  assert.ok(!claimMatches({ path: "p", equals: "null" }, null));
  assert.ok(claimMatches({ path: "p", contains: "b" }, ["a", "b"]));
  assert.ok(claimMatches({ path: "p", contains: "b" }, "a b"));
  assert.ok(!claimMatches({ path: "p", contains: "b" }, "ab"));
  assert.ok(!claimMatches({ path: "p", contains: "b" }, undefined));
});
