import type { DescMethod, Message } from "@bufbuild/protobuf";
import { type ClaimMatch, type EffectiveRule, Reason, type RuleResolverOptions, createRuleResolver } from "@connectauth/core";
import { claimAt, scopeDifference } from "@connectauth/core/protocol";
import { type CompiledCondition, compileCondition } from "./condition.js";
import { type Denial, deny, fault } from "./denial.js";
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
}

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
 * @throws TypeError on a malformed rule in `rules`, `rules` without `services` or under a name that is
 * no listed service or method (see `createRuleResolver`), or a condition that does not compile.
 */
export function createAuthorization(options: AuthorizationOptions = {}): Authorization {
  const resolve = createRuleResolver(options);
  const unruled = options.unruled ?? "deny";
  if (unruled !== "deny" && unruled !== "authenticated") {
    throw new TypeError('createAuthorization: unruled must be "deny" or "authenticated"');
  }
  const conditions = new WeakMap<DescMethod, CompiledCondition | undefined>();
  const conditionOf = (method: DescMethod): CompiledCondition | undefined => {
    if (!conditions.has(method)) {
      const source = resolve(method).condition;
      conditions.set(method, source === undefined ? undefined : compileCondition(source, method));
    }
    return conditions.get(method);
  };
  // Compile now what can be compiled now: fail at start, not at the first call.
  for (const [key, rule] of Object.entries(options.rules ?? {})) {
    if (rule.condition !== undefined && rule.condition.trim() !== "") compileCondition(rule.condition, undefined, `"${key}"`);
  }
  for (const service of options.services ?? []) {
    for (const method of service.methods) conditionOf(method);
  }
  const lazyCondition = (method: DescMethod): CompiledCondition | Denial | undefined => {
    try {
      return conditionOf(method);
    } catch {
      return fault(`the auth condition of ${method.parent.typeName}/${method.name} does not compile`);
    }
  };

  function rejectClaims(
    rule: EffectiveRule,
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

  /** Evaluates the rule's condition (`request` for one over the request message). */
  function checkCondition(method: DescMethod, rule: EffectiveRule, identity: AuthIdentity, request?: Message) {
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
    const rule = resolve(method);
    if (rule.public || rule.condition === undefined) return false;
    const condition = lazyCondition(method);
    // A condition that does not compile is judged with the request, where it refuses.
    return condition === undefined || !("evaluate" in condition) || condition.readsRequest;
  }

  return {
    ruleOf: resolve,
    authorize(method, identity) {
      const rule = resolve(method);
      if (rule.public) return undefined;
      if (rule.source === "default" && unruled === "deny") {
        return rejectClaims(rule, identity, "no_rule", "this method has no auth rule and is denied by default");
      }
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
    },
    readsRequest,
    authorizeRequest(method, identity, request) {
      return readsRequest(method) ? checkCondition(method, resolve(method), identity, request) : undefined;
    },
  };
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
