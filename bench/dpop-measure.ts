// The server process of dpop.bench.ts (dpop-target.ts) and what it serves: started with the client key's
// thumbprint, it answers the CPU questions of server-measure.ts's cpuPerCall and authShare.
import { type ServerProcess, forkServer } from "./server-measure.js";

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
export interface DpopTarget extends DpopTargets, ServerProcess {}

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
export function startDpopTarget(jkt: string): Promise<DpopTarget> {
  return forkServer<DpopTargets>(new URL("./dpop-target.ts", import.meta.url), [jkt], "the DPoP server process");
}
