import { readFileSync } from "node:fs";
import type { DescService, FileRegistry } from "@bufbuild/protobuf";
import { readCommandLine } from "../command-line.js";
import { auditJson, formatReport, readImage } from "../audit.js";
import { auditServices } from "../audit-report.js";
import { WorkspaceBuildError, buildBufWorkspace } from "../buf-workspace.js";
import type { Command } from "../command.js";

const help = `usage: connectauth audit [image.binpb] [--json] [--strict] [--known-scopes a,b]

Prints every method of a buf image with its effective auth rule, and flags what a reviewer should
look at: methods without a rule, public methods that change state, public rules with requirements
(never enforced), a scope named by one rule only that is one typo away from another scope, and
conditions that do not compile. A sound service (one scope per method included) has no findings.

Without an image, builds the buf workspace that holds the current directory (the nearest buf.yaml
here or above), with buf from PATH or $BUF (npm install --save-dev @bufbuild/buf puts it on the PATH
of npx and npm scripts).

options:
  --json               the report as JSON ({ methods, findings }), for CI
  --strict             exit 1 when there is any finding
  --known-scopes a,b   scopes granted elsewhere (comma-separated, repeatable): never flagged, and
                       a rule's scope one typo away from one of them is
  -h, --help           this help

examples:
  npx connectauth audit --strict
  buf build -o image.binpb && npx connectauth audit image.binpb --json
`;

const options = {
  json: { type: "boolean", default: false },
  strict: { type: "boolean", default: false },
  "known-scopes": { type: "string", multiple: true },
} as const;

/**
 * `connectauth audit`: the auth rules of every method of a schema, and what looks unsafe in them. Exit
 * code 0 (1 with `--strict` and a finding), 2 when the schema cannot be read.
 *
 * ```sh
 * npx connectauth audit --strict
 * ```
 *
 * Not audited: rules set in code (`authorization.rules`), which only the server sees.
 */
export const auditCommand: Command = {
  name: "audit",
  summary: "list every method of a buf schema with its auth rule, and flag unsafe rules",
  help,
  async run(args, io) {
    const line = readCommandLine(args, io, "connectauth audit", help, { options, allowPositionals: true });
    if (typeof line === "number") return line;
    const { values, positionals, fail } = line;
    if (positionals.length > 1) return fail("only one image can be audited at a time");
    let registry: FileRegistry;
    try {
      const image = positionals[0];
      registry = readImage(
        image === undefined ? buildBufWorkspace({ cwd: io.cwd ?? process.cwd(), env: io.env }) : readFileSync(image),
      );
    } catch (error) {
      const message =
        error instanceof WorkspaceBuildError ? error.message : `cannot read the schema: ${(error as Error).message}`;
      io.stderr.write(`connectauth audit: ${message}\n`);
      return 2;
    }
    const services = [...registry].filter((d): d is DescService => d.kind === "service");
    const knownScopes = (values["known-scopes"] ?? []).flatMap((v) => v.split(",")).filter((s) => s !== "");
    const report = auditServices(services, { knownScopes });
    io.stdout.write(values.json ? `${JSON.stringify(auditJson(report), null, 2)}\n` : formatReport(report));
    return values.strict && report.findings.length > 0 ? 1 : 0;
  },
};
