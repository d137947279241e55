// Measuring helpers of the server benches: the server process (server-call-target.ts) and what it serves, calls with N in
// flight, server CPU per call, side-by-side rounds, per-operation time.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type CpuShare, startCpuShare } from "./cpu-share.js";

/** The servers compared, in the order they are reported. */
export const variants = ["none", "connectauth", "jose", "fast-jwt"] as const;
export type Variant = (typeof variants)[number];

/** What the child sends once listening: base URLs by variant, and a token all of them accept. */
export interface Targets {
  /** connectauth over HTTP/2 (kept for server-call.bench.ts). */
  readonly secured: string;
  /** No auth over HTTP/2. */
  readonly open: string;
  readonly h2: Record<Variant, string>;
  readonly h1: Record<Variant, string>;
  readonly token: string;
}

/** Microseconds per operation of `op`, run `n` times in sequence. */
export async function perOp(n: number, op: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < n; i++) await op();
  return ((performance.now() - start) * 1000) / n;
}

/**
 * Runs every measurement once per round, in a rotating order (so that none always runs first), and
 * keeps the least (least disturbed) value of each field of each: on a shared machine, noise only ever
 * adds time.
 */
export async function bestOf<M extends Record<string, number>>(
  rounds: number,
  measures: readonly (() => Promise<M>)[],
): Promise<M[]> {
  const best: (M | undefined)[] = measures.map(() => undefined);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < measures.length; k++) {
      const i = (k + r) % measures.length;
      const m = await measures[i]!();
      const prev = best[i];
      best[i] = prev === undefined ? m : (Object.fromEntries(Object.keys(m).map((f) => [f, Math.min(prev[f]!, m[f]!)])) as M);
    }
  }
  return best as M[];
}

/** {@link bestOf} for two numbers: A B, then B A, … */
export async function sideBySide(
  rounds: number,
  a: () => Promise<number>,
  b: () => Promise<number>,
): Promise<{ a: number; b: number }> {
  const [x, y] = await bestOf(rounds, [async () => ({ v: await a() }), async () => ({ v: await b() })]);
  return { a: x!.v, b: y!.v };
}

/** Makes `calls` calls with `concurrency` in flight; returns the number of calls. */
export async function load(calls: number, concurrency: number, call: () => Promise<unknown>): Promise<number> {
  let started = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started++ < calls) await call();
    }),
  );
  return calls;
}

/** A bench's server process, forked by `forkServer`: what the parent may ask of it. */
export interface ServerProcess {
  /** The server process's CPU time so far (every thread), µs. */
  cpu(): Promise<number>;
  /** The server's main-thread CPU samples while `run` runs, and how many of them were in the auth layer. */
  cpuShare(run: () => Promise<unknown>): Promise<CpuShare>;
  close(): void;
}

/** The server process of server-call-target.ts. */
export interface Target extends Targets, ServerProcess {}

export function startTarget(): Promise<Target> {
  return forkServer<Targets>(new URL("./server-call-target.ts", import.meta.url), [], "the server process");
}

/**
 * Forks the server module `file` (through tsx) with `args`, and resolves once it sent what it serves
 * (`T`, from `answerParent`); rejects if it ends first, naming `what`.
 *
 * ```ts
 * const target = await forkServer<DpopTargets>(new URL("./dpop-target.ts", import.meta.url), [jkt], "the DPoP server process");
 * ```
 *
 * Not checked: that the message it sends is a `T`.
 */
export async function forkServer<T extends object>(file: URL, args: string[], what: string): Promise<T & ServerProcess> {
  const child = fork(fileURLToPath(file), args, {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const ready = await new Promise<T>((resolve, reject) => {
    child.once("message", (m) => resolve(m as T));
    child.once("exit", () => reject(new Error(`bench: ${what} ended`)));
  });
  const ask = (message: string) =>
    new Promise<unknown>((resolve) => {
      child.once("message", resolve);
      child.send(message);
    });
  return {
    ...ready,
    async cpu() {
      const u = (await ask("cpu")) as { user: number; system: number };
      return u.user + u.system;
    },
    async cpuShare(run) {
      await ask("profile-start");
      await run();
      return (await ask("profile-stop")) as CpuShare;
    },
    close: () => child.kill(),
  };
}

/**
 * In a server process forked by `forkServer`: sends `targets` (what it serves) to the parent, then
 * answers its questions: "cpu", "profile-start", "profile-stop", "exit".
 */
export function answerParent(targets: object): void {
  let stopProfile: (() => Promise<CpuShare>) | undefined;
  process.on("message", async (m) => {
    if (m === "cpu") process.send!(process.cpuUsage());
    if (m === "profile-start") {
      stopProfile = await startCpuShare(50);
      process.send!("profiling");
    }
    if (m === "profile-stop") process.send!(await stopProfile!());
    if (m === "exit") process.exit(0);
  });
  process.send!(targets);
}

/** Server CPU µs per call while `run` makes calls (and returns how many). */
export async function cpuPerCall(target: Pick<Target, "cpu">, run: () => Promise<number>): Promise<number> {
  const before = await target.cpu();
  const calls = await run();
  return ((await target.cpu()) - before) / calls;
}

/**
 * The auth layer's share of the server's CPU while `run` makes calls, from a sampling profile of the
 * server (cpu-share.ts), with the garbage collector's samples left out of both sides (the auth layer
 * is assumed to make garbage at the rate of the rest). A no-auth server doing the same calls would
 * spend `1 - share` of the CPU: the authenticated ÷ no-auth CPU per call is `1 / (1 - share)`.
 *
 * The share of one window moves by about ±20% (the garbage collector and the JIT do not fall alike in
 * every window), so `windows` windows are profiled and the median kept; the text gives the range.
 */
export async function authShare(
  target: Pick<Target, "cpuShare">,
  run: () => Promise<unknown>,
  windows = 1,
): Promise<{ share: number; text: string }> {
  const shares: number[] = [];
  let samples = 0;
  for (let w = 0; w < windows; w++) {
    const s = await target.cpuShare(run);
    shares.push(s.auth / Math.max(1, s.busy - s.gc));
    samples += s.busy - s.gc;
  }
  shares.sort((a, b) => a - b);
  const share = shares[(shares.length - 1) >> 1]!;
  const percent = (x: number) => `${(x * 100).toFixed(2)}%`;
  const range = windows === 1 ? "" : ` (median of ${windows} windows, ${percent(shares[0]!)}–${percent(shares.at(-1)!)})`;
  return { share, text: `${percent(share)} of ${samples} samples${range}` };
}
