// The consumer test: the packages as users get them. Packs every published package, checks each tarball
// (publint, attw, README, LICENSE, repository/homepage/bugs, source maps that resolve, no tests), then
// builds the app of test/consumer/ in a fresh directory outside the workspace from those tarballs and the
// registry, with the lowest and the newest connect that npm resolves on this Node (and the one the
// adapters bring by themselves): buf lint and generate
// of the user's proto (which imports our rules from node_modules/@connectauth/core/proto), tsc, and the
// app's tests (Fastify, node:http2 and Express servers, a Node client, a CommonJS file).
//
// Usage: node scripts/consumer-test.mjs [--connect lowest|newest|adapters]... [--keep]
//   (run after `npm run build`; without --connect, all three; --keep leaves the app directories in place)
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const packages = ["core", "client", "server", "node", "cli"];
const nodeMajor = Number(process.versions.node.split(".")[0]);

/**
 * The connect versions of each run.
 * - "lowest": the lowest our peer range (^2.0.2) takes (2.0.0 and 2.0.1 drop an interceptor's error
 *   metadata from gRPC and gRPC-web trailers, so the challenge never reached the client), which is also
 *   the first 2.x of the Fastify and Express adapters, with the lowest @bufbuild/protobuf of our peer
 *   range (^2.7.0) and TypeScript 5.8 (the first to type require(esm)).
 * - "newest": the newest npm resolves on this Node (Node 20: 2.1.2, later releases need Node 22; Node 24:
 *   connect 2.3.0), the adapters made to take it with `overrides` (they pin connect exactly), the latest
 *   tools.
 * - "adapters": what npm resolves for the adapters alone, connect and connect-node installed as their
 *   peers, without overrides (Node 20: 2.1.2; Node 24: 2.2.0).
 */
const runs = {
  lowest: {
    connect: "2.0.2",
    connectNode: "2.0.2",
    adapters: "2.0.2",
    protobuf: "2.7.0",
    protocGenEs: "2.7.0",
    typescript: "~5.8.0",
  },
  newest: {
    connect: "^2",
    connectNode: "^2",
    adapters: "^2",
    overrideAdapters: true,
    protobuf: "^2",
    protocGenEs: "^2",
    typescript: "latest",
  },
  adapters: { adapters: "^2", protobuf: "^2", protocGenEs: "^2", typescript: "latest" },
};

/** Reads the `sources` of the named maps out of a tarball, as `{ map: sources }` JSON on stdout. */
const mapReader = `
const { execFileSync } = require("node:child_process");
const [tarball, ...maps] = process.argv.slice(1);
const out = {};
for (const m of maps) out[m] = JSON.parse(execFileSync("tar", ["xzOf", tarball, m], { encoding: "utf8" })).sources;
process.stdout.write(JSON.stringify(out));
`;

const args = process.argv.slice(2);
const keep = args.includes("--keep");
const chosen = args.flatMap((a, i) => (args[i - 1] === "--connect" ? [a] : []));
for (const c of chosen) if (!(c in runs)) usage(`unknown --connect ${c}`);
const selected = chosen.length > 0 ? chosen : Object.keys(runs);

const run = (command, commandArgs, options = {}) => {
  console.log(`\n$ ${[command, ...commandArgs].join(" ")}`);
  execFileSync(command, commandArgs, { stdio: "inherit", ...options });
};

const work = mkdtempSync(join(tmpdir(), "connectauth-consumer-"));
let failed = false;
try {
  const tarballs = pack(join(work, "tarballs"));
  for (const name of packages) checkTarball(name, tarballs[name]);
  for (const which of selected) buildApp(which, join(work, `app-${which}`), tarballs);
} catch (e) {
  failed = true;
  console.error(`\nconsumer test failed: ${e instanceof Error ? e.message : String(e)}`);
} finally {
  if (keep) console.log(`\nkept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
if (failed) process.exit(1);
console.log(`\nconsumer test passed on node ${process.version} (${selected.join(", ")} connect)`);

function usage(message) {
  console.error(`${message}\nusage: node scripts/consumer-test.mjs [--connect lowest|newest|adapters]... [--keep]`);
  process.exit(2);
}

/** `npm pack` of every published package; returns the tarball path of each. */
function pack(dir) {
  mkdirSync(dir, { recursive: true });
  run(
    "npm",
    ["pack", "--silent", "--ignore-scripts", "--pack-destination", dir, ...packages.flatMap((p) => ["-w", `@connectauth/${p}`])],
    {
      cwd: root,
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  const out = {};
  for (const p of packages) {
    out[p] = join(dir, `connectauth-${p}-${readJson(join(root, "packages", p, "package.json")).version}.tgz`);
    if (!existsSync(out[p])) throw new Error(`npm pack made no ${out[p]}`);
  }
  return out;
}

/**
 * What every tarball must hold and say. attw runs with the node16 profile and without the
 * cjs-resolves-to-esm rule, on purpose: the packages are ES modules only, and `require()` of them works
 * (require(esm): Node 20.19+, 22.12+, 24; TypeScript 5.8+ with `module: nodenext`), which the app's
 * CommonJS file shows on every run. A second, CommonJS build would duplicate the output for nothing: our
 * own dependencies jose and oauth4webapi are ES modules only as well. node10 (TypeScript's
 * `moduleResolution: node`) reads no exports map and cannot resolve a subpath of any of them.
 */
function checkTarball(name, tarball) {
  console.log(`\n== @connectauth/${name}: ${tarball}`);
  const files = execFileSync("tar", ["tzf", tarball], { encoding: "utf8" })
    .split("\n")
    .filter((f) => f !== "" && !f.endsWith("/"))
    .map((f) => f.replace(/^package\//, ""));
  const has = new Set(files);
  const problems = [];
  for (const required of ["README.md", "LICENSE", "package.json"]) if (!has.has(required)) problems.push(`no ${required}`);
  const manifest = JSON.parse(execFileSync("tar", ["xzOf", tarball, "package/package.json"], { encoding: "utf8" }));
  for (const field of ["repository", "homepage", "bugs", "license", "description"]) {
    if (manifest[field] === undefined) problems.push(`package.json has no ${field}`);
  }
  for (const f of files)
    if (/\.test\.[cm]?[jt]s(\.map)?$|\.tsbuildinfo$|(^|\/)test-support\//.test(f)) problems.push(`ships ${f}`);
  if (name === "core" && !has.has("proto/connectauth/v1/auth.proto")) problems.push("no proto/connectauth/v1/auth.proto");
  // Source maps resolve: every source a map names is in the tarball.
  const maps = files.filter((f) => f.endsWith(".map"));
  if (maps.length === 0) problems.push("no source maps");
  const mapsJson = JSON.parse(
    execFileSync("node", ["-e", mapReader, tarball, ...maps.map((m) => `package/${m}`)], {
      encoding: "utf8",
      maxBuffer: 64 << 20,
    }),
  );
  for (const [map, sources] of Object.entries(mapsJson)) {
    for (const source of sources) {
      const resolved = posix.normalize(posix.join(posix.dirname(map.replace(/^package\//, "")), source));
      if (!has.has(resolved)) problems.push(`${map} names ${source}, not in the tarball`);
    }
  }
  if (problems.length > 0) throw new Error(`@connectauth/${name}:\n  ${problems.join("\n  ")}`);
  console.log(`${files.length} files, ${maps.length} source maps resolve, README, LICENSE, repository/homepage/bugs`);
  run(bin("publint"), ["run", "--strict", tarball]);
  const entrypoints =
    name === "core" ? ["--include-entrypoints", "./gen/connectauth/v1/auth_pb.js", "./gen/google/rpc/error_details_pb.js"] : [];
  run(bin("attw"), [
    tarball,
    "--profile",
    "node16",
    "--ignore-rules",
    "cjs-resolves-to-esm",
    "--format",
    "table-flipped",
    "--no-color",
    ...entrypoints,
  ]);
}

/** The user's app, from test/consumer/, installed from the tarballs and the registry, built and tested. */
function buildApp(which, dir, tarballs) {
  const v = runs[which];
  console.log(`\n== the app with the ${which} connect, node ${process.version}: ${dir}`);
  const fixture = join(root, "test", "consumer");
  // The app's buf files are the ones the core README tells users to write, character for character.
  const coreReadme = readFileSync(join(root, "packages", "core", "README.md"), "utf8");
  const fence = "```";
  for (const file of ["buf.yaml", "buf.gen.yaml"]) {
    if (!coreReadme.includes(`${fence}yaml\n${readFileSync(join(fixture, file), "utf8")}${fence}`)) {
      throw new Error(`test/consumer/${file} is not a code block of packages/core/README.md: keep them the same`);
    }
  }
  for (const entry of readdirSync(fixture)) cpSync(join(fixture, entry), join(dir, entry), { recursive: true });
  const ours = Object.fromEntries(packages.map((p) => [`@connectauth/${p}`, `file:${tarballs[p]}`]));
  // The adapters pin connect and connect-node exactly: "newest" makes them take the app's, as the server
  // README says.
  const adapterOverride = {
    "@connectrpc/connect": "$@connectrpc/connect",
    "@connectrpc/connect-node": "$@connectrpc/connect-node",
  };
  const manifest = {
    name: "shop",
    private: true,
    type: "module",
    dependencies: {
      ...ours,
      "@bufbuild/protobuf": v.protobuf,
      ...(v.connect === undefined ? {} : { "@connectrpc/connect": v.connect, "@connectrpc/connect-node": v.connectNode }),
      "@connectrpc/connect-fastify": v.adapters,
      "@connectrpc/connect-express": v.adapters,
      "@opentelemetry/api": "^1",
      express: "^5",
      fastify: "^5",
      jose: "^6",
    },
    devDependencies: {
      "@bufbuild/buf": "^1",
      "@bufbuild/protoc-gen-es": v.protocGenEs,
      "@types/express": "^5",
      "@types/node": `^${nodeMajor}`,
      typescript: v.typescript,
    },
    overrides: {
      // Our packages depend on each other by version: every one of them comes from its tarball.
      ...Object.fromEntries(Object.keys(ours).map((n) => [n, `$${n}`])),
      ...(v.overrideAdapters
        ? { "@connectrpc/connect-fastify": adapterOverride, "@connectrpc/connect-express": adapterOverride }
        : {}),
    },
  };
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: dir });
  // What npm resolved, for the log (npm ls exits 1 on a peer it calls invalid elsewhere in the tree, e.g.
  // protoc-gen-es's @typescript/vfs asking for TypeScript 4 or 5).
  const resolved = [
    "@connectrpc/connect",
    "@connectrpc/connect-node",
    "@connectrpc/connect-fastify",
    "@connectrpc/connect-express",
    "@bufbuild/protobuf",
    "typescript",
  ].map((n) => `${n}@${readJson(join(dir, "node_modules", n, "package.json")).version}`);
  console.log(`resolved: ${resolved.join(", ")}`);
  for (const p of packages) {
    const lock = readJson(join(dir, "package-lock.json")).packages;
    for (const [path, entry] of Object.entries(lock)) {
      if (path.endsWith(`node_modules/@connectauth/${p}`) && path !== `node_modules/@connectauth/${p}`) {
        throw new Error(`@connectauth/${p} installed twice (${path})`);
      }
      if (path === `node_modules/@connectauth/${p}` && !String(entry.resolved).startsWith("file:")) {
        throw new Error(`@connectauth/${p} came from ${entry.resolved}, not from its tarball`);
      }
    }
  }
  const local = (name) => join(dir, "node_modules", ".bin", name);
  run(local("buf"), ["lint", "proto"], { cwd: dir });
  run(local("buf"), ["generate"], {
    cwd: dir,
    env: { ...process.env, PATH: `${join(dir, "node_modules", ".bin")}:${process.env.PATH}` },
  });
  run(local("tsc"), ["-p", "."], { cwd: dir });
  run(process.execPath, ["--test", "--test-reporter=spec", "dist/consumer.test.mjs", "dist/require-all.test.cjs"], { cwd: dir });
}

function readJson(file) {
  return JSON.parse(readFileSync(file, "utf8"));
}
