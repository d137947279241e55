import { test } from "node:test";
import assert from "node:assert/strict";
import { run } from "./run.js";

function capture() {
  const out = { stdout: "", stderr: "" };
  return {
    out,
    io: {
      stdout: { write: (t: string) => (out.stdout += t) },
      stderr: { write: (t: string) => (out.stderr += t) },
      env: {},
    },
  };
}

test("help lists the commands; an unknown command is a usage error", async () => {
  const a = capture();
  assert.equal(await run(["help"], a.io), 0);
  assert.match(a.out.stdout, /usage: connectauth <command>/);
  const b = capture();
  assert.equal(await run(["nope"], b.io), 2);
  assert.match(b.out.stderr, /unknown command "nope"/);
  assert.equal(await run([], capture().io), 2);
});
