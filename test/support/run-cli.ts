// Runs the connectauth command as a user does: in-process with captured output (the same `run` the bin
// calls), as a command that runs until stopped (`connectauth dev`), or as a real process.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { run } from "../../packages/cli/src/run.js";

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** The command's environment (also that of the programs it runs, e.g. buf). Default: empty. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Whether stdout claims to be a terminal. Default false. */
  readonly tty?: boolean;
  /** The working directory. Default: this process's. */
  readonly cwd?: string;
  /** Stops a long-running command. */
  readonly signal?: AbortSignal;
}

export async function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const out = { stdout: "", stderr: "" };
  const code = await run(args, ioOf(out, options));
  return { code, ...out };
}

function ioOf(out: { stdout: string; stderr: string }, options: CliOptions) {
  return {
    stdout: { write: (t: string) => (out.stdout += t), isTTY: options.tty ?? false } as { write(t: string): unknown },
    stderr: { write: (t: string) => (out.stderr += t) },
    env: options.env ?? {},
    cwd: options.cwd,
    signal: options.signal,
  };
}

/** A command that runs until stopped: what it printed so far, and `stop()` (aborts its signal). */
export interface RunningCli {
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves once stdout matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<CliResult>;
}

/** Starts `connectauth <args>` (e.g. `dev`) in-process, stopped by `stop()` as Ctrl-C stops it. */
export function startCli(args: readonly string[], options: Omit<CliOptions, "signal"> = {}): RunningCli {
  const out = { stdout: "", stderr: "" };
  const controller = new AbortController();
  let finished: CliResult | undefined;
  const done = run(args, ioOf(out, { ...options, signal: controller.signal })).then((code) => (finished = { code, ...out }));
  return {
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    async waitFor(pattern, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (!pattern.test(out.stdout)) {
        if (finished !== undefined)
          throw new Error(`the command ended (${finished.code}) without printing ${pattern}: ${out.stderr}`);
        if (Date.now() > until) throw new Error(`timed out waiting for ${pattern}; printed: ${out.stdout}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return out.stdout;
    },
    async stop() {
      controller.abort();
      return done;
    },
  };
}

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** Runs `connectauth <args>` as a real process (packages/cli/src/main.ts through tsx), from the repo root. */
export function spawnCli(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "packages/cli/src/main.ts", ...args],
      { cwd: repoRoot, env: { ...process.env, NO_COLOR: "1" }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : undefined;
        if (code === undefined) reject(error!);
        else resolve({ code, stdout, stderr });
      },
    );
  });
}

/** `connectauth doctor … --json`, parsed. */
export async function doctorJson(args: readonly string[]) {
  const result = await runCli(["doctor", ...args, "--json"]);
  return { ...result, diagnosis: JSON.parse(result.stdout) as import("../../packages/cli/src/diagnose.js").Diagnosis };
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const net = await import("node:net");
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as import("node:net").AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
