// The example server as users start it (`npm run serve -- --port 0 …`): serve.ts in its own process,
// through tsx, found by the "listening on" line it prints.
//
//   after(stopAllServed);
//   const served = await serve(["--dpop", "required"], /^tokens bound to your key: /m);
//   … served.url, served.output() …
//   assert.equal(await served.stop(), 0);
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** A serve.ts process: its URL (from its "listening on" line) and everything it printed. */
export interface Served {
  readonly url: string;
  /** All it printed so far, stdout and stderr interleaved. */
  readonly output: () => string;
  /** Sends SIGTERM and resolves with its exit code. */
  stop(): Promise<number | null>;
}

const running = new Set<ChildProcess>();

/** Kills (SIGTERM) every serve.ts process not stopped yet: for a suite's `after`. */
export function stopAllServed(): void {
  for (const child of running) child.kill("SIGTERM");
}

/**
 * Runs `npm run serve -- --port 0 <args>` as its own process until stopped; resolves once it printed
 * where it listens and `ready` matches its output (the last line it prints at start). Rejects if it
 * exits first, or has not within 30 s. Not checked: what it printed before (read `output()`).
 */
export function serve(args: readonly string[], ready: RegExp): Promise<Served> {
  const child = spawn(process.execPath, ["--import", "tsx", "packages/example/src/serve.ts", "--port", "0", ...args], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (t: string) => (output += t));
  child.stderr.setEncoding("utf8").on("data", (t: string) => (output += t));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve.ts did not say where it listens: ${output}`)), 30_000);
    const look = () => {
      const url = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(output)?.[1];
      if (url === undefined || !ready.test(output)) return;
      clearTimeout(timer);
      child.stdout.off("data", look);
      resolve({
        url,
        output: () => output,
        stop: async () => {
          child.kill("SIGTERM");
          const code = await exited;
          running.delete(child);
          return code;
        },
      });
    };
    child.stdout.on("data", look);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve.ts exited (${code}) before listening: ${output}`));
    });
  });
}

/** How a process that ran to its end ended: its exit code and what it printed. */
export interface Exited {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs serve.ts with args that make it exit (bad flags: exit 2), and returns how it ended. */
export function serveUntilExit(args: readonly string[]): Promise<Exited> {
  return runToEnd(["packages/example/src/serve.ts", "--port", "0", ...args], process.env, "pipe");
}

/**
 * Runs `npm start` (demo.ts) as its own process with `env` until it exits; its stderr goes to the test's
 * (`stderr` is then empty).
 */
export function npmStart(env: NodeJS.ProcessEnv = process.env): Promise<Exited> {
  return runToEnd(["packages/example/src/demo.ts"], env, "inherit");
}

function runToEnd(args: readonly string[], env: NodeJS.ProcessEnv, stderr: "pipe" | "inherit"): Promise<Exited> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", ...args], {
      cwd: repoRoot,
      env,
      stdio: ["ignore", "pipe", stderr],
    });
    const out = { stdout: "", stderr: "" };
    child.stdout?.setEncoding("utf8").on("data", (t: string) => (out.stdout += t));
    child.stderr?.setEncoding("utf8").on("data", (t: string) => (out.stderr += t));
    child.once("exit", (code) => resolve({ code, ...out }));
  });
}
