// Measuring helpers of the server benches: side-by-side rounds, per-operation time.

/** Microseconds per operation of `op`, run `n` times in sequence. */
export async function perOp(n: number, op: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < n; i++) await op();
  return ((performance.now() - start) * 1000) / n;
}

/**
 * Alternates A and B for `rounds` rounds (A B, then B A, so that neither always runs first) and keeps
 * the least (least disturbed) value of each: on a shared machine, noise only ever adds time.
 */
export async function sideBySide(
  rounds: number,
  a: () => Promise<number>,
  b: () => Promise<number>,
): Promise<{ a: number; b: number }> {
  let bestA = Infinity;
  let bestB = Infinity;
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      bestA = Math.min(bestA, await a());
      bestB = Math.min(bestB, await b());
    } else {
      bestB = Math.min(bestB, await b());
      bestA = Math.min(bestA, await a());
    }
  }
  return { a: bestA, b: bestB };
}
