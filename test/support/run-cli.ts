// Runs the connectauth command in-process with captured output (the same `run` the bin calls).
import { run } from "../../packages/cli/src/run.js";

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(args: readonly string[], options: { env?: Record<string, string>; tty?: boolean } = {}): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await run(args, {
    stdout: { write: (t: string) => (stdout += t), isTTY: options.tty ?? false } as { write(t: string): unknown },
    stderr: { write: (t: string) => (stderr += t) },
    env: options.env ?? {},
  });
  return { code, stdout, stderr };
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
