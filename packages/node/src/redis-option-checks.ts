// The checks of the number options of the Redis stores: each throws a TypeError naming the factory
// (`what`) and the option, at construction.

/**
 * @internal A finite number >= 0, or `fallback` when absent.
 *
 * ```ts
 * finiteAtLeast0(options.stalenessSeconds, 30, "stalenessSeconds", "createRedisRevocationList"); // 30
 * ```
 *
 * Not checked: `fallback` itself, or an upper bound.
 */
export function finiteAtLeast0(value: number | undefined, fallback: number, option: string, what: string): number {
  const v = value ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0)
    throw new TypeError(`${what}: ${option} must be a finite number >= 0`);
  return v;
}

/**
 * @internal An integer >= 1, or `fallback` when absent.
 *
 * ```ts
 * integerAtLeast1(options.timeoutMs, 1000, "timeoutMs", "createRedisReplayStore"); // 1000
 * ```
 *
 * Not checked: `fallback` itself, or an upper bound.
 */
export function integerAtLeast1(value: number | undefined, fallback: number, option: string, what: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new TypeError(`${what}: ${option} must be an integer >= 1`);
  return v;
}
