// npm run bench:instructions — costs per call in machine instructions, counted by valgrind's callgrind:
// the same count on every run of the same build, whatever else the machine does (CPU time here moves by
// ±30%). Not part of `npm run bench`: about two minutes under valgrind.
//
// instructions-target.ts is bundled once with esbuild and run under callgrind with n and 2n calls; the
// difference divided by n is the cost of one call, start-up and warm-up cancelling out. Side by side:
// the server's auth layer against the same loop without auth, and the client interceptor against a
// hand-written one that only sets the header.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";

const run = promisify(execFile);
const n = 10_000;
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
  /** Instructions of a whole run of the target with `calls` calls. */
  const count = async (calls: number, mode: string): Promise<number> => {
    const args = [
      "--tool=callgrind",
      "--callgrind-out-file=/dev/null",
      process.execPath,
      "--single-threaded",
      bundle,
      String(calls),
      mode,
    ];
    const { stderr } = await run("valgrind", args, { maxBuffer: 1 << 24 });
    const refs = /refs:\s+([\d,]+)/.exec(stderr)?.[1];
    if (refs === undefined) throw new Error(`valgrind printed no instruction count:\n${stderr}`);
    return Number(refs.replaceAll(",", ""));
  };
  const perCall = async (mode: string) => ((await count(2 * n, mode)) - (await count(n, mode))) / n;
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
