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
 * The rule in force for one method, after service defaults, method overrides and rules set in code.
 */
export interface EffectiveRule extends ScopeRequirement {
  /** No credential is needed (a presented one must still be valid). */
  readonly public: boolean;
  /** Claims the caller must carry, every one of them. */
  readonly claims: readonly ClaimMatch[];
  /** A CEL expression that must hold, or `undefined` for none. */
  readonly condition: string | undefined;
  /**
   * The level the rule came from: the method, its service, or none (`"default"`: the method has no rule
   * and servers deny it unless configured otherwise).
   */
  readonly source: "method" | "service" | "default";
  /** Where the rule was declared: proto options, code ({@link RuleResolverOptions.rules}), or nowhere. */
  readonly origin: "proto" | "code" | "none";
}

/** A rule written in code: the fields of `connectauth.v1.AuthRule`, all optional. */
export interface RuleInit {
  readonly public?: boolean;
  readonly allScopes?: readonly string[];
  readonly anyScopes?: readonly string[];
  readonly claims?: readonly ClaimMatch[];
  readonly condition?: string;
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
  const claims = option.claims.map(
    (c): ClaimMatch =>
      c.match.case === "contains" ? { path: c.path, contains: c.match.value } : { path: c.path, equals: c.match.value ?? "" },
  );
  return freezeRule({ ...option, claims }, source, "proto");
});

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
 * silently, so it throws instead. Not checked: the CEL `condition` (`createAuthorization` compiles it).
 *
 * @throws TypeError on `rules` without `services`, a name that is not a listed service or one of its
 * methods (the message names the key and the closest real name), two keys for one name (`a.B/C` and
 * `/a.B/C`), or a malformed rule (empty scopes; a claim without a path, or with both or neither of
 * `equals` and `contains`).
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
    const rule = freezeRule(init, name.includes("/") ? "method" : "service", "code");
    validate(rule, key);
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
  return Object.freeze({
    public: init.public === true,
    allScopes: Object.freeze([...(init.allScopes ?? [])]),
    anyScopes: Object.freeze([...(init.anyScopes ?? [])]),
    claims: Object.freeze((init.claims ?? []).map((c) => Object.freeze({ ...c }))),
    condition: init.condition === undefined || init.condition.trim() === "" ? undefined : init.condition,
    source,
    origin,
  }) as EffectiveRule;
}

function validate(rule: EffectiveRule, key: string): void {
  const strings = (list: readonly unknown[]) => list.every((s) => typeof s === "string" && s !== "");
  if (!strings(rule.allScopes) || !strings(rule.anyScopes)) {
    throw new TypeError(`createRuleResolver: the scopes of "${key}" must be non-empty strings`);
  }
  for (const c of rule.claims) {
    const ok = typeof c.path === "string" && c.path !== "" && (typeof c.equals === "string") !== (typeof c.contains === "string");
    if (!ok) {
      throw new TypeError(`createRuleResolver: a claim of "${key}" needs a path and exactly one of equals, contains`);
    }
  }
}
