import type { EffectiveRule } from "@connectauth/core";
import { ruleJson } from "./audit.js";
import { type AcknowledgementMatch, defaultAcknowledgementFile } from "./audit-diff-acknowledged.js";
import { type ChangeKind, type MethodChange, changeKinds } from "./audit-diff.js";
import { describeRule } from "./audit-report.js";

/** What a diff was taken against: a git ref (and the commit it named), or an image file. */
export type DiffBase =
  | { readonly ref: string; readonly commit: string; readonly image?: undefined }
  | { readonly image: string; readonly ref?: undefined; readonly commit?: undefined };

/** What a report says besides the changes: the base, and what the acknowledgements matched. */
export interface DiffReportContext {
  readonly base: DiffBase;
  /**
   * The acknowledgement file read (its path as given; `undefined` when there was none), and what it
   * matched (with no file: every broadening unacknowledged).
   */
  readonly acknowledgements: { readonly file: string | undefined; readonly match: AcknowledgementMatch };
}

/** The `schema` of `connectauth audit --against --json`; it changes only when a field changes meaning or goes away. */
export const auditDiffSchema = "connectauth.audit-diff/v1";

/**
 * The diff as `--json` prints it (`connectauth.audit-diff/v1`, documented in the package README): the
 * base, a count per kind, every method's change (broadenings first) with both rules (`null` for a method
 * absent from that version) and its reasons, then the acknowledgements. Every field is present.
 *
 * ```ts
 * const acknowledgements = { file: undefined, match: matchAcknowledgements(changes, []) };
 * io.stdout.write(stableJson(auditDiffJson(changes, { base: { ref: "origin/main", commit }, acknowledgements })));
 * ```
 *
 * Not checked: that `acknowledgements.match` was computed from these changes.
 */
export function auditDiffJson(changes: readonly MethodChange[], context: DiffReportContext) {
  const ack = context.acknowledgements;
  const acknowledged = (method: string, change: string) => ack.match.acknowledged.has(`${method} ${change}`);
  return {
    schema: auditDiffSchema,
    base: { ref: context.base.ref ?? null, commit: context.base.commit ?? null, image: context.base.image ?? null },
    counts: Object.fromEntries(changeKinds.map((k) => [k, changes.filter((c) => c.kind === k).length])) as Record<
      ChangeKind,
      number
    >,
    changes: changes.map((c) => ({
      method: c.method,
      kind: c.kind,
      before: c.before === undefined ? null : ruleJson(c.before),
      after: c.after === undefined ? null : ruleJson(c.after),
      why: c.why.map((r) => ({
        change: r.change,
        kind: r.kind,
        message: r.message,
        acknowledged: r.kind === "broadening" && acknowledged(c.method, r.change),
      })),
    })),
    acknowledgements: { file: ack.file ?? null, unacknowledged: ack.match.unacknowledged, unused: ack.match.unused },
  };
}

const headings: Record<ChangeKind, string> = {
  broadening: "broadening: more callers may call these",
  changed: "changed: a condition was edited (read both texts)",
  narrowing: "narrowing: fewer callers may call these",
  added: "added, with a rule",
  removed: "removed",
  neutral: "neutral: the same callers, the rule written differently or its candidate changed",
};

/**
 * The diff as text: the base and the counts, then each kind that has methods, broadenings first, each
 * method with `before → after` (a candidate rule in brackets after its rule) and its reasons (`(acknowledged)` after an acknowledged one); methods whose
 * rule did not change at all are counted, not listed. Then the acknowledgements: unused ones, and, with
 * `strict`, those missing.
 *
 * ```ts
 * io.stdout.write(formatDiff(changes, { base: { image: "base.binpb" }, acknowledgements }, { strict: false }));
 * ```
 *
 * Not decided here: the exit code (the command's: 1 with `strict` and an unacknowledged broadening).
 */
export function formatDiff(
  changes: readonly MethodChange[],
  context: DiffReportContext,
  options: { readonly strict: boolean },
): string {
  const { base } = context;
  const ack = context.acknowledgements;
  const lines: string[] = [];
  const from = base.image !== undefined ? `the image ${base.image}` : `${base.ref} (${base.commit.slice(0, 12)})`;
  const unchanged = changes.filter((c) => c.kind === "neutral" && c.why.length === 0);
  const counts = changeKinds
    .map((k) => [k, changes.filter((c) => c.kind === k && (k !== "neutral" || c.why.length > 0)).length] as const)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`);
  lines.push(`auth rules against ${from}: ${changes.length} methods; ${[...counts, `${unchanged.length} unchanged`].join(", ")}`);
  for (const kind of changeKinds) {
    const listed = changes.filter((c) => c.kind === kind && c.why.length > 0);
    if (listed.length === 0) continue;
    lines.push("", headings[kind]);
    for (const c of listed) {
      lines.push(`  ${c.method}`, `    ${side(c.before)}  →  ${side(c.after)}`);
      for (const r of c.why) {
        const done = r.kind === "broadening" && ack.match.acknowledged.has(`${c.method} ${r.change}`) ? " (acknowledged)" : "";
        lines.push(`    ${r.change}: ${r.message}${done}`);
      }
    }
  }
  if (ack.match.unused.length > 0) {
    lines.push("", `unused acknowledgements in ${ack.file} (they match no broadening; remove them):`);
    for (const u of ack.match.unused) lines.push(`  - method: ${u.method}`, `    change: ${u.change}`);
  }
  if (options.strict) {
    const missing = ack.match.unacknowledged;
    const file = ack.file;
    lines.push("");
    if (missing.length === 0) {
      lines.push("--strict: every broadening is acknowledged");
    } else {
      lines.push(
        `--strict: ${missing.length} broadening${missing.length === 1 ? " is" : "s are"} not acknowledged in ${file ?? `${defaultAcknowledgementFile} (there is none here)`}; after review, list ${missing.length === 1 ? "it" : "them"} there:`,
      );
      for (const m of missing) lines.push(`  - method: ${m.method}`, `    change: ${m.change}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

function side(rule: EffectiveRule | undefined): string {
  if (rule === undefined) return "(no such method)";
  const described = rule.source === "service" ? `${describeRule(rule)} (service default)` : describeRule(rule);
  return rule.candidate === undefined ? described : `${described} [candidate: ${describeRule(rule.candidate)}]`;
}
