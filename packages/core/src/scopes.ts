/**
 * Reads the scopes granted by a token's claims: `scope` (a space-delimited string, RFC 8693 / RFC 9068)
 * and `scp` (an array or a space-delimited string, as Azure AD and Okta send). Values that are not
 * strings are ignored, never coerced.
 *
 * ```ts
 * scopesFromClaims({ scope: "greet admin" }); // Set { "greet", "admin" }
 * ```
 */
export function scopesFromClaims(claims: Readonly<Record<string, unknown>>): Set<string> {
  const scopes = new Set<string>();
  addScopes(scopes, claims["scope"]);
  addScopes(scopes, claims["scp"]);
  return scopes;
}

/** Adds the scopes of one claim value (a space-delimited string or an array of strings). */
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

/**
 * The scopes a caller lacks to satisfy a requirement, in the order the requirement names them: the
 * missing `allScopes`, then, when none of `anyScopes` is granted, all of `anyScopes`. Empty when the
 * requirement is met.
 *
 * ```ts
 * missingScopes({ allScopes: ["admin", "greet"], anyScopes: [] }, new Set(["greet"])); // ["admin"]
 * ```
 */
export function missingScopes(requirement: ScopeRequirement, granted: ReadonlySet<string>): string[] {
  const missing = requirement.allScopes.filter((s) => !granted.has(s));
  if (requirement.anyScopes.length > 0 && !requirement.anyScopes.some((s) => granted.has(s))) {
    missing.push(...requirement.anyScopes.filter((s) => !missing.includes(s)));
  }
  return missing;
}
