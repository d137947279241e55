import { test } from "node:test";
import assert from "node:assert/strict";
import type { CandidateRuleInit, EffectiveRule, RuleInit, RuleRequirements } from "@connectauth/core";
import { diffRules } from "./audit-diff.js";

function rule(init: RuleInit, source: EffectiveRule["source"] = "method"): EffectiveRule {
  return {
    ...requirements(init),
    source,
    origin: source === "default" ? "none" : "proto",
    candidate: init.candidate === undefined ? undefined : requirements(init.candidate),
  };
}

function requirements(init: CandidateRuleInit): RuleRequirements {
  return {
    public: init.public === true,
    allScopes: init.allScopes ?? [],
    anyScopes: init.anyScopes ?? [],
    claims: init.claims ?? [],
    condition: init.condition,
  };
}

const none = rule({}, "default");

/** The kind, and the change word of every reason. */
function diff(before: EffectiveRule | undefined, after: EffectiveRule | undefined) {
  const { kind, why } = diffRules(before, after);
  return [kind, why.map((r) => r.change)];
}

test("one reason per scope, claim and condition; the strongest decides the kind", () => {
  assert.deepEqual(diff(rule({ allScopes: ["a", "b"] }), rule({ allScopes: ["a", "c"] })), [
    "broadening",
    ["scope_removed", "scope_added"],
  ]);
  assert.deepEqual(diff(rule({ anyScopes: ["a", "b"] }), rule({ anyScopes: ["a", "c"] })), [
    "broadening",
    ["any_scope_added", "any_scope_removed"],
  ]);
  assert.deepEqual(diff(rule({ anyScopes: [] }), rule({ anyScopes: ["a"] })), ["narrowing", ["any_scopes_required"]]);
  assert.deepEqual(diff(rule({ anyScopes: ["a"] }), rule({})), ["broadening", ["any_scopes_emptied"]]);
  assert.deepEqual(
    diff(rule({ claims: [{ path: "org", equals: "acme" }] }), rule({ claims: [{ path: "org", equals: "evil" }] })),
    ["broadening", ["claim_removed", "claim_added"]],
    "a claim whose value changed is one removed and one added",
  );
  assert.deepEqual(diff(rule({ condition: "a" }), rule({ condition: "b", allScopes: ["x"] })), [
    "changed",
    ["scope_added", "condition_changed"],
  ]);
  assert.deepEqual(diff(rule({ condition: "a" }), rule({ condition: "b", allScopes: [] })), ["changed", ["condition_changed"]]);
  assert.deepEqual(diff(rule({ condition: "a", allScopes: ["x"] }), rule({ condition: "b" })), [
    "broadening",
    ["scope_removed", "condition_changed"],
  ]);
  const changed = diffRules(rule({ condition: "request.id == subject" }), rule({ condition: "true" })).why[0]!;
  assert.match(changed.message, /from: request\.id == subject to: true/);
});

test("the same sets are neutral: reordered, repeated, or a condition re-wrapped where whitespace cannot matter", () => {
  assert.deepEqual(diff(rule({ allScopes: ["a", "b"] }), rule({ allScopes: ["b", "a", "a"] })), ["neutral", ["reordered"]]);
  assert.deepEqual(diff(rule({ allScopes: ["a"] }), rule({ allScopes: ["a"] })), ["neutral", []]);
  assert.deepEqual(diff(rule({ condition: "a == b &&\n  c" }), rule({ condition: "a == b && c" })), ["neutral", ["reordered"]]);
  // Inside a string literal, or after a // comment, whitespace is meaning: never squeezed.
  assert.deepEqual(diff(rule({ condition: "claims.x == 'a  b'" }), rule({ condition: "claims.x == 'a b'" })), [
    "changed",
    ["condition_changed"],
  ]);
  assert.deepEqual(diff(rule({ condition: "a // x\n|| b" }), rule({ condition: "a // x || b" })), [
    "changed",
    ["condition_changed"],
  ]);
  assert.deepEqual(diff(none, none), ["neutral", []]);
});

test("a public rule counts as public only: its requirements are never enforced", () => {
  assert.deepEqual(diff(rule({ allScopes: ["a"] }), rule({ public: true, allScopes: ["a"] })), ["broadening", ["became_public"]]);
  assert.deepEqual(diff(rule({ public: true }), rule({ public: true, allScopes: ["a"] })), ["neutral", ["unenforced_changed"]]);
  assert.deepEqual(diff(rule({ public: true }), rule({ allScopes: ["a"] })), ["narrowing", ["no_longer_public"]]);
});

test("losing a rule broadens (where unruled methods are admitted); gaining one narrows, and both say what they mean", () => {
  const lost = diffRules(rule({ allScopes: ["a"] }), none);
  assert.deepEqual([lost.kind, lost.why.map((r) => r.change)], ["broadening", ["rule_removed"]]);
  assert.match(
    lost.why[0]!.message,
    /it lost its rule \(all of "a"\): it is denied by default, but open to any authenticated caller/,
  );
  const service = diffRules(rule({ allScopes: ["a"] }, "service"), none).why[0]!;
  assert.equal(service.change, "rule_removed");
  assert.match(service.message, /^via service default: its service lost its rule/);
  const gained = diffRules(none, rule({ allScopes: ["a"] }));
  assert.deepEqual([gained.kind, gained.why.map((r) => r.change)], ["narrowing", ["rule_added"]]);
  assert.match(gained.why[0]!.message, /where the server denies unruled methods \(the default\), callers that satisfy the rule/);
  assert.deepEqual(diff(none, rule({ public: true })), ["broadening", ["became_public"]]);
  assert.deepEqual(diff(rule({ public: true }), none), ["narrowing", ["no_longer_public"]]);
});

test("a change of the service default, before and after, is named as one", () => {
  const loosened = diffRules(rule({ allScopes: ["a", "b"] }, "service"), rule({ allScopes: ["a"] }, "service"));
  assert.deepEqual(
    loosened.why.map((r) => [r.change, r.kind]),
    [["service_default_loosened", "broadening"]],
  );
  assert.match(loosened.why[0]!.message, /^via service default: scope "b" left all_scopes$/);
  assert.deepEqual(diff(rule({}, "service"), rule({ public: true }, "service")), ["broadening", ["service_default_loosened"]]);
  assert.deepEqual(diff(rule({}, "service"), rule({ allScopes: ["a"] }, "service")), [
    "narrowing",
    ["service_default_tightened"],
  ]);
  assert.deepEqual(diff(rule({ condition: "a" }, "service"), rule({ condition: "b" }, "service")), [
    "changed",
    ["condition_changed"],
  ]);
});

test("a method rule replaced by its service default is compared as a rule, and says where it comes from", () => {
  assert.deepEqual(diff(rule({ allScopes: ["a"] }), rule({ allScopes: ["a"] }, "service")), ["neutral", ["rule_moved"]]);
  const dropped = diffRules(rule({ allScopes: ["a", "b"] }), rule({ allScopes: ["a"] }, "service")).why[0]!;
  assert.equal(dropped.change, "scope_removed", "not service_default_loosened: the method had its own rule");
  assert.match(dropped.message, /\(its own rule before, its service default now\)$/);
});

test("added and removed methods: unruled or public new methods are broadenings", () => {
  assert.deepEqual(diff(undefined, none), ["broadening", ["unruled_method_added"]]);
  assert.deepEqual(diff(undefined, rule({ public: true })), ["broadening", ["public_method_added"]]);
  assert.match(diffRules(undefined, rule({ public: true }, "service")).why[0]!.message, /via service default/);
  assert.deepEqual(diff(undefined, rule({ allScopes: ["a"] })), ["added", ["method_added"]]);
  assert.deepEqual(diff(rule({ public: true }), undefined), ["removed", ["method_removed"]]);
  assert.throws(() => diffRules(undefined, undefined), TypeError);
});

test("candidates enforce nothing: adding, changing or dropping one alone is neutral, and says so", () => {
  const enforced = { allScopes: ["a"] };
  const stricter = { allScopes: ["a", "b"] };
  assert.deepEqual(diff(rule(enforced), rule({ ...enforced, candidate: stricter })), ["neutral", ["candidate_added"]]);
  assert.deepEqual(diff(rule({ ...enforced, candidate: stricter }), rule(enforced)), ["neutral", ["candidate_removed"]]);
  assert.deepEqual(
    diff(rule({ ...enforced, candidate: stricter }), rule({ ...enforced, candidate: { allScopes: ["a", "c"] } })),
    ["neutral", ["candidate_changed"]],
  );
  assert.deepEqual(
    diff(rule({ ...enforced, candidate: stricter }), rule({ ...enforced, candidate: { allScopes: ["b", "a", "a"] } })),
    ["neutral", []],
    "the same candidate, written differently, is no change",
  );
  assert.deepEqual(
    diff(
      rule({ ...enforced, candidate: { public: true } }),
      rule({ ...enforced, candidate: { public: true, allScopes: ["x"] } }),
    ),
    ["neutral", []],
  );
  const changed = diffRules(rule({ ...enforced, candidate: stricter }), rule({ ...enforced, candidate: { public: true } }))
    .why[0]!;
  assert.match(
    changed.message,
    /^the candidate rule changed, from: all of: a b to: public \(a candidate is reported, never enforced\)$/,
  );
  const viaService = diffRules(rule(enforced, "service"), rule({ ...enforced, candidate: stricter }, "service")).why[0]!;
  assert.match(viaService.message, /^via service default: a candidate rule was added: all of: a b/);
  assert.deepEqual(diff(undefined, rule({ ...enforced, candidate: stricter })), ["added", ["method_added", "candidate_added"]]);
  assert.deepEqual(diff(rule({ public: true, candidate: {} }), rule({ public: true })), ["neutral", ["candidate_removed"]]);
});

test("promoting a candidate: the access it changes is classified against the old rule, as any change", () => {
  const promoted = diffRules(rule({ allScopes: ["a"], candidate: { allScopes: ["a", "b"] } }), rule({ allScopes: ["b", "a"] }));
  assert.deepEqual(
    promoted.why.map((r) => [r.change, r.kind]),
    [
      ["scope_added", "narrowing"],
      ["candidate_promoted", "neutral"],
    ],
  );
  assert.equal(promoted.kind, "narrowing");
  assert.match(
    promoted.why[1]!.message,
    /the candidate rule became the rule \(all of: a b\): its access is compared with the old rule/,
  );
  assert.deepEqual(diff(rule({ allScopes: ["a"], candidate: { public: true } }), rule({ public: true })), [
    "broadening",
    ["became_public", "candidate_promoted"],
  ]);
  assert.deepEqual(
    diff(
      rule({ allScopes: ["a"], candidate: { allScopes: ["a", "b"] } }),
      rule({ allScopes: ["a", "b"], candidate: { allScopes: ["a", "b", "c"] } }),
    ),
    ["narrowing", ["scope_added", "candidate_promoted", "candidate_added"]],
    "promoted, with a new candidate beside it",
  );
  assert.deepEqual(
    diff(rule({ allScopes: ["a"], candidate: { allScopes: ["a"] } }), rule({ allScopes: ["a"] })),
    ["neutral", ["candidate_removed"]],
    "a candidate equal to its rule was never a change to promote",
  );
});
