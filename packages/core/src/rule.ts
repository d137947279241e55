import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { getOption, hasOption } from "@bufbuild/protobuf";
import { closestName } from "./closest-name.js";
import { type AuthRule, method_rule, service_rule } from "./gen/connectauth/v1/auth_pb.js";
import type { ScopeRequirement } from "./scopes.js";

/** One claim a caller must carry: found by a dot-separated path, equal to a value or containing one. */
export type ClaimMatch =
  | { readonly path: string; readonly equals: string; readonly contains?: undefined }
  | { readonly path: string; readonly contains: string; readonly equals?: undefined };

/**
 * What a rule requires of a caller: the fields of `connectauth.v1.AuthRule` but the candidate. A
 * candidate rule ({@link EffectiveRule.candidate}) is one of these.
 */
export interface RuleRequirements extends ScopeRequirement {
  /** No credential is needed (a presented one must still be valid). */
  readonly public: boolean;
  /** Claims the caller must carry, every one of them. */
  readonly claims: readonly ClaimMatch[];
  /** A CEL expression that must hold, or `undefined` for none. */
  readonly condition: string | undefined;
}

/**
 * The rule in force for one method, after service defaults, method overrides and rules set in code.
 */
export interface EffectiveRule extends RuleRequirements {
  /**
   * The level the rule came from: the method, its service, or none (`"default"`: the method has no rule
   * and servers deny it unless configured otherwise).
   */
  readonly source: "method" | "service" | "default";
  /** Where the rule was declared: proto options, code ({@link RuleResolverOptions.rules}), or nowhere. */
  readonly origin: "proto" | "code" | "none";
  /**
   * The candidate rule beside this one (`AuthRule.candidate`), or `undefined` for none: servers
   * evaluate it on every call with the same caller and report what it would have decided in the
   * decision event (`shadow`), and never enforce it. It comes with the rule it is part of: a method's
   * rule replaces its service's as a whole, candidate included.
   */
  readonly candidate: RuleRequirements | undefined;
}

/** A candidate rule written in code: the fields of a {@link RuleInit}, without a candidate of its own. */
export interface CandidateRuleInit {
  readonly public?: boolean;
  readonly allScopes?: readonly string[];
  readonly anyScopes?: readonly string[];
  readonly claims?: readonly ClaimMatch[];
  readonly condition?: string;
}

/**
 * A rule written in code: the fields of `connectauth.v1.AuthRule`, all optional. `candidate` is
 * evaluated and reported, never enforced (see {@link EffectiveRule.candidate}).
 *
 * ```ts
 * const rule: RuleInit = { allScopes: ["greet"], candidate: { allScopes: ["greet", "greet.v2"] } };
 * ```
 */
export interface RuleInit extends CandidateRuleInit {
  readonly candidate?: CandidateRuleInit;
}

/** Options of {@link createRuleResolver}. */
export interface RuleResolverOptions {
  /**
   * Rules set in code, by fully-qualified service name (`grpc.health.v1.Health`) or by method
   * (`grpc.health.v1.Health/Check`, a leading `/` allowed): the proto names, exactly (not the JS local
   * names such as `check`). For services you do not own, or to override a rule of the proto.
   * Precedence, first found wins: code method rule, proto method rule, code service rule, proto
   * service rule. Every name must be a service of {@link RuleResolverOptions.services} or one of its
   * methods, so `rules` need `services`.
   */
  readonly rules?: Readonly<Record<string, RuleInit>>;
  /**
   * The services served (their generated descriptors, e.g. `[GreeterService, Health]`). Required with
   * `rules`: each rule's name is checked against these services and their methods at setup, and a name
   * that matches none throws a `TypeError` naming the closest real one. `createAuthorization` (in
   * `@connectauth/server`) also compiles the CEL conditions of these services' rules at setup (a
   * condition that does not compile throws there, naming the method); the proto conditions of a
   * service not listed compile at its first call.
   */
  readonly services?: readonly DescService[];
}

/** Finds the effective rule of a method. */
export type RuleResolver = (method: DescMethod) => EffectiveRule;

/** `resolve` with its results kept per method descriptor: rules are resolved once per method. */
function perMethod<T>(resolve: (method: DescMethod) => T): (method: DescMethod) => T {
  const cache = new WeakMap<DescMethod, { value: T }>();
  return (method) => {
    let entry = cache.get(method);
    if (entry === undefined) {
      entry = { value: resolve(method) };
      cache.set(method, entry);
    }
    return entry.value;
  };
}

/**
 * The effective rule of a method, from the `(connectauth.v1.method_rule)` and
 * `(connectauth.v1.service_rule)` options of its generated descriptor. A method's rule replaces its
 * service's as a whole; with neither, the rule has `source: "default"` (servers deny such methods
 * unless configured otherwise). Resolved once per method descriptor and cached. For rules set in code
 * as well, use {@link createRuleResolver}.
 *
 * ```ts
 * import { GreeterService } from "./gen/example/v1/greeter_pb.js";
 * ruleOf(GreeterService.method.admin); // { public: false, allScopes: ["admin", "greet"], …, source: "method" }
 * ```
 */
export const ruleOf: RuleResolver = /* @__PURE__ */ perMethod((method) => {
  const found = protoRule(method);
  if (found === undefined) return freezeRule({}, "default", "none");
  const [option, source] = found;
  // A candidate's own candidate is ignored: it is not part of the init.
  const candidate = option.candidate === undefined ? undefined : protoRequirements(option.candidate);
  return freezeRule({ ...protoRequirements(option), candidate }, source, "proto");
});

/** The requirements of an `AuthRule` option as a rule written in code would hold them. */
function protoRequirements(option: AuthRule): CandidateRuleInit {
  const claims = option.claims.map(
    (c): ClaimMatch =>
      c.match.case === "contains" ? { path: c.path, contains: c.match.value } : { path: c.path, equals: c.match.value ?? "" },
  );
  const { public: isPublic, allScopes, anyScopes, condition } = option;
  return { public: isPublic, allScopes, anyScopes, claims, condition };
}

/**
 * Whether a method is public by its proto rule: `ruleOf(method).public`, without building the rest of
 * the rule (a client needs nothing else, and its bundle then holds no more). Cached per method.
 *
 * ```ts
 * isPublicMethod(GreeterService.method.ping); // true: (connectauth.v1.method_rule) = { public: true }
 * ```
 */
export const isPublicMethod: (method: DescMethod) => boolean = /* @__PURE__ */ perMethod(
  (method) => protoRule(method)?.[0].public === true,
);

/** The rule option in force for a method in its proto (a method's rule replaces its service's), and its level. */
function protoRule(method: DescMethod): [AuthRule, "method" | "service"] | undefined {
  if (hasOption(method, method_rule)) return [getOption(method, method_rule), "method"];
  if (hasOption(method.parent, service_rule)) return [getOption(method.parent, service_rule), "service"];
  return undefined;
}

/**
 * Creates a rule resolver that adds rules set in code to those of the proto options: for services you
 * do not own (`grpc.health.v1.Health` public) or to override a proto rule. Without rules it is
 * {@link ruleOf}. Rules are checked and frozen here, once: changing the `rules` object afterwards
 * changes nothing.
 *
 * ```ts
 * import { Health } from "./gen/grpc/health/v1/health_pb.js"; // generated from grpc's health.proto
 * const resolve = createRuleResolver({ rules: { "grpc.health.v1.Health": { public: true } }, services: [Health] });
 * resolve(Health.method.check).public; // true
 * ```
 *
 * Fails closed: a rule under a name that matches no method or service of `services` (a JS local name
 * such as `GreeterService/ping`, a case slip, a service not listed) would leave the proto rule in force
 * silently, so it throws instead. A rule's `candidate` is checked as the rule is; a candidate of a
 * candidate is refused (the proto's is ignored: nothing evaluates it). Not checked: the CEL
 * `condition` (`createAuthorization` compiles it, the candidate's too).
 *
 * @throws TypeError on `rules` without `services`, a name that is not a listed service or one of its
 * methods (the message names the key and the closest real name), two keys for one name (`a.B/C` and
 * `/a.B/C`), or a malformed rule or candidate (empty scopes; a claim without a path, or with both or
 * neither of `equals` and `contains`; a candidate that is not an object, or that has a candidate).
 */
export function createRuleResolver(options: RuleResolverOptions = {}): RuleResolver {
  const names = serviceAndMethodNames(options.services);
  const entries = Object.entries(options.rules ?? {});
  if (entries.length === 0) {
    return ruleOf;
  }
  if (names.size === 0) {
    throw new TypeError(
      "createRuleResolver: rules need services (the descriptors of the services served), so that each rule's name is checked at setup",
    );
  }
  const byName = new Map<string, { key: string; rule: EffectiveRule }>();
  for (const [key, init] of entries) {
    const name = key.startsWith("/") ? key.slice(1) : key;
    if (!names.has(name)) {
      const listed = [...new Set(options.services?.map((s) => s.typeName))].join(", ");
      throw new TypeError(
        `createRuleResolver: rule "${key}" names no service or method of services (${listed}); did you mean "${closestName(name, names)}"? Names are the proto's, exactly: "pkg.Service" or "pkg.Service/Method"`,
      );
    }
    const same = byName.get(name);
    if (same !== undefined) {
      throw new TypeError(
        `createRuleResolver: rules "${same.key}" and "${key}" name the same ${name.includes("/") ? "method" : "service"}`,
      );
    }
    const rule = freezeRule(candidateChecked(init, key), name.includes("/") ? "method" : "service", "code");
    validate(rule, `"${key}"`);
    if (rule.candidate !== undefined) validate(rule.candidate, `the candidate of "${key}"`);
    byName.set(name, { key, rule });
  }
  return perMethod((method) => {
    const own = byName.get(`${method.parent.typeName}/${method.name}`);
    const service = byName.get(method.parent.typeName);
    const proto = ruleOf(method);
    return own !== undefined ? own.rule : proto.source === "method" || service === undefined ? proto : service.rule;
  });
}

/** The full names of the services and of their methods (`pkg.Service`, `pkg.Service/Method`). */
function serviceAndMethodNames(services: readonly DescService[] | undefined): Set<string> {
  if (services !== undefined && !Array.isArray(services)) {
    throw new TypeError("createRuleResolver: services must be an array of service descriptors");
  }
  const names = new Set<string>();
  for (const service of services ?? []) {
    if (service?.kind !== "service") {
      throw new TypeError("createRuleResolver: services must be an array of service descriptors");
    }
    names.add(service.typeName);
    for (const method of service.methods) names.add(`${service.typeName}/${method.name}`);
  }
  return names;
}

/**
 * The scopes a method needs, read from its rule before calling it: all of `allScopes`, and at least
 * one of `anyScopes` (when not empty). Empty lists for a public method or one without scope
 * requirements. Pass a resolver of {@link createRuleResolver} to count rules set in code.
 *
 * ```ts
 * const { allScopes, anyScopes } = requiredScopesOf(GreeterService.method.admin); // ["admin", "greet"], []
 * await tokenSource.request([...allScopes, ...anyScopes.slice(0, 1)]);
 * ```
 *
 * Not checked: what a caller already holds (the server compares with `scopeDifference`).
 */
export function requiredScopesOf(method: DescMethod, resolve: RuleResolver = ruleOf): ScopeRequirement {
  const rule = resolve(method);
  return rule.public ? { allScopes: [], anyScopes: [] } : { allScopes: rule.allScopes, anyScopes: rule.anyScopes };
}

function freezeRule(init: RuleInit, source: EffectiveRule["source"], origin: EffectiveRule["origin"]): EffectiveRule {
  const candidate = init.candidate === undefined ? undefined : freezeRequirements(init.candidate);
  return Object.freeze({ ...freezeRequirements(init), source, origin, candidate }) as EffectiveRule;
}

function freezeRequirements(init: CandidateRuleInit): RuleRequirements {
  return Object.freeze({
    public: init.public === true,
    allScopes: Object.freeze([...(init.allScopes ?? [])]),
    anyScopes: Object.freeze([...(init.anyScopes ?? [])]),
    claims: Object.freeze((init.claims ?? []).map((c) => Object.freeze({ ...c }))),
    condition: init.condition === undefined || init.condition.trim() === "" ? undefined : init.condition,
  });
}

/** A code rule whose candidate, if any, is an object without a candidate of its own. */
function candidateChecked(init: RuleInit, key: string): RuleInit {
  const candidate: unknown = init?.candidate;
  if (candidate === undefined) return init;
  if (typeof candidate !== "object" || candidate === null || Array.isArray(candidate)) {
    throw new TypeError(`createRuleResolver: the candidate of "${key}" must be a rule object`);
  }
  if ((candidate as RuleInit).candidate !== undefined) {
    throw new TypeError(
      `createRuleResolver: the candidate of "${key}" has a candidate of its own; a candidate is never enforced, so nothing would evaluate it`,
    );
  }
  return init;
}

/** Checks the scopes and claims of a rule; `what` names it in messages (`"pkg.S/M"`, `the candidate of "pkg.S/M"`). */
function validate(rule: RuleRequirements, what: string): void {
  const strings = (list: readonly unknown[]) => list.every((s) => typeof s === "string" && s !== "");
  if (!strings(rule.allScopes) || !strings(rule.anyScopes)) {
    throw new TypeError(`createRuleResolver: the scopes of ${what} must be non-empty strings`);
  }
  for (const c of rule.claims) {
    const ok = typeof c.path === "string" && c.path !== "" && (typeof c.equals === "string") !== (typeof c.contains === "string");
    if (!ok) {
      throw new TypeError(`createRuleResolver: a claim of ${what} needs a path and exactly one of equals, contains`);
    }
  }
}
