// `connectauth audit` on buf images built with the local buf: the example's schema, and a deliberately
// unsafe fixture (test/fixtures/unsafe) with one method for every finding.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../packages/cli/src/run.js";
import { buf, buildFixtureImage, repoRoot } from "./fixtures/buf-image.js";

let dir: string;
let unsafe: string;
let example: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "connectauth-audit-"));
  unsafe = buildFixtureImage("unsafe", dir);
  example = join(dir, "example.binpb");
  execFileSync(buf, ["build", "-o", example], { cwd: repoRoot });
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function audit(...args: string[]) {
  const out = { stdout: "", stderr: "" };
  const code = await run(["audit", ...args], {
    stdout: { write: (t: string) => (out.stdout += t) },
    stderr: { write: (t: string) => (out.stderr += t) },
    env: { BUF: buf },
  });
  return { code, ...out };
}

interface JsonReport {
  methods: { name: string; kind: string; rule: { public: boolean; allScopes: string[]; source: string }; mutates: string | null }[];
  findings: { code: string; target: string; scope?: string; message: string }[];
}

test("the example: every method with its rule; the one lonely scope is its only finding", async () => {
  const text = await audit(example);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^example\.v1\.GreeterService$/m);
  assert.match(text.stdout, /^ {2}Admin +unary +all of: admin greet \(method rule\)$/m);
  assert.match(text.stdout, /^ {2}GreetMany +client_streaming +all of: greet \(method rule\)$/m);
  assert.match(text.stdout, /^ {2}WhoAmI +unary +authenticated \(method rule\)$/m);
  assert.match(text.stdout, /^ {2}Ping +unary +public \(method rule\)$/m);
  const report = JSON.parse((await audit(example, "--json")).stdout) as JsonReport;
  assert.deepEqual(
    report.methods.map((m) => m.name),
    ["Greet", "GreetStream", "GreetMany", "WhoAmI", "Admin", "Ping"].map((n) => `example.v1.GreeterService/${n}`),
  );
  assert.deepEqual(report.findings.map((f) => [f.code, f.target, f.scope]), [
    ["lonely_scope", "example.v1.GreeterService/Admin", "admin"],
  ]);
  assert.equal((await audit(example, "--strict")).code, 1);
  const clean = await audit(example, "--strict", "--known-scopes", "admin");
  assert.equal(clean.code, 0);
  assert.match(clean.stdout, /6 methods, no findings/);
});

test("without an image, the buf workspace of the current directory is built and audited", async () => {
  const r = await audit("--json");
  assert.equal(r.code, 0, r.stderr);
  assert.ok((JSON.parse(r.stdout) as JsonReport).methods.some((m) => m.name === "example.v1.GreeterService/WhoAmI"));
});

test("the unsafe fixture: every finding, and --strict fails", async () => {
  const r = await audit(unsafe, "--json");
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
  assert.match(report.findings.find((f) => f.code === "condition_invalid")!.message, /has no field "owner"/);
  const byName = Object.fromEntries(report.methods.map((m) => [m.name.split("/")[1], m]));
  assert.equal(byName["DeleteAccount"]!.mutates, "name starts with Delete");
  assert.equal(byName["Touch"]!.mutates, "idempotency_level IDEMPOTENT");
  assert.equal(byName["GetAccount"]!.mutates, null, "NO_SIDE_EFFECTS is taken at its word");
  assert.equal(byName["Settings"]!.mutates, null, "Settings does not start with the verb Set");
  assert.equal(byName["RenameAccount"]!.rule.source, "default");
  const strict = await audit(unsafe, "--strict");
  assert.equal(strict.code, 1);
  assert.match(strict.stdout, /9 methods, 6 findings:/);
  assert.match(strict.stdout, /^ {2}Settings +unary +public \(not enforced: all of: accounts\.read\) \(method rule\)$/m);
  assert.match(strict.stdout, /no_rule +fixtures\.unsafe\.v1\.AccountService\/RenameAccount: no rule/);
});

test("usage errors exit 2; a file that is not an image is reported, not thrown", async () => {
  assert.equal((await audit("--nope")).code, 2);
  assert.equal((await audit("a", "b")).code, 2);
  const junk = join(dir, "junk.binpb");
  writeFileSync(junk, "not protobuf at all");
  const r = await audit(junk);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cannot read the schema/);
  assert.equal((await audit("--help")).code, 0);
});
