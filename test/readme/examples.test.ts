// The READMEs' ```ts examples compile against the packages as they are built (as connect-es compiles its
// README code): every block of README.md and packages/*/README.md, each a module of its own, with the free
// names of test/readme/prelude.d.mts. A block that is deliberately partial is marked, on the line before its
// fence, `<!-- not compiled: <reason> -->`.
import { suite, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { type Snippet, extractSnippets, repoRoot, typeCheckSnippets } from "../support/readme-snippets.js";

const readmes = [
  "README.md",
  ...readdirSync(join(repoRoot, "packages"))
    .map((p) => `packages/${p}/README.md`)
    .filter((f) => existsSync(join(repoRoot, f))),
];
const snippets = readmes.flatMap((f) => extractSnippets(readFileSync(join(repoRoot, f), "utf8"), f));

// The checker's own controls, compiled in the same program as the READMEs (one compilation for all).
const controls = extractSnippets(
  [
    "```ts",
    'import { createServerAuth } from "@connectauth/server";',
    "createServerAuth({ authenticators: [jwt], realm: 42 });",
    "```",
    "",
    "<!-- not compiled: a fragment of an options object -->",
    "```ts",
    "  realm: 'x', // not a program",
    "```",
    "```typescript",
    'import { createClient } from "@connectrpc/connect";',
    "export const client = createClient(ShopService, {} as never);",
    "const item = await client.getItem({ id: 1 });",
    "```",
    "```ts",
    "// Only names of the prelude.",
    'log.info([(await shop.getItem({ id: "42" })).caller, jwt.name, GreeterService.typeName]);',
    "```",
  ].join("\n"),
  "controls.md",
);
const errors = typeCheckSnippets([...snippets, ...controls]);
const errorsOf = (file: string) => errors.filter((e) => e.snippet?.file === file).map((e) => `${e.at}: ${e.message}`);

suite("README examples", () => {
  test("the checker: a wrong snippet fails at its line, a marked one is skipped, top-level await and the prelude work", () => {
    assert.deepEqual(
      controls.map((s) => [s.line, s.notCompiled]),
      [
        [2, undefined],
        [8, "a fragment of an options object"],
        [11, undefined],
        [16, undefined],
      ],
    );
    const found = errorsOf("controls.md");
    assert.equal(found.length, 2, found.join("\n"));
    assert.match(found[0]!, /^controls\.md:3:\d+: .*'number' is not assignable to type 'string'/);
    assert.match(found[1]!, /^controls\.md:13:\d+: .*'number' is not assignable to type 'string'/);
  });

  test("markers: a reason is required, and a ts block must follow", () => {
    assert.throws(
      () => extractSnippets("<!-- not compiled: -->\n```ts\nx\n```", "m.md"),
      /m\.md:1: "not compiled" needs a reason/,
    );
    assert.throws(() => extractSnippets("<!-- not compiled: why -->\n```sh\nls\n```", "m.md"), /not followed by a ts block/);
    assert.throws(() => extractSnippets("<!-- not compiled: why -->\ntext\n```ts\nx\n```", "m.md"), /not followed by a ts block/);
  });

  test("the prelude and the generated schemas compile", () => {
    assert.deepEqual(
      errors.filter((e) => e.snippet === undefined).map((e) => `${e.at}: ${e.message}`),
      [],
    );
  });

  for (const file of readmes) {
    const own: Snippet[] = snippets.filter((s) => s.file === file);
    test(`${file}: its ${own.length} ts blocks compile (${own.filter((s) => s.notCompiled).length} marked not compiled)`, () => {
      assert.deepEqual(errorsOf(file), []);
    });
  }
});
