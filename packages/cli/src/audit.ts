import { type FileRegistry, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { EffectiveRule, RuleRequirements } from "@connectauth/core";
import { type AuditReport, describeRule } from "./audit-report.js";

/**
 * Decodes a buf image (or a `FileDescriptorSet`, which it is wire-compatible with) into a registry.
 *
 * ```ts
 * const registry = readImage(readFileSync("image.binpb"));
 * ```
 *
 * Not checked: that the image holds any service.
 */
export function readImage(bytes: Uint8Array): FileRegistry {
  return createFileRegistry(fromBinary(FileDescriptorSetSchema, bytes));
}

/**
 * The report as `--json` prints it: `{ methods, findings }`, every field present (`null` when absent).
 *
 * ```ts
 * io.stdout.write(`${JSON.stringify(auditJson(report), null, 2)}\n`);
 * ```
 */
export function auditJson(report: AuditReport) {
  return {
    methods: report.methods.map((m) => ({ name: m.name, kind: m.kind, rule: ruleJson(m.rule), mutates: m.mutates ?? null })),
    findings: report.findings,
  };
}

/**
 * A rule as the `--json` outputs print it: every field of the effective rule, `condition` `null` when
 * there is none, `candidate` the candidate rule beside it (its requirements, never enforced) or `null`.
 *
 * ```ts
 * ruleJson(ruleOf(GreeterService.method.ping)); // { public: true, allScopes: [], anyScopes: [], claims: [], condition: null, source: "method", origin: "proto", candidate: null }
 * ```
 */
export function ruleJson(rule: EffectiveRule) {
  const { source, origin, candidate } = rule;
  return { ...requirementsJson(rule), source, origin, candidate: candidate === undefined ? null : requirementsJson(candidate) };
}

/** The requirements of a rule or candidate as JSON: every field, `condition` `null` when there is none. */
function requirementsJson(rule: RuleRequirements) {
  return {
    public: rule.public,
    allScopes: [...rule.allScopes],
    anyScopes: [...rule.anyScopes],
    claims: [...rule.claims],
    condition: rule.condition ?? null,
  };
}

/**
 * The report as text: one line per method, grouped by service (and one for its candidate rule, when it
 * has one), then the findings.
 *
 * ```ts
 * io.stdout.write(formatReport(auditServices(services)));
 * ```
 */
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
    const candidate = m.rule.candidate;
    if (candidate !== undefined) {
      lines.push(`  ${"".padEnd(width)}  ${"candidate".padEnd(16)}  ${describeRule(candidate)} (reported, not enforced)`);
    }
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
