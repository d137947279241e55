// npm run bench [-- --json] [-- --quick] [-- name-filter]
// Runs every bench/*.bench.ts module in turn and prints one line per comparison:
//   name: ratio (A … vs B …)
// or, with --json, one JSON array of { name, ratio, a, b, target? }.
import { readdirSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";
import type { BenchModule, BenchResult } from "./result.js";

const args = process.argv.slice(2);
const json = args.includes("--json");
const quick = args.includes("--quick");
const filters = args.filter((a) => !a.startsWith("--"));

const dir = dirname(fileURLToPath(import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

const all: BenchResult[] = [];
for (const file of files) {
  const mod = (await import(pathToFileURL(join(dir, file)).href)) as { default: BenchModule };
  const started = performance.now();
  const results = await mod.default({ quick });
  if (!json) console.log(`# ${file}: ${((performance.now() - started) / 1000).toFixed(0)} s`);
  for (const r of results) {
    all.push(r);
    if (!json) {
      const target = r.target === undefined ? "" : ` [target ${r.target}]`;
      console.log(`${r.name}: ${r.ratio.toFixed(2)} (${r.a} vs ${r.b})${target}`);
    }
  }
}
if (json) console.log(JSON.stringify(all, null, 2));
