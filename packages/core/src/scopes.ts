/**
 * The claims read as scopes unless told otherwise: `scope` (a space-delimited string, RFC 8693 /
 * RFC 9068; of any other type it grants nothing) and `scp` (an array or a space-delimited string, as
 * Azure AD and Okta send).
 *
 * ```ts
 * scopesFromClaims(claims, [...defaultScopeClaims, "permissions"]);
 * ```
 */
export const defaultScopeClaims: readonly string[] = /* @__PURE__ */ Object.freeze(["scope", "scp"]);

// RFC 9068 §2.2.3 / RFC 8693 §4.2: `scope` is a space-delimited string, never anything else.
const stringOnlyScopeClaim = "scope";

/**
 * Reads the scopes granted by a token's claims, from each of `paths` (default {@link defaultScopeClaims}).
 * A path names a claim, or a claim nested in JSON objects with dots: `permissions` (Auth0),
 * `realm_access.roles` (Keycloak roles). Roles are handled exactly like scopes: a rule's `all_scopes`
 * and `any_scopes` name them too. A claim may be a space-delimited string or an array of strings;
 * values that are not strings are ignored, never coerced.
 *
 * The one exception is the claim named exactly `scope`: RFC 9068 §2.2.3 and RFC 8693 §4.2 define it as
 * a space-delimited string, so a `scope` of any other type (an array, a number, an object) grants
 * nothing. `scp` and custom paths keep taking arrays, as issuers send them.
 *
 * ```ts
 * scopesFromClaims({ scope: "greet admin" }); // Set { "greet", "admin" }
 * scopesFromClaims({ scope: ["admin"], scp: ["greet"] }); // Set { "greet" }: scope is a string or nothing
 * scopesFromClaims({ realm_access: { roles: ["ops"] } }, ["scope", "realm_access.roles"]); // Set { "ops" }
 * ```
 *
 * Not checked: where the claims come from (verify the token first), nor whether a scope is one your
 * rules know.
 */
export function scopesFromClaims(
  claims: Readonly<Record<string, unknown>>,
  paths: readonly string[] = defaultScopeClaims,
): Set<string> {
  const scopes = new Set<string>();
  for (const path of paths) {
    const value = claimAt(claims, path);
    if (path === stringOnlyScopeClaim && typeof value !== "string") continue;
    addScopes(scopes, value);
  }
  return scopes;
}

/**
 * The value of a claim found by a dot-separated path (`tenant`, `realm_access.roles`), or `undefined`
 * when any step is missing or not a JSON object. A claim whose own name holds a dot (as namespaced
 * Auth0 claims such as `https://example.com/roles` do) is found by its whole name first.
 *
 * ```ts
 * claimAt({ realm_access: { roles: ["ops"] } }, "realm_access.roles"); // ["ops"]
 * ```
 */
export function claimAt(claims: Readonly<Record<string, unknown>>, path: string): unknown {
  if (Object.hasOwn(claims, path)) {
    return claims[path];
  }
  let value: unknown = claims;
  for (const name of path.split(".")) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
    if (!Object.hasOwn(value, name)) return undefined;
    value = (value as Record<string, unknown>)[name];
  }
  return value;
}

/**
 * Adds the scopes of one claim value (a space-delimited string or an array of strings) to `into`.
 * Plumbing for our own packages (`@connectauth/core/protocol`): apps read scopes with
 * {@link scopesFromClaims}.
 *
 * ```ts
 * const scopes = new Set<string>();
 * addScopes(scopes, "greet admin"); // Set { "greet", "admin" }
 * ```
 *
 * Not checked: where the value comes from; other types add nothing.
 */
export function addScopes(into: Set<string>, value: unknown): void {
  if (typeof value === "string") {
    for (const s of value.split(" ")) if (s !== "") into.add(s);
  } else if (Array.isArray(value)) {
    for (const s of value) if (typeof s === "string" && s !== "") into.add(s);
  }
}

/** What a caller's scopes must satisfy. */
export interface ScopeRequirement {
  /** Every one of these must be granted. */
  readonly allScopes: readonly string[];
  /** At least one of these must be granted, unless the list is empty. */
  readonly anyScopes: readonly string[];
}

/** What {@link scopeDifference} finds: what a token must carry, and what the caller lacks of it. */
export interface ScopeDifference {
  /**
   * The scopes a token must carry to meet the requirement (for the `scope` of an `insufficient_scope`
   * challenge): all of `allScopes`, and all of `anyScopes` when none of them is granted.
   */
  readonly required: readonly string[];
  /**
   * The scopes the caller lacks, in the order the requirement names them: the missing `allScopes`,
   * then, when none of `anyScopes` is granted, all of `anyScopes` (each scope once). Empty exactly
   * when the requirement is met.
   */
  readonly missing: readonly string[];
}

const nothing: readonly string[] = /* @__PURE__ */ Object.freeze([]);

/**
 * Compares a scope requirement (a rule's `allScopes` and `anyScopes`) with the scopes granted: what
 * is required and what is missing. The one scope check of the server.
 *
 * ```ts
 * scopeDifference({ allScopes: ["admin", "greet"], anyScopes: [] }, new Set(["greet"]));
 * // { required: ["admin", "greet"], missing: ["admin"] }
 * ```
 *
 * Not checked: whether the requirement applies at all (a public method needs nothing: see
 * `requiredScopesOf`), nor where the granted scopes come from.
 */
export function scopeDifference(requirement: ScopeRequirement, granted: ReadonlySet<string>): ScopeDifference {
  const { allScopes, anyScopes } = requirement;
  let missing: string[] | undefined; // allocated only when something is missing
  for (const s of allScopes) {
    if (granted.has(s)) continue;
    missing ??= [];
    missing.push(s);
  }
  const anyMet = anyScopes.length === 0 || anyScopes.some((s) => granted.has(s));
  if (anyMet) return { required: allScopes, missing: missing ?? nothing };
  missing ??= [];
  for (const s of anyScopes) if (!missing.includes(s)) missing.push(s);
  return { required: [...allScopes, ...anyScopes], missing };
}
