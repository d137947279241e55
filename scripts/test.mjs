// npm test: generated code up to date, buf lint, Biome (lint and format), type checks (packages and tests),
// then every test with node's test runner through tsx. Extra arguments are passed to `node --test` (e.g. a
// file to run alone: `npm test -- test/interop/e2e.test.ts`); such a run skips the checks but still builds
// first (`tsc -b`, quick when nothing changed), because tests import @connectauth/* from packages/*/dist and
// must never run against a stale build.
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const step = (title, command, args) => {
  console.log(`\n# ${title}: ${command} ${args.join(" ")}`);
  execFileSync(command, args, { stdio: "inherit" });
};

const extra = process.argv.slice(2);
if (extra.length === 0) {
  step("generated code is current", "node", ["scripts/generate.mjs", "--check"]);
  step("proto lint", "buf", ["lint"]);
  step("lint and format (biome.jsonc)", "biome", ["check", "--error-on-warnings", "."]);
}
step("build (isomorphic packages with types: [])", "tsc", ["-b"]);
if (extra.length === 0) step("type-check tests", "tsc", ["-p", "tsconfig.test.json"]);

const files = extra.length > 0 ? extra : [...findTests("packages"), ...findTests("test")];
console.log(`\n# ${files.length} test files`);
const result = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-reporter=spec", ...files], {
  stdio: "inherit",
  env: { ...process.env, NODE_ENV: "test" },
});
process.exit(result.status ?? 1);

function findTests(dir) {
  const out = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.name === "node_modules" || entry.name === "dist" || entry.name === "gen") continue;
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith(".test.ts")) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}
