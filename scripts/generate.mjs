// Regenerates the code of every schema under proto/, each into the package that owns it.
// Usage: node scripts/generate.mjs [--check]   (--check fails if regenerating changed any file)
import { execFileSync } from "node:child_process";

/** Which schemas each package owns. buf.gen.yaml writes them to <out>/gen. */
const targets = [
  { paths: ["proto/connectauth", "proto/google"], out: "packages/core/src" },
  { paths: ["proto/example"], out: "packages/example/src" },
];

const check = process.argv.includes("--check");
const gitStatus = () =>
  execFileSync("git", ["status", "--porcelain", "--", ...targets.map((t) => `${t.out}/gen`)], {
    encoding: "utf8",
  });
const before = check ? gitStatus() : "";

for (const { paths, out } of targets) {
  const args = ["generate", ...paths.flatMap((p) => ["--path", p]), "-o", out];
  execFileSync("buf", args, { stdio: "inherit" });
}

if (check) {
  const after = gitStatus();
  if (after !== before) {
    console.error("Generated code is out of date: run `npm run generate` and commit the result.\n" + after);
    process.exit(1);
  }
  const diff = execFileSync("git", ["diff", "--stat", "--", ...targets.map((t) => `${t.out}/gen`)], {
    encoding: "utf8",
  });
  if (diff.trim() !== "") {
    console.error("Generated code is out of date: run `npm run generate` and commit the result.\n" + diff);
    process.exit(1);
  }
}
