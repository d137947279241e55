// Regenerates the code of every schema under proto/, each into the package that owns it, and copies the
// schemas that @connectauth/core ships (packages/core/proto/, for users' own protos to import).
// Usage: node scripts/generate.mjs [--check]   (--check fails if regenerating changed any file)
import { execFileSync } from "node:child_process";
import { cpSync, rmSync } from "node:fs";

/** Which schemas each package owns. buf.gen.yaml writes them to <out>/gen. */
const targets = [
  { paths: ["proto/connectauth", "proto/google"], out: "packages/core/src" },
  { paths: ["proto/example"], out: "packages/example/src" },
  // gRPC's standard health service (proto/grpc/health/v1, vendored as upstream has it), served by
  // @connectauth/server's createHealthService.
  { paths: ["proto/grpc"], out: "packages/server/src" },
  // The unit tests' own service, one copy per package that tests with it, under src/test-support (which
  // each package's tsconfig excludes from the build and its package.json "files" from the tarball).
  ...["core", "client", "server", "node"].map((pkg) => ({ paths: ["proto/test"], out: `packages/${pkg}/src/test-support` })),
  // What the READMEs' examples import from "./gen/…", for test/readme/examples.test.ts.
  { paths: ["proto/shop", "proto/example"], out: "test/readme" },
];

/**
 * The schemas @connectauth/core ships as they are, so that a user's buf resolves `import
 * "connectauth/v1/auth.proto"` from node_modules. Only what a user's proto imports: google/rpc's ErrorInfo
 * is not imported by it, and shipping it would clash with a user's own googleapis.
 */
const shipped = { from: "proto/connectauth", to: "packages/core/proto/connectauth" };

const check = process.argv.includes("--check");
const checked = [...targets.map((t) => `${t.out}/gen`), shipped.to];
const gitStatus = () => execFileSync("git", ["status", "--porcelain", "--", ...checked], { encoding: "utf8" });
const before = check ? gitStatus() : "";

for (const { paths, out } of targets) {
  const args = ["generate", ...paths.flatMap((p) => ["--path", p]), "-o", out];
  execFileSync("buf", args, { stdio: "inherit" });
}
rmSync(shipped.to, { recursive: true, force: true });
cpSync(shipped.from, shipped.to, { recursive: true });

if (check) {
  const outOfDate = "Generated code is out of date: run `npm run generate` and commit the result.";
  const after = gitStatus();
  if (after !== before) {
    console.error(`${outOfDate}\n${after}`);
    process.exit(1);
  }
  const diff = execFileSync("git", ["diff", "--stat", "--", ...checked], { encoding: "utf8" });
  if (diff.trim() !== "") {
    console.error(`${outOfDate}\n${diff}`);
    process.exit(1);
  }
}
