import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { type EffectiveRule, type RuleRequirements, type RuleResolver, ruleOf } from "@connectauth/core";
import { compileCondition } from "@connectauth/server/protocol";
import { isLikelyTypo } from "./scope-typo.js";

/** The kinds of finding of {@link auditServices}. */
export type AuditFindingCode =
  /** A method with neither a method nor a service rule: denied by default, open to any authenticated caller where a server admits unruled methods. */
  | "no_rule"
  /** A public method that looks like it changes state. */
  | "public_mutation"
  /** A public rule with scopes, claims or a condition, none of which a public rule enforces. */
  | "public_with_requirements"
  /**
   * A scope named by one rule only that is one typo away from another scope (named by a rule, or
   * known): most likely a typo of it. A scope named by one rule and like no other is not flagged:
   * one scope per method is an ordinary design.
   */
  | "lonely_scope"
  /** A condition that does not compile, the rule's or its candidate's (servers refuse to start with it). */
  | "condition_invalid";

/** One thing `connectauth audit` flags. */
export interface AuditFinding {
  readonly code: AuditFindingCode;
  /** `pkg.Service/Method`, or `pkg.Service` for a finding on a service rule. */
  readonly target: string;
  readonly message: string;
  /** The scope, for `lonely_scope`. */
  readonly scope?: string;
  /** For `lonely_scope`: the scope it is one typo away from. */
  readonly similarTo?: string;
}

/** One method and its effective rule. */
export interface AuditedMethod {
  /** `pkg.Service/Method`. */
  readonly name: string;
  /** `unary`, `server_streaming`, `client_streaming` or `bidi_streaming`. */
  readonly kind: string;
  /** The rule in force, and in `rule.candidate` the candidate beside it (reported by servers, never enforced). */
  readonly rule: EffectiveRule;
  /** Why the method is taken to change state, or `undefined` when it is not. */
  readonly mutates: string | undefined;
}

/** What {@link auditServices} found. */
export interface AuditReport {
  readonly methods: readonly AuditedMethod[];
  readonly findings: readonly AuditFinding[];
}

/** Options of {@link auditServices}. */
export interface AuditOptions {
  /**
   * Scopes known to exist elsewhere (e.g. granted by the issuer): never flagged as `lonely_scope`, and
   * a rule's scope one typo away from one of them is.
   */
  readonly knownScopes?: readonly string[];
  /** The rule resolver (rules set in code, as the server has them). Default: the proto options alone. */
  readonly resolve?: RuleResolver;
}

/**
 * Verbs that start the names of methods that change state (AIP-style names: `CreateBook`,
 * `DeleteAccount`). A name counts when it starts with one of them followed by an upper-case letter
 * or nothing (`SetLabel` does, `Settings` does not).
 */
export const mutatingVerbs: readonly string[] = [
  "Add",
  "Approve",
  "Assign",
  "Cancel",
  "Create",
  "Delete",
  "Disable",
  "Enable",
  "Grant",
  "Import",
  "Insert",
  "Move",
  "Patch",
  "Post",
  "Purge",
  "Put",
  "Reject",
  "Remove",
  "Rename",
  "Replace",
  "Reset",
  "Restore",
  "Revoke",
  "Send",
  "Set",
  "Start",
  "Stop",
  "Submit",
  "Undelete",
  "Update",
  "Upload",
  "Upsert",
  "Write",
];

/**
 * Why a method is taken to change state, or `undefined`. The heuristic: its `idempotency_level`
 * decides when declared (`NO_SIDE_EFFECTS`: it does not; `IDEMPOTENT`: it does, idempotently);
 * otherwise its name starting with one of {@link mutatingVerbs} does.
 *
 * ```ts
 * mutationOf(AccountService.method.deleteAccount); // "name starts with Delete"
 * ```
 */
export function mutationOf(method: DescMethod): string | undefined {
  if (method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS) return undefined;
  if (method.idempotency === MethodOptions_IdempotencyLevel.IDEMPOTENT) return "idempotency_level IDEMPOTENT";
  const verb = mutatingVerbs.find((v) => method.name.startsWith(v) && !/^[a-z0-9]/.test(method.name.slice(v.length)));
  return verb === undefined ? undefined : `name starts with ${verb}`;
}

/**
 * Lists every method of the services with its effective rule, and flags what a reviewer should look
 * at: methods without a rule, public methods that mutate, public rules with requirements, a scope
 * named by one rule only that is one typo away from another scope ({@link isLikelyTypo}), and
 * conditions that do not compile. A sound service, one scope per method included, has no finding.
 * Candidate rules (`AuthRule.candidate`) are listed with their rule; their scopes count as named by
 * that rule, and a candidate condition that does not compile is `condition_invalid` ("candidate: …").
 *
 * ```ts
 * const report = auditServices([AccountService]);
 * report.findings; // [{ code: "lonely_scope", target: "acme.v1.AccountService/ListAccounts", scope: "acounts.read", similarTo: "accounts.read", … }]
 * ```
 *
 * Not checked: rules set in code unless `resolve` has them, and what the issuer actually grants.
 */
export function auditServices(services: readonly DescService[], options: AuditOptions = {}): AuditReport {
  const resolve = options.resolve ?? ruleOf;
  const known = new Set(options.knownScopes ?? []);
  const methods: AuditedMethod[] = [];
  const findings: AuditFinding[] = [];
  // The rules that name each scope: a service rule counts once, however many methods it covers.
  const rulesOfScope = new Map<string, Set<string>>();
  for (const service of services) {
    for (const method of service.methods) {
      const name = `${service.typeName}/${method.name}`;
      const rule = resolve(method);
      const mutates = mutationOf(method);
      methods.push({ name, kind: method.methodKind, rule, mutates });
      const ruleKey = rule.source === "service" ? service.typeName : name;
      if (rule.source === "default") {
        findings.push({
          code: "no_rule",
          target: name,
          message: "no rule: denied by default, but open to any authenticated caller where the server admits unruled methods",
        });
      }
      if (rule.public && mutates !== undefined) {
        findings.push({ code: "public_mutation", target: name, message: `public, and it seems to change state (${mutates})` });
      }
      if (
        rule.public &&
        (rule.allScopes.length + rule.anyScopes.length + rule.claims.length > 0 || rule.condition !== undefined)
      ) {
        findings.push({
          code: "public_with_requirements",
          target: name,
          message: "public, so its scopes, claims and condition are never enforced",
        });
      }
      const candidate = rule.candidate;
      for (const scope of [
        ...rule.allScopes,
        ...rule.anyScopes,
        ...(candidate?.allScopes ?? []),
        ...(candidate?.anyScopes ?? []),
      ]) {
        const set = rulesOfScope.get(scope) ?? new Set<string>();
        set.add(ruleKey);
        rulesOfScope.set(scope, set);
      }
      // Compiled per method: the fields a condition may name are those of each method's input.
      for (const [condition, label] of [
        [rule.condition, ""],
        [candidate?.condition, "candidate: "],
      ] as const) {
        if (condition === undefined) continue;
        try {
          compileCondition(condition, method);
        } catch (error) {
          findings.push({ code: "condition_invalid", target: name, message: `${label}${(error as Error).message}` });
        }
      }
    }
  }
  // The scopes a lonely one may be a typo of, the most named first (known ones count as named).
  const count = (scope: string) => (rulesOfScope.get(scope)?.size ?? 0) + (known.has(scope) ? 1 : 0);
  const candidates = [...new Set([...rulesOfScope.keys(), ...known])].sort((a, b) => count(b) - count(a));
  for (const [scope, rules] of rulesOfScope) {
    if (rules.size !== 1 || known.has(scope)) continue;
    const near = candidates.find((other) => isLikelyTypo(scope, other));
    if (near === undefined) continue;
    const named = rulesOfScope.get(near)?.size ?? 0;
    const [target] = rules as Set<string>;
    findings.push({
      code: "lonely_scope",
      target,
      scope,
      similarTo: near,
      message: `scope "${scope}" is named by no other rule, and is one typo away from "${near}" (${named === 0 ? "a known scope" : `named by ${named === 1 ? "1 rule" : `${named} rules`}`}): a typo?`,
    });
  }
  return { methods, findings };
}

/**
 * Describes a rule (or a candidate rule) in a few words: `public` (with what it does not enforce), `authenticated`, `all of: a b`, `any of: x y`,
 * `claims: org = acme, groups ∋ auditors`, `if: <condition>`, or `no rule (denied)`. Its candidate is not
 * described here: `describeRule(rule.candidate)` does.
 *
 * ```ts
 * describeRule(ruleOf(GreeterService.method.admin)); // "all of: admin greet"
 * ```
 */
export function describeRule(rule: EffectiveRule | RuleRequirements): string {
  if ("source" in rule && rule.source === "default") return "no rule (denied by default)";
  const parts: string[] = [];
  if (rule.allScopes.length > 0) parts.push(`all of: ${rule.allScopes.join(" ")}`);
  if (rule.anyScopes.length > 0) parts.push(`any of: ${rule.anyScopes.join(" ")}`);
  if (rule.claims.length > 0) {
    parts.push(
      `claims: ${rule.claims.map((c) => (c.equals !== undefined ? `${c.path} = ${c.equals}` : `${c.path} ∋ ${c.contains}`)).join(", ")}`,
    );
  }
  if (rule.condition !== undefined) parts.push(`if: ${rule.condition}`);
  if (rule.public) return parts.length === 0 ? "public" : `public (not enforced: ${parts.join("; ")})`;
  return parts.length === 0 ? "authenticated" : parts.join("; ");
}
