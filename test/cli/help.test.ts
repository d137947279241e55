// `connectauth` as people use CLIs: --help (and -h) on every command and subcommand, `help <command>`
// with the same text, --version from the package's own package.json, usage errors that name the option.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { commands } from "../../packages/cli/src/run.js";
import { runCli, spawnCli } from "../support/run-cli.js";

/** Every command line that names a command: ["doctor"], ["token"], ["token", "mint"], … */
const paths = commands.flatMap((c) =>
  "subcommands" in c ? [[c.name], ...c.subcommands.map((s) => [c.name, s.name])] : [[c.name]],
);

test("--help, -h and `help <command>` print the command's help on stdout, exit 0, for every command and subcommand", async () => {
  assert.ok(paths.length >= 6, JSON.stringify(paths));
  for (const path of paths) {
    const command = path.reduce<{ help: string; subcommands?: readonly { name: string; help: string }[] } | undefined>(
      (at, name) => (at === undefined ? commands : (at.subcommands ?? [])).find((c) => c.name === name),
      undefined,
    )!;
    assert.match(command.help, new RegExp(`^usage: connectauth ${path.join(" ")}`), path.join(" "));
    for (const args of [
      [...path, "--help"],
      [...path, "-h"],
      ["help", ...path],
    ]) {
      const r = await runCli(args);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stdout, command.help, args.join(" "));
      assert.equal(r.stderr, "");
    }
  }
});

test("--help wins over the rest of the line, except as the value of an option", async () => {
  const help = await runCli(["doctor", "--bogus", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: connectauth doctor/);
  // `--sub --help` is the subject "--help", as getopt reads it: no help, a usage error for what is missing.
  const value = await runCli(["token", "mint", "--sub", "--help", "--ttl", "x"]);
  assert.equal(value.code, 2);
  assert.match(value.stderr, /--ttl must be a whole number of seconds/);
});

test("connectauth, help, and unknown commands", async () => {
  const top = await runCli(["--help"]);
  assert.equal(top.code, 0);
  for (const c of commands) assert.match(top.stdout, new RegExp(`^ {2}${c.name} +${c.summary.replace(/[()`]/g, "\\$&")}$`, "m"));
  assert.match(top.stdout, /connectauth help <command>/);
  assert.equal((await runCli(["help"])).stdout, top.stdout);
  const none = await runCli([]);
  assert.equal(none.code, 2);
  assert.equal(none.stderr, top.stdout);
  const unknown = await runCli(["nope"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^connectauth: unknown command "nope"/);
  const sub = await runCli(["token", "nope"]);
  assert.equal(sub.code, 2);
  assert.match(sub.stderr, /^connectauth token: unknown command "nope"[\s\S]*connectauth token decode/);
  assert.equal((await runCli(["token"])).code, 2);
  const helpNope = await runCli(["help", "token", "nope"]);
  assert.equal(helpNope.code, 2);
  assert.match(helpNope.stderr, /no command "token nope"/);
});

test("usage errors: the message, the command's usage, and where its help is", async () => {
  const r = await runCli(["token", "decode", "--nope"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^connectauth token decode: Unknown option '--nope'/);
  assert.match(r.stderr, /\n\nusage: connectauth token decode <token>/);
  assert.match(r.stderr, /run "connectauth token decode --help" for every option\n$/);
});

test("--version, as a real process: the version in packages/cli/package.json", async () => {
  const { version } = JSON.parse(readFileSync(new URL("../../packages/cli/package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  for (const flag of ["--version", "-v"]) {
    const r = await spawnCli([flag]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${version}\n`);
  }
  const help = await spawnCli(["token", "mint", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: connectauth token mint/);
});

test("the version is read from the package.json beside the code when asked, not written into it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "connectauth-version-"));
  try {
    cpSync(new URL("../../packages/cli/src/version.ts", import.meta.url), join(dir, "src", "version.ts"));
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "@connectauth/cli", version: "9.8.7-test" }));
    const { cliVersion } = (await import(
      pathToFileURL(join(dir, "src", "version.ts")).href
    )) as typeof import("../../packages/cli/src/version.js");
    assert.equal(cliVersion(), "9.8.7-test");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
