/**
 * One comparison of `npm run bench`: two things measured side by side in one run, and their ratio.
 * `ratio` is oriented so that the name says what it means, e.g. "cache hit speedup vs raw jose: 80.5×".
 */
export interface BenchResult {
  readonly name: string;
  readonly ratio: number;
  /** What A was and its measurement, e.g. "cache hit 1.2 µs/op". */
  readonly a: string;
  /** What B was and its measurement. */
  readonly b: string;
  /** An optional target the ratio should meet, e.g. ">= 50". Printed, never asserted here. */
  readonly target?: string;
}

/** Options every bench module receives. */
export interface BenchOptions {
  /** Few iterations: a smoke run for CI, not numbers to quote. */
  readonly quick: boolean;
}

/** A bench module: `bench/<name>.bench.ts` default-exports one of these. */
export type BenchModule = (options: BenchOptions) => Promise<BenchResult[]>;
