// `connectauth audit` on buf images built with the local buf: the example's schema, a sound fixture
// (test/fixtures/sound: ordinary services, one scope per method) with no finding, and a deliberately
// unsafe fixture (test/fixtures/unsafe) with one method for every finding. Then audit as people run it:
// in a buf workspace, from below one, outside one, and without buf.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buf, buildFixtureImage, repoRoot } from "../fixtures/buf-image.js";
import { runCli } from "../support/run-cli.js";

let dir: string;
let unsafe: string;
let sound: string;
let example: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "connectauth-audit-"));
  unsafe = buildFixtureImage("unsafe", dir);
  sound = buildFixtureImage("sound", dir);
  example = join(dir, "example.binpb");
  // The example alone: the workspace also holds the packages' test protos and the READMEs' shop.
  execFileSync(buf, ["build", "--path", "proto/example", "-o", example], { cwd: repoRoot });
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** `connectauth audit …` with buf from $BUF, in the repo root unless told otherwise. */
function audit(args: string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}) {
  return runCli(["audit", ...args], { cwd: options.cwd ?? repoRoot, env: options.env ?? { ...process.env, BUF: buf } });
}

interface JsonReport {
  methods: {
    name: string;
    kind: string;
    rule: { public: boolean; allScopes: string[]; source: string };
    mutates: string | null;
  }[];
  findings: { code: string; target: string; scope?: string; similarTo?: string; message: string }[];
}

test("the example: every method with its rule, and no finding (a scope named by one rule is no typo)", async () => {
  const text = await audit([example, "--strict"]);
  assert.equal(text.code, 0, text.stdout);
  assert.match(text.stdout, /^example\.v1\.GreeterService$/m);
  assert.match(text.stdout, /^ {2}Admin +unary +all of: admin greet \(method rule\)$/m);
  assert.match(text.stdout, /^ {2}GreetMany +client_streaming +all of: greet \(method rule\)$/m);
  assert.match(text.stdout, /^ {2}WhoAmI +unary +authenticated \(method rule\)$/m);
  assert.match(text.stdout, /^ {2}Ping +unary +public \(method rule\)$/m);
  assert.match(text.stdout, /7 methods, no findings/);
  const report = JSON.parse((await audit([example, "--json"])).stdout) as JsonReport;
  assert.deepEqual(
    report.methods.map((m) => m.name),
    ["Greet", "GreetStream", "GreetMany", "GreetChat", "WhoAmI", "Admin", "Ping"].map((n) => `example.v1.GreeterService/${n}`),
  );
  assert.deepEqual(report.findings, []);
});

test("a sound service, one scope per method: --strict passes", async () => {
  const r = await audit([sound, "--strict"]);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /^ {2}DeleteBook +unary +any of: books\.delete library\.admin \(method rule\)$/m);
  assert.match(r.stdout, /^ {2}GetConfig +unary +all of: config\.get \(service rule\)$/m);
  assert.match(r.stdout, /12 methods, no findings/);
});

test("a scope one typo away from a known scope is flagged; a known scope is not", async () => {
  const r = await audit([sound, "--json", "--known-scopes", "book.create,other"]);
  const report = JSON.parse(r.stdout) as JsonReport;
  assert.deepEqual(
    report.findings.map((f) => [f.code, f.target, f.scope, f.similarTo]),
    [["lonely_scope", "fixtures.sound.v1.LibraryService/CreateBook", "books.create", "book.create"]],
  );
  assert.match(report.findings[0]!.message, /one typo away from "book\.create" \(a known scope\)/);
  assert.equal((await audit([sound, "--strict", "--known-scopes", "book.create"])).code, 1);
});

test("the unsafe fixture: every finding, and --strict fails", async () => {
  const r = await audit([unsafe, "--json"]);
  assert.equal(r.code, 0, "findings alone do not fail without --strict");
  const report = JSON.parse(r.stdout) as JsonReport;
  const s = "fixtures.unsafe.v1.AccountService/";
  assert.deepEqual(
    report.findings.map((f) => [f.code, f.target, f.scope ?? null]).sort(),
    [
      ["condition_invalid", `${s}CountOwnAccounts`, null],
      ["lonely_scope", `${s}ListAccounts`, "acounts.read"],
      ["no_rule", `${s}RenameAccount`, null],
      ["public_mutation", `${s}DeleteAccount`, null],
      ["public_mutation", `${s}Touch`, null],
      ["public_with_requirements", `${s}Settings`, null],
    ].sort(),
  );
  const lonely = report.findings.find((f) => f.code === "lonely_scope")!;
  assert.equal(lonely.similarTo, "accounts.read");
  assert.match(lonely.message, /one typo away from "accounts\.read" \(named by 4 rules\)/);
  assert.match(report.findings.find((f) => f.code === "condition_invalid")!.message, /has no field "owner"/);
  const byName = Object.fromEntries(report.methods.map((m) => [m.name.split("/")[1], m]));
  assert.equal(byName["DeleteAccount"]!.mutates, "name starts with Delete");
  assert.equal(byName["Touch"]!.mutates, "idempotency_level IDEMPOTENT");
  assert.equal(byName["GetAccount"]!.mutates, null, "NO_SIDE_EFFECTS is taken at its word");
  assert.equal(byName["Settings"]!.mutates, null, "Settings does not start with the verb Set");
  assert.equal(byName["RenameAccount"]!.rule.source, "default");
  const strict = await audit([unsafe, "--strict"]);
  assert.equal(strict.code, 1);
  assert.match(strict.stdout, /9 methods, 6 findings:/);
  assert.match(strict.stdout, /^ {2}Settings +unary +public \(not enforced: all of: accounts\.read\) \(method rule\)$/m);
  assert.match(strict.stdout, /no_rule +fixtures\.unsafe\.v1\.AccountService\/RenameAccount: no rule/);
  const known = JSON.parse((await audit([unsafe, "--json", "--known-scopes", "acounts.read"])).stdout) as JsonReport;
  assert.ok(!known.findings.some((f) => f.code === "lonely_scope"), "a known scope is never flagged");
});

test("without an image: the buf workspace that holds the current directory, from its root or below it", async () => {
  for (const cwd of [repoRoot, join(repoRoot, "packages", "cli")]) {
    const r = await audit(["--json"], { cwd });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(
      (JSON.parse(r.stdout) as JsonReport).methods.some((m) => m.name === "example.v1.GreeterService/WhoAmI"),
      cwd,
    );
  }
});

test("outside a buf workspace: says what to do, and builds nothing (not node_modules' protos)", async () => {
  const outside = mkdtempSync(join(tmpdir(), "connectauth-no-workspace-"));
  try {
    // What buf would compile (and fail on) if it took the directory as a module.
    mkdirSync(join(outside, "node_modules", "some-package"), { recursive: true });
    writeFileSync(join(outside, "node_modules", "some-package", "broken.proto"), "this is not proto\n");
    const r = await audit([], { cwd: outside });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no buf workspace here: no buf\.yaml in .* or above it/);
    assert.match(r.stderr, /buf build -o image\.binpb && connectauth audit image\.binpb/);
    assert.doesNotMatch(r.stderr, /broken\.proto|node_modules/);
    assert.equal(r.stdout, "");
  } finally {
    rmSync(outside, { recursive: true, force: true });
  }
});

test("without buf: says how to get it, not spawnSync ENOENT", async () => {
  const empty = mkdtempSync(join(tmpdir(), "connectauth-empty-path-"));
  try {
    const { BUF: _, ...env } = process.env;
    const r = await audit([], { env: { ...env, PATH: empty } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /buf is not on PATH\. Install it \(npm install --save-dev @bufbuild\/buf/);
    assert.doesNotMatch(r.stderr, /ENOENT|spawn/);
    const named = await audit([], { env: { ...process.env, BUF: join(empty, "buf") } });
    assert.equal(named.code, 2);
    assert.match(named.stderr, /BUF is set to ".*buf", which is not a program that can run/);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

test("usage errors exit 2; a file that is not an image is reported, not thrown; --help", async () => {
  const nope = await audit(["--nope"]);
  assert.equal(nope.code, 2);
  assert.match(nope.stderr, /Unknown option '--nope'[\s\S]*usage: connectauth audit/);
  assert.equal((await audit(["a", "b"])).code, 2);
  const junk = join(dir, "junk.binpb");
  writeFileSync(junk, "not protobuf at all");
  const r = await audit([junk]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cannot read the schema/);
  const help = await audit(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: connectauth audit/);
});
