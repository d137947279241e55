// The server process of dpop.bench.ts (dpop-target.ts) and what it serves: started with the client key's
// thumbprint, it answers the CPU questions of server-measure.ts's cpuPerCall and authShare.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { CpuShare } from "./cpu-share.js";

/** The servers of dpop-target.ts, in the order dpop.bench.ts measures them. */
export const dpopVariants = ["bearer", "dpop", "jose-dpop"] as const;
export type DpopVariant = (typeof dpopVariants)[number];

/** What the child sends once listening: a base URL per server, a bearer token, and the bound token. */
export interface DpopTargets {
  /** HTTP/2 cleartext base URLs: connectauth bearer, connectauth DPoP required, hand-written jose DPoP. */
  readonly url: Record<DpopVariant, string>;
  /** A token with no `cnf`, for the bearer server. */
  readonly bearerToken: string;
  /** A token bound to the client's key (`cnf.jkt`), for both DPoP servers. */
  readonly boundToken: string;
}

/** The running server process of dpop-target.ts. */
export interface DpopTarget extends DpopTargets {
  /** The server process's CPU time so far (every thread), µs. */
  cpu(): Promise<number>;
  /** The server's main-thread CPU samples while `run` runs, and how many of them were in the auth layer. */
  cpuShare(run: () => Promise<unknown>): Promise<CpuShare>;
  close(): void;
}

/**
 * Starts dpop-target.ts in a child process, whose bound token carries `jkt` as its `cnf.jkt`.
 *
 * ```ts
 * const target = await startDpopTarget(await prover.jkt());
 * const perCall = await cpuPerCall(target, () => load(1000, 64, call));
 * target.close();
 * ```
 *
 * Not checked: that `jkt` is a thumbprint (a token bound to anything else is refused by both DPoP servers).
 */
export async function startDpopTarget(jkt: string): Promise<DpopTarget> {
  const child = fork(fileURLToPath(new URL("./dpop-target.ts", import.meta.url)), [jkt], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const ready = await new Promise<DpopTargets>((resolve, reject) => {
    child.once("message", (m) => resolve(m as DpopTargets));
    child.once("exit", () => reject(new Error("bench: the DPoP server process ended")));
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
