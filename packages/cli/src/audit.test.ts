// `connectauth audit` of candidate rules, on buf images of the packages' test schema of candidates
// (proto/test/v1/shadow.proto) built with the local buf: listed with their rule (text and JSON), their
// conditions compiled, and with --against, a candidate added, changed, dropped or promoted.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCli } from "../../../test/support/run-cli.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const buf = join(repoRoot, "node_modules", ".bin", "buf");
const schema = readFileSync(join(repoRoot, "proto", "test", "v1", "shadow.proto"), "utf8");

let dir: string;
/** Builds the shadow schema, edited by `edit`, into an image; returns its path. */
function image(name: string, edit: (text: string) => string = (t) => t): string {
  const workspace = join(dir, name);
  mkdirSync(join(workspace, "test", "v1"), { recursive: true });
  cpSync(join(repoRoot, "proto", "connectauth"), join(workspace, "connectauth"), { recursive: true });
  const edited = edit(schema);
  assert.notEqual(edited === schema, name !== "base", `the edit of ${name} must change the schema`);
  writeFileSync(join(workspace, "test", "v1", "shadow.proto"), edited);
  writeFileSync(join(workspace, "buf.yaml"), "version: v2\nmodules:\n  - path: .\n");
  const out = join(dir, `${name}.binpb`);
  execFileSync(buf, ["build", workspace, "-o", out], { stdio: ["ignore", "ignore", "inherit"] });
  return out;
}

let base: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "connectauth-audit-candidates-"));
  base = image("base");
});
after(() => rmSync(dir, { recursive: true, force: true }));

const audit = (args: string[]) => runCli(["audit", ...args], { cwd: dir });
const S = "test.v1.ShadowService/";

test("text: a candidate line under its method, the service default's on the methods that inherit it", async () => {
  const r = await audit([base]);
  assert.match(
    r.stdout,
    /^ {2}Greet +unary +all of: greet \(method rule\)\n {2} +candidate +all of: greet greet\.v2 \(reported, not enforced\)$/m,
  );
  assert.match(
    r.stdout,
    /^ {2}Status +unary +all of: greet \(service rule\)\n +candidate +all of: greet; claims: org = acme \(reported, not enforced\)$/m,
  );
  assert.match(r.stdout, /^ {2}Ping +unary +public \(method rule\)\n +candidate +authenticated \(reported, not enforced\)$/m);
  assert.match(r.stdout, /^ {2}Open +unary +authenticated \(method rule\)\n\n/m, "Open's own rule has no candidate");
});

test("JSON: every rule has candidate, null or the candidate's requirements; a candidate condition that does not compile is a finding", async () => {
  const r = await audit([base, "--json"]);
  const report = JSON.parse(r.stdout) as {
    methods: { name: string; rule: Record<string, unknown> & { candidate: unknown } }[];
    findings: { code: string; target: string; message: string }[];
  };
  const by = Object.fromEntries(report.methods.map((m) => [m.name, m.rule]));
  assert.deepEqual(by[`${S}Greet`]!.candidate, {
    public: false,
    allScopes: ["greet", "greet.v2"],
    anyScopes: [],
    claims: [],
    condition: null,
  });
  assert.equal(by[`${S}Open`]!.candidate, null);
  assert.deepEqual(Object.keys(by[`${S}Open`]!), [
    "public",
    "allScopes",
    "anyScopes",
    "claims",
    "condition",
    "source",
    "origin",
    "candidate",
  ]);
  assert.deepEqual(
    report.findings.map((f) => [f.code, f.target]),
    [["condition_invalid", "test.v1.BrokenCandidateService/Check"]],
  );
  assert.match(
    report.findings[0]!.message,
    /^candidate: the condition of test\.v1\.BrokenCandidateService\/Check does not compile/,
  );
  assert.equal((await audit([base, "--strict"])).code, 1);
});

test("--against: candidates added, changed, dropped and promoted are named; only a promotion changes access", async () => {
  const now = image("now", (t) =>
    t
      // Greet: the candidate is promoted, and a new one stands beside it.
      .replace(
        /all_scopes: \["greet"\]\n {6}candidate: \{\n {8}all_scopes: \[\n {10}"greet",\n {10}"greet.v2"\n {8}\]\n {6}\}/,
        'all_scopes: ["greet", "greet.v2"]\n      candidate: {all_scopes: ["greet", "greet.v2", "greet.v3"]}',
      )
      // Tenant: the candidate changes.
      .replace(
        'request.tenant == claims.tenant"\n      }\n    };\n  }\n\n  // Client',
        'request.tenant != """\n      }\n    };\n  }\n\n  // Client',
      )
      // Open: a candidate is added.
      .replace(
        "rpc Open(ShadowServiceOpenRequest) returns (ShadowServiceOpenResponse) {\n    option (connectauth.v1.method_rule) = {};",
        'rpc Open(ShadowServiceOpenRequest) returns (ShadowServiceOpenResponse) {\n    option (connectauth.v1.method_rule) = {candidate: {all_scopes: ["open"]}};',
      )
      // Ping: the candidate is dropped.
      .replace(/public: true\n {6}candidate: \{\n {8}candidate: \{public: true\}\n {6}\}/, "public: true"),
  );
  const r = await audit([now, "--against", base, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const diff = JSON.parse(r.stdout) as {
    changes: { method: string; kind: string; why: { change: string; kind: string }[]; after: { candidate: unknown } | null }[];
  };
  const changed = diff.changes.filter((c) => c.why.length > 0).map((c) => [c.method, c.kind, c.why.map((w) => w.change)]);
  assert.deepEqual(changed, [
    [`${S}Greet`, "narrowing", ["scope_added", "candidate_promoted", "candidate_added"]],
    [`${S}Open`, "neutral", ["candidate_added"]],
    [`${S}Ping`, "neutral", ["candidate_removed"]],
    [`${S}Tenant`, "neutral", ["candidate_changed"]],
  ]);
  const greet = diff.changes.find((c) => c.method === `${S}Greet`)!;
  assert.deepEqual((greet.after!.candidate as { allScopes: string[] }).allScopes, ["greet", "greet.v2", "greet.v3"]);

  const text = (await audit([now, "--against", base])).stdout;
  assert.match(text, /^neutral: the same callers, the rule written differently or its candidate changed$/m);
  assert.match(
    text,
    /^ {4}all of: greet \[candidate: all of: greet greet\.v2\] {2}→ {2}all of: greet greet\.v2 \[candidate: all of: greet greet\.v2 greet\.v3\]$/m,
  );
  assert.match(text, /^ {4}candidate_promoted: the candidate rule became the rule \(all of: greet greet\.v2\)/m);
  assert.match(
    text,
    /^ {4}candidate_removed: the candidate rule was dropped \(it was: authenticated\) \(a candidate is reported, never enforced\)$/m,
  );
  assert.equal(
    (await audit([now, "--against", base, "--strict"])).code,
    0,
    "changes to candidates are no broadening to acknowledge",
  );
});
