import type { DescMethod } from "@bufbuild/protobuf";
import { getOption, hasOption } from "@bufbuild/protobuf";
import { method_rule, service_rule } from "./gen/connectauth/v1/auth_pb.js";
import type { ScopeRequirement } from "./scopes.js";

/**
 * The rule in force for one method, after service defaults and method overrides.
 */
export interface EffectiveRule extends ScopeRequirement {
  /** No credential is needed (a presented one must still be valid). */
  readonly public: boolean;
  /** Where the rule came from: the method's option, its service's option, or the deny-by-default rule. */
  readonly source: "method" | "service" | "default";
}

const cache = new WeakMap<DescMethod, EffectiveRule>();

/**
 * The effective rule of a method, from the `(connectauth.v1.method_rule)` and
 * `(connectauth.v1.service_rule)` options of its generated descriptor. A method's rule replaces its
 * service's as a whole; with neither, the method requires an authenticated caller and no scope (deny
 * anonymous by default). Resolved once per method descriptor and cached.
 *
 * ```ts
 * import { GreeterService } from "./gen/example/v1/greeter_pb.js";
 * ruleOf(GreeterService.method.admin); // { public: false, allScopes: ["admin", "greet"], anyScopes: [], source: "method" }
 * ```
 */
export function ruleOf(method: DescMethod): EffectiveRule {
  let rule = cache.get(method);
  if (rule === undefined) {
    rule = resolve(method);
    cache.set(method, rule);
  }
  return rule;
}

function resolve(method: DescMethod): EffectiveRule {
  if (hasOption(method, method_rule)) {
    return fromOption(getOption(method, method_rule), "method");
  }
  if (hasOption(method.parent, service_rule)) {
    return fromOption(getOption(method.parent, service_rule), "service");
  }
  return Object.freeze({ public: false, allScopes: [], anyScopes: [], source: "default" });
}

function fromOption(
  option: { public: boolean; allScopes: string[]; anyScopes: string[] },
  source: EffectiveRule["source"],
): EffectiveRule {
  return Object.freeze({
    public: option.public,
    allScopes: Object.freeze([...option.allScopes]),
    anyScopes: Object.freeze([...option.anyScopes]),
    source,
  }) as EffectiveRule;
}
