// npm run bench:instructions — costs per call in machine instructions, counted by valgrind's callgrind:
// about the same count on every run of the same build, whatever else the machine does (CPU time here
// moves by ±30%). Not part of `npm run bench`: about a minute under valgrind.
//
// instructions-target.ts is bundled once with esbuild and run under callgrind: a warm-up (its
// optimizing compiles done), a full GC, then `n` calls between two marks, at which this reads
// callgrind's counter (callgrind_control -e); the difference divided by n is the cost of one warm
// call, with no start-up, compile or warm-up in it. Every loop gets the same token and keys, and fixed
// V8 seeds (what otherwise moved the count by thousands per call between runs). Side by side: the
// server's auth layer against the same loop without auth, and the client interceptor against a
// hand-written one that only sets the header.
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { createDevIssuer } from "@connectauth/node/dev";

const run = promisify(execFile);
const [warmUp, n] = [20_000, 10_000];
const dir = mkdtempSync(join(tmpdir(), "connectauth-instructions-"));
try {
  const bundle = join(dir, "target.mjs");
  await build({
    entryPoints: [fileURLToPath(new URL("./instructions-target.ts", import.meta.url))],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile: bundle,
    // The bundle's CommonJS dependencies need require().
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    logLevel: "warning",
  });
  const issuer = await createDevIssuer({ issuer: "https://issuer.bench", audience: "greeter" });
  const token = await issuer.mint({ subject: "alice", scopes: ["greet"], ttlSeconds: 3600 });
  const fixture = join(dir, "fixture.json");
  writeFileSync(
    fixture,
    JSON.stringify({ issuer: { issuer: issuer.issuer, audience: issuer.audience, jwks: issuer.jwks }, token }),
  );
  /** The instructions callgrind has counted so far in the process `pid`, every thread. */
  const counted = async (pid: number): Promise<number> => {
    const { stdout } = await run("callgrind_control", ["-e", String(pid)]);
    const threads = [...stdout.matchAll(/^\s*Th\s*\d+\s+([\d,]+)\s*$/gm)].map((m) => Number(m[1]!.replaceAll(",", "")));
    if (threads.length === 0) throw new Error(`callgrind_control printed no counter:\n${stdout}`);
    return threads.reduce((a, b) => a + b, 0);
  };
  /** Instructions of one warm call of the loop `mode`: counted between the target's two marks. */
  const perCall = async (mode: string): Promise<number> => {
    const args = [
      "--tool=callgrind",
      "--callgrind-out-file=/dev/null",
      process.execPath,
      "--single-threaded",
      // V8's random numbers and string hashes, otherwise new in each run.
      "--random-seed=1",
      "--hash-seed=1",
      "--expose-gc",
      bundle,
      String(warmUp),
      String(n),
      mode,
      fixture,
    ];
    const child = spawn("valgrind", args, { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const marks: number[] = [];
    for await (const line of createInterface({ input: child.stdout })) {
      if (line !== "mark") continue;
      marks.push(await counted(child.pid!));
      child.stdin.write("\n");
    }
    const code = await exited;
    if (code !== 0 || marks.length !== 2) throw new Error(`the ${mode} loop failed (exit ${code}):\n${stderr}`);
    return (marks[1]! - marks[0]!) / n;
  };
  // Two cores: two loops at a time.
  const [server, none] = await Promise.all([perCall("server"), perCall("server-none")]);
  const [client, handWritten] = await Promise.all([perCall("client"), perCall("client-hand-written")]);
  const round = (x: number) => Math.round(x).toLocaleString("en");
  console.log(`server auth layer (gate + interceptor, JWT, warm cache): ${round(server - none)} instructions per call`);
  console.log(`  the loop with auth ${round(server)}, without ${round(none)}`);
  console.log(`client interceptor (static token) ÷ hand-written header interceptor: ${(client / handWritten).toFixed(2)}`);
  console.log(`  connectauth ${round(client)}, hand-written ${round(handWritten)} instructions per call`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
