import { existsSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { DescService, FileRegistry } from "@bufbuild/protobuf";
import { defineCommand } from "../command-line.js";
import { auditJson, formatReport, readImage } from "../audit.js";
import { diffServices } from "../audit-diff.js";
import {
  type Acknowledgement,
  AcknowledgementError,
  defaultAcknowledgementFile,
  matchAcknowledgements,
  readAcknowledgements,
} from "../audit-diff-acknowledged.js";
import { type DiffBase, auditDiffJson, formatDiff } from "../audit-diff-report.js";
import { auditServices } from "../audit-report.js";
import { WorkspaceBuildError, buildBufGitRef, buildBufWorkspace } from "../buf-workspace.js";
import type { CommandIo } from "../command.js";
import { stableJson } from "../json.js";
import { flag } from "../option-values.js";

const help = `usage: connectauth audit [image.binpb] [--json] [--strict] [--known-scopes a,b]
       connectauth audit [image.binpb] --against <base> [--json] [--strict] [--acknowledged FILE]

Prints every method of a buf image with its effective auth rule, and flags what a reviewer should
look at: methods without a rule, public methods that change state, public rules with requirements
(never enforced), a scope named by one rule only that is one typo away from another scope, and
conditions that do not compile. A sound service (one scope per method included) has no findings.

Without an image, builds the buf workspace that holds the current directory (the nearest buf.yaml
here or above), with buf from PATH or $BUF (npm install --save-dev @bufbuild/buf puts it on the PATH
of npx and npm scripts).

With --against, compares every method's effective rule with the rule it had in <base> instead, and
lists the changes, broadenings first: a method became public, a scope left all_scopes, any_scopes
gained a scope or became empty, a claim or a condition was removed, a rule was removed, a new method
is public or has no rule, a service default was loosened. Then edited conditions (changed), narrowings,
added and removed methods, and rules written differently (neutral). <base> is an image file when a
file of that name exists, else a git ref of the repository that holds the workspace (built as buf
breaking --against '.git#ref=<ref>' reads it).

options:
  --json               the report as JSON ({ methods, findings }; with --against,
                       { "schema": "connectauth.audit-diff/v1", base, counts, changes, acknowledgements }), for CI
  --strict             exit 1 when there is any finding; with --against, when a broadening is not
                       acknowledged
  --known-scopes a,b   scopes granted elsewhere (comma-separated, repeatable): never flagged, and
                       a rule's scope one typo away from one of them is
  --against <base>     the base to compare with: a git ref (origin/main, v1.2.0) or an image file
  --acknowledged FILE  the broadenings reviewers accepted (default: ${defaultAcknowledgementFile} in the
                       current directory, when there is one), entries of the shape
                         - method: pkg.Service/Method
                           change: became_public
  -h, --help           this help

examples:
  npx connectauth audit --strict
  buf build -o image.binpb && npx connectauth audit image.binpb --json
  npx connectauth audit --against origin/main --strict
`;

const options = {
  json: flag,
  strict: flag,
  "known-scopes": { type: "string", multiple: true },
  against: { type: "string" },
  acknowledged: { type: "string" },
} as const;

/**
 * `connectauth audit`: the auth rules of every method of a schema, and what looks unsafe in them; with
 * `--against <base>`, how they changed since the base, broadenings first. Exit code 0 (1 with `--strict`
 * and a finding, or with `--against` a broadening not acknowledged), 2 on a usage error (a bad
 * acknowledgement file included) or when a schema cannot be read.
 *
 * ```sh
 * npx connectauth audit --strict
 * npx connectauth audit --against origin/main --strict
 * ```
 *
 * Not audited: rules set in code (`authorization.rules`), which only the server sees.
 */
export const auditCommand = defineCommand({
  name: "audit",
  summary: "list every method of a buf schema with its auth rule and flag unsafe rules; --against: what changed",
  help,
  config: { options, allowPositionals: true },
  async run({ values, positionals, fail }, io) {
    if (positionals.length > 1) return fail("only one image can be audited at a time");
    const against = values.against;
    if (against === undefined && values.acknowledged !== undefined) return fail("--acknowledged is for --against");
    if (against !== undefined && values["known-scopes"] !== undefined) return fail("--known-scopes is not for --against");
    if (against === "") return fail("--against needs a git ref or an image file");
    const cwd = io.cwd ?? process.cwd();
    let acknowledgements: { file: string | undefined; list: Acknowledgement[] } = { file: undefined, list: [] };
    if (against !== undefined) {
      const read = readAcknowledgementFile(cwd, values.acknowledged);
      if (typeof read === "string") return fail(read);
      acknowledgements = read;
    }
    let registry: FileRegistry;
    let base: { registry: FileRegistry; base: DiffBase } | undefined;
    try {
      const image = positionals[0];
      registry = readImage(image === undefined ? buildBufWorkspace({ cwd, env: io.env }) : readFileSync(resolve(cwd, image)));
      if (against !== undefined) base = readBase(against, cwd, io);
    } catch (error) {
      const message =
        error instanceof WorkspaceBuildError ? error.message : `cannot read the schema: ${(error as Error).message}`;
      io.stderr.write(`connectauth audit: ${message}\n`);
      return 2;
    }
    if (base !== undefined) {
      const changes = diffServices(servicesOf(base.registry), servicesOf(registry));
      const match = matchAcknowledgements(changes, acknowledgements.list);
      const context = { base: base.base, acknowledgements: { file: acknowledgements.file, match } };
      io.stdout.write(values.json ? stableJson(auditDiffJson(changes, context)) : formatDiff(changes, context, values));
      return values.strict && match.unacknowledged.length > 0 ? 1 : 0;
    }
    const knownScopes = (values["known-scopes"] ?? []).flatMap((v) => v.split(",")).filter((s) => s !== "");
    const report = auditServices(servicesOf(registry), { knownScopes });
    io.stdout.write(values.json ? `${JSON.stringify(auditJson(report), null, 2)}\n` : formatReport(report));
    return values.strict && report.findings.length > 0 ? 1 : 0;
  },
});

function servicesOf(registry: FileRegistry): DescService[] {
  return [...registry].filter((d): d is DescService => d.kind === "service");
}

/**
 * The base of `--against`: the image file of that name when there is one, else the workspace built at
 * that git ref. Throws what reading or building throws.
 */
function readBase(against: string, cwd: string, io: CommandIo): { registry: FileRegistry; base: DiffBase } {
  const path = resolve(cwd, against);
  if (existsSync(path) && statSync(path).isFile()) {
    return { registry: readImage(readFileSync(path)), base: { image: against } };
  }
  const { image, commit } = buildBufGitRef({ cwd, env: io.env, ref: against });
  return { registry: readImage(image), base: { ref: against, commit } };
}

/**
 * The acknowledgements: of `--acknowledged FILE` (which must exist), or of the default file in `cwd`
 * when there is one. A string is the usage error to report.
 */
function readAcknowledgementFile(
  cwd: string,
  named: string | undefined,
): { file: string | undefined; list: Acknowledgement[] } | string {
  const file = named ?? defaultAcknowledgementFile;
  let text: string;
  try {
    text = readFileSync(resolve(cwd, file), "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (named === undefined && code === "ENOENT") return { file: undefined, list: [] };
    return `cannot read the acknowledgement file ${file} (${code ?? (error as Error).message})`;
  }
  try {
    return { file, list: readAcknowledgements(text, file) };
  } catch (error) {
    if (error instanceof AcknowledgementError) return `bad acknowledgement file: ${error.message}`;
    throw error;
  }
}
