// Longer than most files: the classification of every kind of rule change, one small function each,
// read best side by side; the report is audit-diff-report.ts, the acknowledgements audit-diff-acknowledged.ts.
import type { DescService } from "@bufbuild/protobuf";
import { type ClaimMatch, type EffectiveRule, type RuleRequirements, type RuleResolver, ruleOf } from "@connectauth/core";
import { describeRule } from "./audit-report.js";

/**
 * How a method's access changed between two versions of a schema: `broadening` (more callers may call
 * it), `narrowing` (fewer), `neutral` (the same callers: reordered lists, equivalent rules, a candidate
 * rule added, changed or dropped, nothing changed), `changed` (a CEL condition was edited: read both
 * texts), `added` and `removed` (the method is in one version only).
 */
export type ChangeKind = "broadening" | "narrowing" | "neutral" | "changed" | "added" | "removed";

/** The fixed words of broadening changes, the ones a reviewer acknowledges (`change:` of the acknowledgement file). */
export const broadeningChanges = [
  /** The method became public: callers need no credential. */
  "became_public",
  /** A scope left `all_scopes`. */
  "scope_removed",
  /** `any_scopes` gained a scope: one more scope is enough. */
  "any_scope_added",
  /** `any_scopes` became empty: the requirement of one of them is gone. */
  "any_scopes_emptied",
  /** A claim requirement was removed (or its value changed: the old one is removed). */
  "claim_removed",
  /** The CEL condition was removed. */
  "condition_removed",
  /** The method, or the service it inherited from, lost its rule: denied by default, open where the server admits authenticated callers. */
  "rule_removed",
  /** A new method without a rule (denied by default, open where the server admits authenticated callers). */
  "unruled_method_added",
  /** A new public method. */
  "public_method_added",
  /** The service default that the method inherits, before and after, was loosened in any of the ways above. */
  "service_default_loosened",
] as const;

/** A fixed word of a broadening change. */
export type BroadeningChange = (typeof broadeningChanges)[number];

/** The fixed word of one change: a broadening one, or what narrows, edits or keeps the rule. */
export type ChangeWord =
  | BroadeningChange
  | "no_longer_public"
  | "scope_added"
  | "any_scope_removed"
  | "any_scopes_required"
  | "claim_added"
  | "condition_added"
  | "rule_added"
  | "service_default_tightened"
  | "condition_changed"
  | "reordered"
  | "rule_moved"
  | "unenforced_changed"
  | "method_added"
  | "method_removed"
  | "candidate_added"
  | "candidate_changed"
  | "candidate_removed"
  | "candidate_promoted";

/** One reason a method's change is classified as it is. */
export interface ChangeReason {
  readonly change: ChangeWord;
  /** What this one reason does to access; the method's kind is that of its strongest reason. */
  readonly kind: ChangeKind;
  /** One sentence for the reviewer. */
  readonly message: string;
}

/** One method of either version, its rule before and after, and the change. */
export interface MethodChange {
  /** `pkg.Service/Method`. */
  readonly method: string;
  readonly kind: ChangeKind;
  /** The effective rule in the base, `undefined` when the method is new. */
  readonly before: EffectiveRule | undefined;
  /** The effective rule now, `undefined` when the method is gone. */
  readonly after: EffectiveRule | undefined;
  /** Why it is of its kind; empty for a method whose rule did not change at all. */
  readonly why: readonly ChangeReason[];
}

/** Options of {@link diffServices}. */
export interface DiffOptions {
  /** The rule resolver of both versions. Default: the proto options alone ({@link ruleOf}). */
  readonly resolve?: RuleResolver;
}

/** The order in which kinds are listed: what a reviewer must read first. */
export const changeKinds: readonly ChangeKind[] = ["broadening", "changed", "narrowing", "added", "removed", "neutral"];

/**
 * Every method of either version with its effective rule before and after and how access changed
 * ({@link diffRules}), listed by kind ({@link changeKinds}: broadenings first), then by name.
 *
 * ```ts
 * const { changes } = diffServices(servicesOf(baseRegistry), servicesOf(registry));
 * changes[0]; // { method: "acme.v1.BookService/GetBook", kind: "broadening", why: [{ change: "became_public", … }], … }
 * ```
 *
 * Not checked: rules set in code unless `resolve` has them, and how the server treats unruled methods
 * (both possibilities are named in the reasons).
 */
export function diffServices(
  before: readonly DescService[],
  after: readonly DescService[],
  options: DiffOptions = {},
): readonly MethodChange[] {
  const resolve = options.resolve ?? ruleOf;
  const rulesOf = (services: readonly DescService[]) =>
    new Map(services.flatMap((s) => s.methods.map((m) => [`${s.typeName}/${m.name}`, resolve(m)] as const)));
  const old = rulesOf(before);
  const now = rulesOf(after);
  const names = [...new Set([...old.keys(), ...now.keys()])].sort();
  const changes = names.map((method): MethodChange => {
    const b = old.get(method);
    const a = now.get(method);
    return { method, before: b, after: a, ...diffRules(b, a) };
  });
  const rank = (kind: ChangeKind) => changeKinds.indexOf(kind);
  return changes.sort((x, y) => rank(x.kind) - rank(y.kind) || (x.method < y.method ? -1 : x.method > y.method ? 1 : 0));
}

/**
 * How access to one method changed from rule `before` to rule `after` (`undefined`: no such method in
 * that version). A public rule enforces none of its requirements, so only its being public counts.
 * Scopes, `any_scopes` and claims are compared as sets. A change through the service default on both
 * sides is reported as `service_default_loosened` / `service_default_tightened`.
 *
 * ```ts
 * diffRules(ruleOf(base.method.getBook), ruleOf(now.method.getBook));
 * // { kind: "broadening", why: [{ change: "scope_removed", kind: "broadening", message: "scope \"books.read\" left all_scopes" }] }
 * ```
 *
 * Candidate rules (`AuthRule.candidate`) enforce nothing, so a change to a candidate alone is neutral:
 * `candidate_added`, `candidate_changed`, `candidate_removed`. A candidate that became the rule is
 * `candidate_promoted` (neutral too), and the access it changes is classified as usual, by comparing the
 * old rule with the new one.
 *
 * Not checked: what a changed CEL condition admits (`condition_changed` is of kind `changed`: a reviewer
 * reads both texts). Conditions are equal when their texts are, or, when neither holds a quote or a
 * slash, when they differ in whitespace only.
 */
export function diffRules(
  before: EffectiveRule | undefined,
  after: EffectiveRule | undefined,
): { kind: ChangeKind; why: ChangeReason[] } {
  if (before === undefined && after === undefined)
    throw new TypeError("diffRules: a method needs a rule in at least one version");
  if (before === undefined) {
    const { kind, why } = added(after as EffectiveRule);
    return { kind, why: [...why, ...compareCandidates(undefined, after as EffectiveRule)] };
  }
  if (after === undefined) return { kind: "removed", why: [reason("method_removed", "removed", "the method is gone")] };
  const why = [...compare(before, after), ...compareCandidates(before, after)];
  return { kind: strongest(why), why };
}

/** How the candidate rules changed (neutral reasons: a candidate enforces nothing). */
function compareCandidates(before: EffectiveRule | undefined, after: EffectiveRule): ChangeReason[] {
  const b = before?.candidate;
  const a = after.candidate;
  const via = before?.source === "service" && after.source === "service" ? "via service default: " : "";
  const why: ChangeReason[] = [];
  const neutral = (change: ChangeWord, message: string) =>
    why.push(reason(change, "neutral", `${via}${message} (a candidate is reported, never enforced)`));
  if (b !== undefined && after.source !== "default" && sameRule(b, after) && before !== undefined && !sameRule(b, before)) {
    neutral(
      "candidate_promoted",
      `the candidate rule became the rule (${describeRule(b)}): its access is compared with the old rule`,
    );
    if (a !== undefined) neutral("candidate_added", `a new candidate rule: ${describeRule(a)}`);
    return why;
  }
  if (b === undefined && a !== undefined) neutral("candidate_added", `a candidate rule was added: ${describeRule(a)}`);
  else if (b !== undefined && a === undefined)
    neutral("candidate_removed", `the candidate rule was dropped (it was: ${describeRule(b)})`);
  else if (b !== undefined && a !== undefined && !sameRule(b, a)) {
    neutral("candidate_changed", `the candidate rule changed, from: ${describeRule(b)} to: ${describeRule(a)}`);
  }
  return why;
}

/** Whether two rules admit the same callers by their requirements: both public, or the same requirements. */
function sameRule(a: RuleRequirements, b: RuleRequirements): boolean {
  return a.public === b.public && (a.public || sameRequirements(a, b));
}

function added(rule: EffectiveRule): { kind: ChangeKind; why: ChangeReason[] } {
  const via = rule.source === "service" ? " (via service default)" : "";
  if (rule.public) {
    return {
      kind: "broadening",
      why: [reason("public_method_added", "broadening", `a new public method${via}: callers need no credential`)],
    };
  }
  if (rule.source === "default") {
    return {
      kind: "broadening",
      why: [reason("unruled_method_added", "broadening", `a new method without a rule: ${unruled}`)],
    };
  }
  return { kind: "added", why: [reason("method_added", "added", `a new method with a rule${via}`)] };
}

const unruled =
  "denied by default, but open to any authenticated caller on a server that admits authenticated callers to unruled methods";

function compare(before: EffectiveRule, after: EffectiveRule): ChangeReason[] {
  const sameSource = before.source === after.source;
  const viaService = sameSource && before.source === "service";
  // Where the rule comes from, when that changed: said after the reasons it explains.
  const moved = sameSource ? "" : ` (${sourceWords(before)} before, ${sourceWords(after)} now)`;
  const why: ChangeReason[] = [];
  const push = (change: ChangeWord, kind: ChangeKind, message: string) => {
    if (viaService && (kind === "broadening" || kind === "narrowing")) {
      const word = kind === "broadening" ? "service_default_loosened" : "service_default_tightened";
      why.push(reason(word, kind, `via service default: ${message}`));
    } else {
      why.push(reason(change, kind, `${viaService ? "via service default: " : ""}${message}${moved}`));
    }
  };
  if (before.source !== "default" && after.source === "default") {
    const lost = before.source === "service" ? "via service default: its service lost its rule" : "it lost its rule";
    why.push(
      before.public
        ? reason("no_longer_public", "narrowing", `${lost}, which was public: it is ${unruled}`)
        : reason("rule_removed", "broadening", `${lost} (${describeRequirements(before)}): it is ${unruled}`),
    );
    return why;
  }
  if (before.source === "default" && after.source !== "default") {
    const via = after.source === "service" ? " (via service default)" : "";
    why.push(
      after.public
        ? reason("became_public", "broadening", `it had no rule and became public${via}: callers need no credential`)
        : reason(
            "rule_added",
            "narrowing",
            `it gained a rule${via}: it had none, so it was ${unruled}; where the server denies unruled methods (the default), callers that satisfy the rule may call it now`,
          ),
    );
    return why;
  }
  if (before.public !== after.public) {
    if (after.public) push("became_public", "broadening", "it became public: callers need no credential");
    else push("no_longer_public", "narrowing", "it is no longer public: callers need a credential that satisfies its rule");
    return why;
  }
  if (before.public) {
    if (!sameRequirements(before, after)) {
      push("unenforced_changed", "neutral", "the requirements of a public rule changed, and a public rule enforces none of them");
    }
    return why;
  }
  if (before.source === "default") return why;
  compareRequirements(before, after, push);
  if (why.length === 0 && (!sameSource || listedDifferently(before, after))) {
    why.push(
      sameSource
        ? reason("reordered", "neutral", "the same requirements, written differently (order, repeats, whitespace)")
        : reason("rule_moved", "neutral", `the same rule${moved}`),
    );
  }
  return why;
}

function compareRequirements(
  before: EffectiveRule,
  after: EffectiveRule,
  push: (change: ChangeWord, kind: ChangeKind, message: string) => void,
): void {
  for (const scope of minus(before.allScopes, after.allScopes))
    push("scope_removed", "broadening", `scope "${scope}" left all_scopes`);
  for (const scope of minus(after.allScopes, before.allScopes)) push("scope_added", "narrowing", `all_scopes gained "${scope}"`);
  const anyGained = minus(after.anyScopes, before.anyScopes);
  const anyLost = minus(before.anyScopes, after.anyScopes);
  if (before.anyScopes.length > 0 && after.anyScopes.length === 0) {
    push("any_scopes_emptied", "broadening", `any_scopes became empty: none of ${list(before.anyScopes)} is needed`);
  } else if (before.anyScopes.length === 0 && after.anyScopes.length > 0) {
    push("any_scopes_required", "narrowing", `any_scopes was empty: one of ${list(after.anyScopes)} is needed now`);
  } else {
    for (const scope of anyGained) push("any_scope_added", "broadening", `any_scopes gained "${scope}": it alone is enough`);
    for (const scope of anyLost) push("any_scope_removed", "narrowing", `any_scopes lost "${scope}"`);
  }
  const claimsBefore = before.claims.map(claimText);
  const claimsAfter = after.claims.map(claimText);
  for (const claim of minus(claimsBefore, claimsAfter))
    push("claim_removed", "broadening", `the claim requirement ${claim} was removed`);
  for (const claim of minus(claimsAfter, claimsBefore))
    push("claim_added", "narrowing", `the claim requirement ${claim} was added`);
  if (before.condition !== undefined && after.condition === undefined) {
    push("condition_removed", "broadening", `the condition was removed (it was: ${before.condition})`);
  } else if (before.condition === undefined && after.condition !== undefined) {
    push("condition_added", "narrowing", `a condition was added: ${after.condition}`);
  } else if (
    before.condition !== undefined &&
    after.condition !== undefined &&
    !sameCondition(before.condition, after.condition)
  ) {
    push("condition_changed", "changed", `the condition changed, from: ${before.condition} to: ${after.condition}`);
  }
}

/** The kind of the strongest reason: broadening first, then changed, narrowing, neutral. */
function strongest(why: readonly ChangeReason[]): ChangeKind {
  for (const kind of ["broadening", "changed", "narrowing"] as const) if (why.some((r) => r.kind === kind)) return kind;
  return "neutral";
}

function reason(change: ChangeWord, kind: ChangeKind, message: string): ChangeReason {
  return { change, kind, message };
}

function sourceWords(rule: EffectiveRule): string {
  return rule.source === "method" ? "its own rule" : rule.source === "service" ? "its service default" : "no rule";
}

/** The requirements a rule enforces, in words (for the rule a method lost). */
function describeRequirements(rule: EffectiveRule): string {
  const parts = [
    ...(rule.allScopes.length > 0 ? [`all of ${list(rule.allScopes)}`] : []),
    ...(rule.anyScopes.length > 0 ? [`one of ${list(rule.anyScopes)}`] : []),
    ...rule.claims.map(claimText),
    ...(rule.condition !== undefined ? [`the condition ${rule.condition}`] : []),
  ];
  return parts.length === 0 ? "any authenticated caller" : parts.join("; ");
}

function claimText(claim: ClaimMatch): string {
  return claim.contains !== undefined ? `${claim.path} ∋ ${claim.contains}` : `${claim.path} = ${claim.equals}`;
}

function list(scopes: readonly string[]): string {
  return scopes.map((s) => `"${s}"`).join(", ");
}

/** The members of `a` that are not in `b`, once each, in `a`'s order. */
function minus(a: readonly string[], b: readonly string[]): string[] {
  const other = new Set(b);
  return [...new Set(a)].filter((x) => !other.has(x));
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return minus(a, b).length === 0 && minus(b, a).length === 0;
}

function sameRequirements(a: RuleRequirements, b: RuleRequirements): boolean {
  return (
    sameSet(a.allScopes, b.allScopes) &&
    sameSet(a.anyScopes, b.anyScopes) &&
    sameSet(a.claims.map(claimText), b.claims.map(claimText)) &&
    (a.condition === undefined) === (b.condition === undefined) &&
    (a.condition === undefined || sameCondition(a.condition, b.condition as string))
  );
}

/** Equal sets written differently: another order, or a scope or claim listed twice. */
function listedDifferently(a: EffectiveRule, b: EffectiveRule): boolean {
  const same = (x: readonly string[], y: readonly string[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return (
    !same(a.allScopes, b.allScopes) ||
    !same(a.anyScopes, b.anyScopes) ||
    !same(a.claims.map(claimText), b.claims.map(claimText)) ||
    a.condition !== b.condition
  );
}

/**
 * Whether two conditions are the same text. Whitespace is ignored only where it cannot matter: with no
 * quote (a string literal keeps its spaces) and no slash (`//` comments end at a line break).
 */
function sameCondition(a: string, b: string): boolean {
  if (a.trim() === b.trim()) return true;
  const plain = (s: string) => !/["'`/]/.test(s);
  const squeeze = (s: string) => s.trim().replace(/\s+/g, " ");
  return plain(a) && plain(b) && squeeze(a) === squeeze(b);
}
