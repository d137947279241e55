// `connectauth audit --against <base>` on the fixture pair test/fixtures/audit-diff/{before,after}, which
// holds a method for every kind of change: as images, then against a git ref of a repository made here
// (before committed, after in the working tree), then --strict with the acknowledgement file.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buf, repoRoot } from "../fixtures/buf-image.js";
import { runCli } from "../support/run-cli.js";

let dir: string;
let beforeImage: string;
let afterImage: string;
/** The buf workspace in the git repository (`<repo>/api`): before committed on main, after in the working tree. */
let workspace: string;
let repo: string;

/** Fills `into` with a buf workspace of one side of the fixture pair (plus connectauth's own schema). */
function writeWorkspace(side: "before" | "after", into: string): void {
  rmSync(join(into, "fixtures"), { recursive: true, force: true });
  cpSync(join(repoRoot, "test", "fixtures", "audit-diff", side), into, { recursive: true });
  cpSync(join(repoRoot, "proto", "connectauth"), join(into, "connectauth"), { recursive: true });
  writeFileSync(join(into, "buf.yaml"), "version: v2\nmodules:\n  - path: .\n");
}

function buildImage(side: "before" | "after"): string {
  const ws = join(dir, `ws-${side}`);
  mkdirSync(ws);
  writeWorkspace(side, ws);
  const image = join(dir, `${side}.binpb`);
  execFileSync(buf, ["build", ws, "-o", image], { stdio: ["ignore", "ignore", "inherit"] });
  return image;
}

/** `git <args>` in `cwd` (default: the repository), with an identity of its own; its output. */
function git(args: string[], cwd = repo): string {
  const identity = ["-c", "user.name=connectauth test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"];
  return execFileSync("git", [...identity, ...args], { cwd, encoding: "utf8" }).trim();
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), "connectauth-audit-diff-"));
  beforeImage = buildImage("before");
  afterImage = buildImage("after");
  repo = join(dir, "repo");
  workspace = join(repo, "api");
  mkdirSync(workspace, { recursive: true });
  git(["init", "-q", "-b", "main"]);
  writeWorkspace("before", workspace);
  git(["add", "."]);
  git(["commit", "-q", "-m", "the base"]);
  writeWorkspace("after", workspace);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** `connectauth audit …` with buf from $BUF, in `cwd` (default: an empty directory of its own, with no acknowledgement file). */
function audit(args: string[], cwd?: string) {
  const here = cwd ?? mkdtempSync(join(dir, "cwd-"));
  return runCli(["audit", ...args], { cwd: here, env: { ...process.env, BUF: buf } });
}

interface JsonRule {
  public: boolean;
  allScopes: string[];
  anyScopes: string[];
  claims: { path: string; equals?: string; contains?: string }[];
  condition: string | null;
  source: string;
}

interface JsonDiff {
  schema: string;
  base: { ref: string | null; commit: string | null; image: string | null };
  counts: Record<string, number>;
  changes: {
    method: string;
    kind: string;
    before: JsonRule | null;
    after: JsonRule | null;
    why: { change: string; kind: string; message: string; acknowledged: boolean }[];
  }[];
  acknowledgements: {
    file: string | null;
    unacknowledged: { method: string; change: string }[];
    unused: { method: string; change: string }[];
  };
}

const L = "fixtures.diff.v1.LibraryService/";
const C = "fixtures.diff.v1.CatalogService/";
const S = "fixtures.diff.v1.ShelfService/";

/** Every method of the pair, in the order of the report: kind (broadenings first), then name; and its reasons. */
const expected: [string, string, string[]][] = [
  [`${C}GetEntry`, "broadening", ["service_default_loosened"]],
  [`${C}ListEntries`, "broadening", ["service_default_loosened"]],
  [`${L}DeleteBook`, "broadening", ["rule_removed"]],
  [`${L}ExportBooks`, "broadening", ["unruled_method_added"]],
  [`${L}GetBook`, "broadening", ["became_public"]],
  [`${L}GetLoan`, "broadening", ["claim_removed"]],
  [`${L}GetOwnLoan`, "broadening", ["condition_removed"]],
  [`${L}ListBooks`, "broadening", ["any_scope_added"]],
  [`${L}PeekBook`, "broadening", ["public_method_added"]],
  [`${L}SearchBooks`, "broadening", ["any_scopes_emptied"]],
  [`${L}UpdateBook`, "broadening", ["scope_removed"]],
  [`${S}ListShelves`, "broadening", ["rule_removed"]],
  [`${L}ReturnLoan`, "changed", ["condition_changed"]],
  [`${L}ArchiveBook`, "narrowing", ["scope_added"]],
  [`${L}GetLoanHistory`, "narrowing", ["claim_added"]],
  [`${L}GetShelf`, "narrowing", ["no_longer_public"]],
  [`${L}RenameBook`, "narrowing", ["rule_added"]],
  [`${L}RenewLoan`, "narrowing", ["any_scope_removed"]],
  [`${L}AddBook`, "added", ["method_added"]],
  [`${L}PurgeBooks`, "removed", ["method_removed"]],
  [`${C}UpdateEntry`, "neutral", []],
  [`${L}CountBooks`, "neutral", []],
  [`${L}ListLoans`, "neutral", ["reordered"]],
];

const broadenings = expected.filter(([, kind]) => kind === "broadening").map(([method, , [change]]) => ({ method, change }));

/** An acknowledgement file that lists these entries. */
function acknowledgementFile(entries: readonly { method: string; change: string }[]): string {
  return `# reviewed\n${entries.map((e) => `- method: ${e.method}\n  change: ${e.change}\n`).join("")}`;
}

test("the fixture pair as images: every method and kind in the documented JSON schema", async () => {
  const r = await audit([afterImage, "--against", beforeImage, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const diff = JSON.parse(r.stdout) as JsonDiff;
  assert.deepEqual(Object.keys(diff), ["schema", "base", "counts", "changes", "acknowledgements"]);
  assert.equal(diff.schema, "connectauth.audit-diff/v1");
  assert.deepEqual(diff.base, { ref: null, commit: null, image: beforeImage });
  assert.deepEqual(diff.counts, { broadening: 12, changed: 1, narrowing: 5, added: 1, removed: 1, neutral: 3 });
  assert.deepEqual(
    diff.changes.map((c) => [c.method, c.kind, c.why.map((w) => w.change)]),
    expected,
  );
  for (const c of diff.changes) {
    assert.deepEqual(Object.keys(c), ["method", "kind", "before", "after", "why"]);
    for (const w of c.why) assert.deepEqual(Object.keys(w), ["change", "kind", "message", "acknowledged"]);
  }
  const by = Object.fromEntries(diff.changes.map((c) => [c.method, c]));
  assert.deepEqual(by[`${L}GetBook`]!.before, {
    public: false,
    allScopes: ["books.read"],
    anyScopes: [],
    claims: [],
    condition: null,
    source: "method",
    origin: "proto",
    candidate: null,
  });
  assert.equal(by[`${L}GetBook`]!.after!.public, true);
  assert.equal(by[`${L}ExportBooks`]!.before, null);
  assert.equal(by[`${L}ExportBooks`]!.after!.source, "default");
  assert.equal(by[`${L}PurgeBooks`]!.after, null);
  assert.deepEqual(by[`${L}GetLoan`]!.before!.claims, [{ path: "org", equals: "acme" }]);
  assert.equal(by[`${C}GetEntry`]!.after!.source, "service");
  const loan = by[`${L}ReturnLoan`]!;
  assert.equal(loan.before!.condition, "request.id == subject");
  assert.equal(loan.after!.condition, "request.id == subject || 'librarian' in scopes");
  assert.match(loan.why[0]!.message, /from: request\.id == subject to: request\.id == subject \|\| 'librarian' in scopes/);
  assert.match(by[`${S}ListShelves`]!.why[0]!.message, /^via service default: its service lost its rule/);
  assert.deepEqual(diff.acknowledgements, { file: null, unacknowledged: broadenings, unused: [] });
  assert.ok(diff.changes.every((c) => c.why.every((w) => !w.acknowledged)));
});

test("as text: broadenings first, each method with before → after and why", async () => {
  const r = await audit([afterImage, "--against", beforeImage]);
  assert.equal(r.code, 0, "broadenings alone do not fail without --strict");
  const text = r.stdout;
  assert.match(
    text,
    /^auth rules against the image .*before\.binpb: 23 methods; 12 broadening, 1 changed, 5 narrowing, 1 added, 1 removed, 1 neutral, 2 unchanged$/m,
  );
  const headings = ["broadening:", "changed:", "narrowing:", "added, with a rule", "removed", "neutral:"].map((h) =>
    text.indexOf(`\n${h}`),
  );
  assert.ok(
    headings.every((at, i) => at > 0 && (i === 0 || at > headings[i - 1]!)),
    "the kinds in order, broadenings first",
  );
  const section = (from: string, to: string) => text.slice(text.indexOf(`\n${from}`), text.indexOf(`\n${to}`));
  const broadening = section("broadening:", "changed:");
  assert.match(
    broadening,
    new RegExp(`^ {2}${L}GetBook\\n {4}all of: books\\.read {2}→ {2}public\\n {4}became_public: it became public`, "m"),
  );
  assert.match(broadening, /^ {4}all of: books\.delete {2}→ {2}no rule \(denied by default\)$/m);
  assert.match(
    broadening,
    /rule_removed: it lost its rule \(all of "books\.delete"\): it is denied by default, but open to any authenticated caller on a server that admits authenticated callers to unruled methods$/m,
  );
  assert.match(
    broadening,
    /^ {4}all of: catalog\.read catalog\.list \(service default\) {2}→ {2}all of: catalog\.read \(service default\)\n {4}service_default_loosened: via service default: scope "catalog\.list" left all_scopes$/m,
  );
  assert.match(broadening, /^ {4}\(no such method\) {2}→ {2}public\n {4}public_method_added/m);
  assert.doesNotMatch(broadening, /ArchiveBook|ReturnLoan/);
  assert.match(
    section("changed:", "narrowing:"),
    /if: request\.id == subject {2}→ {2}all of: loans\.write; if: request\.id == subject \|\| 'librarian' in scopes/,
  );
  assert.match(text, /^ {4}reordered: the same requirements, written differently/m);
  assert.doesNotMatch(text, /CountBooks|UpdateEntry/, "methods whose rule did not change are counted, not listed");
  assert.doesNotMatch(text, /--strict/);
});

test("against a git ref: the workspace built at that commit (buf's .git#ref), compared with the working tree", async () => {
  const fromImages = JSON.parse((await audit([afterImage, "--against", beforeImage, "--json"])).stdout) as JsonDiff;
  // From below the workspace, which is a subdirectory of the repository.
  const r = await audit(["--against", "main", "--json"], join(workspace, "fixtures"));
  assert.equal(r.code, 0, r.stderr);
  const diff = JSON.parse(r.stdout) as JsonDiff;
  assert.deepEqual(diff.base, { ref: "main", commit: git(["rev-parse", "main"]), image: null });
  assert.deepEqual(diff.changes, fromImages.changes);
  const text = await audit(["--against", "main"], workspace);
  assert.match(
    text.stdout,
    new RegExp(`^auth rules against main \\(${git(["rev-parse", "main"]).slice(0, 12)}\\): 23 methods; 12 broadening`, "m"),
  );

  const unknown = await audit(["--against", "no-such-branch"], workspace);
  assert.equal(unknown.code, 2);
  assert.match(
    unknown.stderr,
    /"no-such-branch" names no commit of the git repository at .*; in a shallow clone \(CI\), fetch it first/,
  );
  assert.equal(unknown.stdout, "");
  assert.equal((await audit(["--against", "-x"], workspace)).code, 2, "a ref is never read as an option of git");

  const outside = await audit(["--against", "main"]);
  assert.equal(outside.code, 2);
  assert.match(outside.stderr, /no buf workspace here/);
});

test("against the commit that holds the working tree: every method unchanged, and --strict passes", async () => {
  // A repository of its own: an empty first commit, then the after tree committed.
  const same = mkdtempSync(join(dir, "same-"));
  cpSync(workspace, same, { recursive: true });
  git(["init", "-q", "-b", "main"], same);
  git(["commit", "-q", "--allow-empty", "-m", "nothing yet"], same);
  git(["add", "."], same);
  git(["commit", "-q", "-m", "the after tree"], same);
  const r = await audit(["--against", "HEAD", "--strict", "--json"], same);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const diff = JSON.parse(r.stdout) as JsonDiff;
  assert.ok(diff.changes.length > 0 && diff.changes.every((c) => c.kind === "neutral" && c.why.length === 0));
  const previous = await audit(["--against", "HEAD~1", "--json"], same);
  assert.equal(previous.code, 2, "the commit before has no buf workspace: buf says so");
  assert.match(previous.stderr, /buf build failed for HEAD~1 \([0-9a-f]{12}\)/);
});

test("--strict: exit 1 on a broadening not acknowledged; the acknowledgement file lists them; unused entries are reported", async () => {
  const none = await audit([afterImage, "--against", beforeImage, "--strict"]);
  assert.equal(none.code, 1);
  assert.match(
    none.stdout,
    /--strict: 12 broadenings are not acknowledged in connectauth-acknowledged\.yaml \(there is none here\)/,
  );
  assert.match(none.stdout, new RegExp(`^ {2}- method: ${L}GetBook\\n {4}change: became_public$`, "m"));

  const cwd = mkdtempSync(join(dir, "ack-"));
  const [first, ...rest] = broadenings;
  writeFileSync(join(cwd, "connectauth-acknowledged.yaml"), acknowledgementFile(rest));
  const one = await audit([afterImage, "--against", beforeImage, "--strict"], cwd);
  assert.equal(one.code, 1);
  assert.match(
    one.stdout,
    /--strict: 1 broadening is not acknowledged in connectauth-acknowledged\.yaml; after review, list it there:\n {2}- method: fixtures\.diff\.v1\.CatalogService\/GetEntry\n {4}change: service_default_loosened\n$/,
  );
  assert.match(
    one.stdout,
    /service_default_loosened: via service default: scope "catalog\.list" left all_scopes \(acknowledged\)$/m,
  );

  const unused = { method: `${L}GetBook`, change: "scope_removed" };
  writeFileSync(join(cwd, "connectauth-acknowledged.yaml"), acknowledgementFile([first!, ...rest, unused]));
  const all = await audit([afterImage, "--against", beforeImage, "--strict"], cwd);
  assert.equal(all.code, 0, all.stdout);
  assert.match(all.stdout, /--strict: every broadening is acknowledged/);
  assert.match(
    all.stdout,
    /unused acknowledgements in connectauth-acknowledged\.yaml \(they match no broadening; remove them\):\n {2}- method: fixtures\.diff\.v1\.LibraryService\/GetBook\n {4}change: scope_removed/,
  );
  const json = JSON.parse((await audit([afterImage, "--against", beforeImage, "--strict", "--json"], cwd)).stdout) as JsonDiff;
  assert.deepEqual(json.acknowledgements, { file: "connectauth-acknowledged.yaml", unacknowledged: [], unused: [unused] });
  assert.ok(json.changes.filter((c) => c.kind === "broadening").every((c) => c.why.every((w) => w.acknowledged)));

  // --acknowledged names another file (relative to the current directory); the default one is then not read.
  writeFileSync(join(cwd, "reviewed.yaml"), acknowledgementFile(broadenings));
  const named = await audit([afterImage, "--against", beforeImage, "--strict", "--acknowledged", "reviewed.yaml"], cwd);
  assert.equal(named.code, 0, named.stdout);
  assert.doesNotMatch(named.stdout, /unused/);
});

test("usage errors exit 2: a bad or missing acknowledgement file, options that do not go together", async () => {
  const cwd = mkdtempSync(join(dir, "bad-"));
  writeFileSync(
    join(cwd, "connectauth-acknowledged.yaml"),
    "- method: fixtures.diff.v1.LibraryService/GetBook\n  change: opened\n",
  );
  const bad = await audit([afterImage, "--against", beforeImage, "--strict"], cwd);
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /^connectauth audit: bad acknowledgement file: connectauth-acknowledged\.yaml:1: "opened" is not a broadening change; one of: became_public, /,
  );
  assert.match(bad.stderr, /usage: connectauth audit/);
  assert.equal(bad.stdout, "");
  const missing = await audit([afterImage, "--against", beforeImage, "--acknowledged", "nope.yaml"], cwd);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read the acknowledgement file nope\.yaml \(ENOENT\)/);
  assert.equal((await audit([afterImage, "--acknowledged", "nope.yaml"])).code, 2);
  const scopes = await audit([afterImage, "--against", beforeImage, "--known-scopes", "a"]);
  assert.equal(scopes.code, 2);
  assert.match(scopes.stderr, /--known-scopes is not for --against/);
  const help = await audit(["--help"]);
  assert.match(help.stdout, /--against <base> +the base to compare with/);
});
