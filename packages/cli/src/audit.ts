import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { type DescService, type FileRegistry, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { Command, CommandIo } from "./command.js";
import { type AuditReport, auditServices, describeRule } from "./audit-report.js";

const usage = `usage: connectauth audit [image.binpb] [--json] [--strict] [--known-scopes a,b]

Prints every method of a buf image with its effective auth rule, and flags methods without a rule,
public methods that change state, public rules with requirements, scopes named by one rule only, and
conditions that do not compile. Without an image, builds the buf workspace of the current directory
(\`buf build\`, with buf on PATH or in $BUF).

  --json          the report as JSON ({ methods, findings }), for CI
  --strict        exit 1 when there is any finding
  --known-scopes  scopes granted elsewhere (comma-separated), not flagged when one rule names them
`;

/**
 * `connectauth audit`: the auth rules of every method of a schema, and what looks unsafe in them.
 *
 * ```sh
 * buf build -o image.binpb && npx connectauth audit image.binpb --strict
 * ```
 */
export const auditCommand: Command = {
  name: "audit",
  summary: "list every method of a buf image with its auth rule, and flag unsafe rules",
  async run(args, io) {
    const parsed = parseArgs(args);
    if (typeof parsed === "string") {
      io.stderr.write(`connectauth audit: ${parsed}\n\n${usage}`);
      return 2;
    }
    if (parsed.help) {
      io.stdout.write(usage);
      return 0;
    }
    let registry: FileRegistry;
    try {
      registry = readImage(parsed.image === undefined ? buildWorkspace(io) : readFileSync(parsed.image));
    } catch (error) {
      io.stderr.write(`connectauth audit: cannot read the schema: ${(error as Error).message}\n`);
      return 2;
    }
    const services = [...registry].filter((d): d is DescService => d.kind === "service");
    const report = auditServices(services, { knownScopes: parsed.knownScopes });
    io.stdout.write(parsed.json ? `${JSON.stringify(toJson(report), null, 2)}\n` : formatReport(report));
    return parsed.strict && report.findings.length > 0 ? 1 : 0;
  },
};

interface AuditArgs {
  readonly image?: string;
  readonly json: boolean;
  readonly strict: boolean;
  readonly help: boolean;
  readonly knownScopes: string[];
}

function parseArgs(args: readonly string[]): AuditArgs | string {
  let image: string | undefined;
  const result = { json: false, strict: false, help: false, knownScopes: [] as string[] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--json") result.json = true;
    else if (a === "--strict") result.strict = true;
    else if (a === "--help" || a === "-h") result.help = true;
    else if (a === "--known-scopes" || a.startsWith("--known-scopes=")) {
      const value = a.includes("=") ? a.slice(a.indexOf("=") + 1) : args[++i];
      if (value === undefined) return "--known-scopes needs a value";
      result.knownScopes.push(...value.split(",").filter((s) => s !== ""));
    } else if (a.startsWith("-")) return `unknown option "${a}"`;
    else if (image === undefined) image = a;
    else return "only one image can be audited at a time";
  }
  return { ...result, image };
}

/** Decodes a buf image (or a `FileDescriptorSet`, which it is wire-compatible with) into a registry. */
export function readImage(bytes: Uint8Array): FileRegistry {
  return createFileRegistry(fromBinary(FileDescriptorSetSchema, bytes));
}

function buildWorkspace(io: CommandIo): Uint8Array {
  return execFileSync(io.env["BUF"] ?? "buf", ["build", "-o", "-#format=binpb"], {
    maxBuffer: 256 * 1024 * 1024,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function toJson(report: AuditReport) {
  return {
    methods: report.methods.map((m) => ({
      name: m.name,
      kind: m.kind,
      rule: { ...m.rule, claims: [...m.rule.claims], condition: m.rule.condition ?? null },
      mutates: m.mutates ?? null,
    })),
    findings: report.findings,
  };
}

/** The report as text: one line per method, grouped by service, then the findings. */
export function formatReport(report: AuditReport): string {
  const lines: string[] = [];
  const width = Math.max(0, ...report.methods.map((m) => m.name.length - m.name.indexOf("/") - 1));
  let service = "";
  for (const m of report.methods) {
    const [s, method] = m.name.split("/") as [string, string];
    if (s !== service) {
      if (service !== "") lines.push("");
      lines.push(s);
      service = s;
    }
    const from = m.rule.source === "default" ? "" : ` (${m.rule.source} rule)`;
    lines.push(`  ${method.padEnd(width)}  ${m.kind.padEnd(16)}  ${describeRule(m.rule)}${from}`);
  }
  lines.push("");
  if (report.findings.length === 0) {
    lines.push(`${report.methods.length} methods, no findings`);
  } else {
    lines.push(`${report.methods.length} methods, ${report.findings.length} findings:`);
    for (const f of report.findings) lines.push(`  ${f.code.padEnd(24)}  ${f.target}: ${f.message}`);
  }
  return `${lines.join("\n")}\n`;
}
