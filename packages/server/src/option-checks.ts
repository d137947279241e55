// The checks of numbers and lists in the options of the JWT authenticators and key sources: each
// throws a TypeError naming the factory (`what`) and the option, at construction.

/**
 * @internal A required string or list of strings, as a list: empty strings and an empty list throw.
 *
 * ```ts
 * nonEmptyList("greeter", "audience", "createJwtAuthenticator"); // ["greeter"]
 * ```
 *
 * Not checked: duplicates, or what the strings mean.
 */
export function nonEmptyList(value: string | readonly string[] | undefined, option: string, what: string): string[] {
  const list = typeof value === "string" ? [value] : [...(value ?? [])];
  if (list.length === 0 || list.some((v) => typeof v !== "string" || v === "")) {
    throw new TypeError(`${what}: ${option} is required (a non-empty string or list of strings)`);
  }
  return list;
}

/**
 * @internal A finite number >= 0 (not only an integer), or `fallback` when absent.
 *
 * ```ts
 * nonNegative(options.clockToleranceSeconds, 30, "clockToleranceSeconds", what); // 30
 * ```
 *
 * Not checked: `fallback` itself.
 */
export function nonNegative(value: number | undefined, fallback: number, option: string, what: string): number {
  const v = value ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw new TypeError(`${what}: ${option} must be a finite number >= 0`);
  }
  return v;
}

/**
 * @internal An integer >= `min` (0 or 1), or `fallback` when absent.
 *
 * ```ts
 * integerAtLeast(1, options.maxTokenLength, 8192, "maxTokenLength", what); // 8192
 * integerAtLeast(0, remote.failureBackoff, 1000, "failureBackoff", what); // 1000
 * ```
 *
 * Not checked: an upper bound.
 */
export function integerAtLeast(min: 0 | 1, value: number | undefined, fallback: number, option: string, what: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min) throw new TypeError(`${what}: ${option} must be an integer >= ${min}`);
  return v;
}
