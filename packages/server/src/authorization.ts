import type { DescMethod, Message } from "@bufbuild/protobuf";
import {
  type ClaimMatch,
  type EffectiveRule,
  Reason,
  type RuleRequirements,
  type RuleResolverOptions,
  createRuleResolver,
} from "@connectauth/core";
import { claimAt, scopeDifference } from "@connectauth/core/protocol";
import { type CompiledCondition, compileCondition } from "./condition.js";
import { type Denial, deny, fault } from "./denial.js";
import type { Verdict } from "./decision.js";
import type { AuthIdentity } from "./identity.js";

/** Options of {@link createAuthorization} (the `authorization` option of `createServerAuth`). */
export interface AuthorizationOptions extends RuleResolverOptions {
  /**
   * What a method with no rule (none in proto, none in code) admits: `"deny"` (the default) answers
   * every caller with `PermissionDenied` (`CLAIMS_REJECTED`, `ErrorInfo.metadata.detail = "no_rule"`)
   * after authentication; `"authenticated"` admits any authenticated caller.
   */
  readonly unruled?: "deny" | "authenticated";
}

/** Authorization of calls by their method's rule. Its checks return a {@link Denial}, never throw. */
export interface Authorization {
  /** The effective rule of a method (proto options and rules set in code). */
  ruleOf(method: DescMethod): EffectiveRule;
  /**
   * Checks what needs only the caller's identity: deny-by-default, scopes, claims, and a condition that
   * does not name `request`. `undefined` when the caller is allowed that far.
   */
  authorize(method: DescMethod, identity: AuthIdentity): Denial | undefined;
  /**
   * Whether the method's rule has a condition over the request message, judged by
   * {@link Authorization.authorizeRequest} once the body is parsed (never for a public method).
   */
  readsRequest(method: DescMethod): boolean;
  /**
   * Checks the method's condition over one request message (each message of a stream in turn);
   * `undefined` when it holds, or when the rule has no such condition.
   */
  authorizeRequest(method: DescMethod, identity: AuthIdentity, request: Message): Denial | undefined;
  /**
   * What the method's candidate rule ({@link EffectiveRule.candidate}) would decide of a call, from the
   * verdict of its headers (the enforced rule's denial, the identity it established): `undefined` when
   * the method has no candidate, else a {@link CandidateVerdict}. Never enforced, never throws.
   */
  judgeCandidate(
    method: DescMethod,
    verdict: Pick<Verdict, "denial" | "identity" | "authenticator">,
  ): CandidateVerdict | undefined;
  /** Whether the method's candidate has a condition over the request message (never a public candidate). */
  candidateReadsRequest(method: DescMethod): boolean;
  /**
   * The candidate's condition over one request message: the denial it would give, or `undefined` when it
   * holds (or the candidate has no such condition).
   */
  judgeCandidateRequest(method: DescMethod, identity: AuthIdentity, request: Message): Denial | undefined;
}

/**
 * What a candidate rule would decide of a call: `"allow"`, the {@link Denial} it would give, or
 * `"request"` while its condition over the request message is still to be judged (the identity passed
 * the rest of it).
 *
 * ```ts
 * const judged = authorization.judgeCandidate(method, { denial: undefined, identity });
 * if (typeof judged === "object") console.log("the candidate would deny:", judged.reason);
 * ```
 */
export type CandidateVerdict = "allow" | "request" | Denial;

/**
 * Creates the authorization policy of a server: rules from proto options and code, scopes (all-of,
 * any-of), required claims, CEL conditions, and deny-by-default for methods without a rule. Public
 * methods admit any caller whose presented credential is valid: their scopes, claims and conditions
 * are not enforced (`connectauth audit` flags such rules).
 *
 * ```ts
 * const authorization = createAuthorization({
 *   rules: { "grpc.health.v1.Health": { public: true } },
 *   services: [GreeterService, Health], // every service a rule names (Health: from grpc's health.proto)
 * });
 * ```
 *
 * Failures: a missing scope is `INSUFFICIENT_SCOPE`; an unmet claim, a false or failing condition, and a
 * method without a rule are `CLAIMS_REJECTED` (all `PermissionDenied`, with the Bearer
 * `insufficient_scope` challenge naming the rule's scopes and `ErrorInfo.metadata.detail` saying which
 * check failed: `claim`, `condition`, `condition_error`, `no_rule`).
 *
 * Candidate rules (`AuthRule.candidate`, `candidate` of a rule in code) are judged by
 * {@link Authorization.judgeCandidate} with the same checks, and never enforced: `authorize` and
 * `authorizeRequest` read the enforced rule only. A candidate's condition is compiled as the rule's is
 * (at setup for the listed services); one of an unlisted service that does not compile is a candidate
 * that would deny (a fault), never a failure of the call.
 *
 * @throws TypeError on a malformed rule or candidate in `rules`, `rules` without `services` or under a
 * name that is no listed service or method (see `createRuleResolver`), or a condition (a candidate's
 * included) that does not compile.
 */
export function createAuthorization(options: AuthorizationOptions = {}): Authorization {
  const resolve = createRuleResolver(options);
  const unruled = options.unruled ?? "deny";
  if (unruled !== "deny" && unruled !== "authenticated") {
    throw new TypeError('createAuthorization: unruled must be "deny" or "authenticated"');
  }
  const enforced = requirementsJudge(resolve, "rule");
  const candidates = requirementsJudge((method) => resolve(method).candidate, "candidate");
  // Compile now what can be compiled now: fail at start, not at the first call.
  for (const [key, rule] of Object.entries(options.rules ?? {})) {
    for (const [condition, where] of [
      [rule.condition, `"${key}"`],
      [rule.candidate?.condition, `the candidate of "${key}"`],
    ] as const) {
      if (condition !== undefined && condition.trim() !== "") compileCondition(condition, undefined, where);
    }
  }
  for (const service of options.services ?? []) {
    for (const method of service.methods) {
      enforced.conditionOf(method);
      candidates.conditionOf(method);
    }
  }

  return {
    ruleOf: resolve,
    authorize(method, identity) {
      const rule = resolve(method);
      if (rule.public) return undefined;
      if (rule.source === "default" && unruled === "deny") {
        return rejectClaims(rule, identity, "no_rule", "this method has no auth rule and is denied by default");
      }
      return enforced.checkIdentity(method, rule, identity);
    },
    readsRequest: enforced.readsRequest,
    authorizeRequest(method, identity, request) {
      return enforced.readsRequest(method) ? enforced.checkCondition(method, resolve(method), identity, request) : undefined;
    },
    judgeCandidate(method, verdict) {
      const candidate = resolve(method).candidate;
      if (candidate === undefined) return undefined;
      const { identity, denial } = verdict;
      if (identity === undefined) {
        // Nobody was authenticated. An anonymous call, to a public method or refused for want of a
        // credential, is the candidate's to judge; any other failure comes before every rule.
        if (denial === undefined) return candidate.public ? "allow" : deny(Reason.MissingCredentials);
        return noCredential(verdict) && candidate.public ? "allow" : denial;
      }
      // A refusal of the credential itself (a stream whose token expired) is the candidate's as well.
      if (denial !== undefined && denial.reason !== undefined && !ruleReasons.has(denial.reason)) return denial;
      if (candidate.public) return "allow";
      const refused = candidates.checkIdentity(method, candidate, identity);
      if (refused !== undefined) return refused;
      return candidates.readsRequest(method) ? "request" : "allow";
    },
    candidateReadsRequest: candidates.readsRequest,
    judgeCandidateRequest(method, identity, request) {
      const candidate = resolve(method).candidate;
      if (candidate === undefined || !candidates.readsRequest(method)) return undefined;
      return candidates.checkCondition(method, candidate, identity, request);
    },
  };
}

/** The reasons a rule refuses an authenticated caller with. */
const ruleReasons: ReadonlySet<Reason> = new Set([Reason.InsufficientScope, Reason.ClaimsRejected]);

/** Whether a refusal is the one of a call that presented no credential at all. */
function noCredential(verdict: Pick<Verdict, "denial" | "authenticator">): boolean {
  const { denial } = verdict;
  // A credential in a scheme nobody takes is MISSING_CREDENTIALS too, with a detail: it was presented.
  return (
    denial?.reason === Reason.MissingCredentials &&
    denial.metadata?.["detail"] === undefined &&
    verdict.authenticator === undefined
  );
}

/**
 * The checks of one level of rules (the enforced rules, or their candidates) that need the identity:
 * scopes, claims and CEL conditions, each condition compiled once per method.
 */
function requirementsJudge(requirementsOf: (method: DescMethod) => RuleRequirements | undefined, level: "rule" | "candidate") {
  const conditions = new WeakMap<DescMethod, CompiledCondition | undefined>();
  const conditionOf = (method: DescMethod): CompiledCondition | undefined => {
    if (!conditions.has(method)) {
      const source = requirementsOf(method)?.condition;
      conditions.set(method, source === undefined ? undefined : compileCondition(source, method, nameOf(method)));
    }
    return conditions.get(method);
  };
  const nameOf = (method: DescMethod) =>
    `${level === "candidate" ? "the candidate of " : ""}${method.parent.typeName}/${method.name}`;
  const lazyCondition = (method: DescMethod): CompiledCondition | Denial | undefined => {
    try {
      return conditionOf(method);
    } catch {
      return fault(`the auth condition of ${nameOf(method)} does not compile`);
    }
  };

  /** Evaluates the rule's condition (`request` for one over the request message). */
  function checkCondition(method: DescMethod, rule: RuleRequirements, identity: AuthIdentity, request?: Message) {
    const condition = lazyCondition(method);
    if (condition === undefined) return undefined;
    if (!("evaluate" in condition)) return condition;
    const result = condition.evaluate({ ...identity, request });
    if (result === "error") {
      return rejectClaims(rule, identity, "condition_error", "the method's condition could not be evaluated for this caller");
    }
    if (!result) {
      return rejectClaims(rule, identity, "condition", "the caller does not satisfy the method's condition");
    }
    return undefined;
  }

  function readsRequest(method: DescMethod): boolean {
    const rule = requirementsOf(method);
    if (rule === undefined || rule.public || rule.condition === undefined) return false;
    const condition = lazyCondition(method);
    // A condition that does not compile is judged with the request, where it refuses.
    return condition === undefined || !("evaluate" in condition) || condition.readsRequest;
  }

  /** Scopes, claims, and a condition that does not name `request`: `undefined` when the caller passes. */
  function checkIdentity(method: DescMethod, rule: RuleRequirements, identity: AuthIdentity): Denial | undefined {
    const scopes = scopeDifference(rule, identity.scopes);
    if (scopes.missing.length > 0) {
      return deny(Reason.InsufficientScope, {
        requiredScopes: scopes.required,
        metadata: { authenticator: identity.authenticator, missing_scopes: scopes.missing.join(" ") },
      });
    }
    const unmet = rule.claims.find((c) => !claimMatches(c, claimAt(identity.claims, c.path)));
    if (unmet !== undefined) {
      return rejectClaims(rule, identity, "claim", `the caller's "${unmet.path}" claim does not satisfy the method's rule`, {
        claim: unmet.path,
      });
    }
    return readsRequest(method) ? undefined : checkCondition(method, rule, identity);
  }

  return { conditionOf, readsRequest, checkCondition, checkIdentity };
}

function rejectClaims(
  rule: RuleRequirements,
  identity: AuthIdentity,
  detail: string,
  message: string,
  extra: Record<string, string> = {},
): Denial {
  return deny(Reason.ClaimsRejected, {
    message,
    requiredScopes: scopeDifference(rule, identity.scopes).required,
    metadata: { authenticator: identity.authenticator, detail, ...extra },
  });
}

/**
 * Whether a claim's value satisfies a requirement. `equals`: a string claim exactly, a number or
 * boolean by its JSON text. `contains`: an array with an element that equals the value, or a
 * space-delimited string with the value as one of its words. Anything else (objects, null, missing)
 * never matches.
 */
export function claimMatches(match: ClaimMatch, value: unknown): boolean {
  if (match.equals !== undefined) return scalarEquals(value, match.equals);
  if (Array.isArray(value)) return value.some((v) => scalarEquals(v, match.contains));
  return typeof value === "string" && value.split(" ").includes(match.contains);
}

function scalarEquals(value: unknown, expected: string): boolean {
  if (typeof value === "string") return value === expected;
  if (typeof value === "number" || typeof value === "boolean") return JSON.stringify(value) === expected;
  return false;
}
