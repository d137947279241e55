// The share of a server process's CPU spent in the auth layer, from a sampling CPU profile of the process
// under load: a ratio of samples of one process in one window, so the machine's noise, which moves both
// the numerator and the denominator alike, cancels out. Run in the server process (server-call-target.ts).
import { Session } from "node:inspector/promises";

/** Sample counts of one profiled window. */
export interface CpuShare {
  /** Samples whose innermost package-level frame is auth code (connectauth, jose, fast-jwt, the bench's interceptors). */
  readonly auth: number;
  /** Samples in the garbage collector. */
  readonly gc: number;
  /** Samples not idle: the process's CPU work. */
  readonly busy: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly children?: readonly number[];
}

// Auth code: connectauth's packages (through the workspace links, or installed), what they verify with,
// the verifiers compared against, and the bench target's own hand-written interceptors.
const authCode =
  /\/packages\/(server|core)\/|\/node_modules\/(@connectauth|jose|@noble|@bufbuild\/cel|fast-jwt)\/|\/bench\/(server-call|dpop)-target\.ts/;

/**
 * Starts a sampling profile; the returned function stops it and counts the samples. A sample counts as
 * auth when, walking from the leaf up, the first frame of a package (not Node's own `node:` code nor a
 * builtin) is auth code: a header lookup made by the gate is the gate's, while the handler called through
 * an auth interceptor's `next` is the handler's.
 *
 * ```ts
 * const stop = await startCpuShare(50);
 * await serveSomeCalls();
 * const { auth, busy } = await stop(); // auth / busy: the auth layer's share of the CPU
 * ```
 */
export async function startCpuShare(intervalMicros: number): Promise<() => Promise<CpuShare>> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: intervalMicros });
  await session.post("Profiler.start");
  return async () => {
    const { profile } = (await session.post("Profiler.stop")) as unknown as {
      profile: { nodes: ProfileNode[]; samples: number[] };
    };
    session.disconnect();
    const parent = new Map<number, ProfileNode>();
    const byId = new Map<number, ProfileNode>();
    for (const node of profile.nodes) {
      byId.set(node.id, node);
      for (const child of node.children ?? []) parent.set(child, node);
    }
    const kind = new Map<number, "auth" | "other" | "gc" | "idle">();
    const classify = (node: ProfileNode): "auth" | "other" | "gc" | "idle" => {
      const name = node.callFrame.functionName;
      if (name === "(idle)") return "idle";
      if (name === "(garbage collector)") return "gc";
      for (let n: ProfileNode | undefined = node; n !== undefined; n = parent.get(n.id)) {
        const url = n.callFrame.url;
        if (url === "" || url.startsWith("node:")) continue;
        return authCode.test(url) ? "auth" : "other";
      }
      return "other";
    };
    let auth = 0;
    let gc = 0;
    let busy = 0;
    for (const id of profile.samples) {
      let k = kind.get(id);
      if (k === undefined) {
        k = classify(byId.get(id)!);
        kind.set(id, k);
      }
      if (k === "idle") continue;
      busy++;
      if (k === "auth") auth++;
      if (k === "gc") gc++;
    }
    return { auth, gc, busy };
  };
}
