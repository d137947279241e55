import { type BroadeningChange, type MethodChange, broadeningChanges } from "./audit-diff.js";

/** One broadening a reviewer accepted: the method and the fixed word of the change. */
export interface Acknowledgement {
  /** `pkg.Service/Method`. */
  readonly method: string;
  readonly change: BroadeningChange;
}

/** Why {@link readAcknowledgements} refused a file. */
export type AcknowledgementErrorCode =
  /** A line that is not `- method: …`, `  change: …`, a comment or blank. */
  | "syntax"
  /** An entry without `method` or without `change`, or with one of them twice. */
  | "incomplete_entry"
  /** A `method` that is not `pkg.Service/Method`. */
  | "bad_method"
  /** A `change` that is not one of {@link broadeningChanges}. */
  | "unknown_change"
  /** The same method and change listed twice. */
  | "duplicate";

/**
 * An acknowledgement file that is not exactly the shape {@link readAcknowledgements} reads; the message
 * names the file's line and what is expected there.
 *
 * ```ts
 * try { readAcknowledgements(text, "connectauth-acknowledged.yaml"); } catch (e) { if (e instanceof AcknowledgementError) … }
 * ```
 */
export class AcknowledgementError extends Error {
  override name = "AcknowledgementError";
  constructor(
    readonly code: AcknowledgementErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The default acknowledgement file, read from the current directory. */
export const defaultAcknowledgementFile = "connectauth-acknowledged.yaml";

const methodName = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\/[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Reads an acknowledgement file: a YAML list of entries of exactly two keys, in either order,
 *
 * ```yaml
 * # reviewed in the pull request that made Ping public
 * - method: example.v1.GreeterService/Ping
 *   change: became_public
 * ```
 *
 * with `#` comments, blank lines, values plain or quoted (`"…"`, `'…'`, no escapes), and `[]` or nothing
 * for an empty list. This is a strict reader of that one shape, not a YAML parser: anchors, flow maps,
 * multi-line values and other keys are refused.
 *
 * ```ts
 * readAcknowledgements("- method: a.v1.S/M\n  change: scope_removed\n", "ack.yaml"); // [{ method: "a.v1.S/M", change: "scope_removed" }]
 * ```
 *
 * Not checked: that the methods exist (an entry that matches no broadening is reported as unused).
 *
 * @throws AcknowledgementError naming `file`, the line and what is expected.
 */
export function readAcknowledgements(text: string, file: string): Acknowledgement[] {
  const entries: Entry[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  let dashIndent: number | undefined;
  let keyIndent: number | undefined;
  let emptyList = false;
  for (const [i, raw] of lines.entries()) {
    const n = i + 1;
    const content = withoutComment(raw).trimEnd();
    const body = content.trimStart();
    if (body === "") continue;
    const indent = content.length - body.length;
    if (content.slice(0, indent).includes("\t")) fail(file, "syntax", n, "tabs cannot indent YAML");
    if (body === "[]" && entries.length === 0 && !emptyList) {
      emptyList = true;
      continue;
    }
    if (emptyList) fail(file, "syntax", n, "nothing may follow []");
    const dash = /^-( +)(.*)$/.exec(body);
    let pair: string;
    if (dash !== null) {
      if (dashIndent !== undefined && indent !== dashIndent) fail(file, "syntax", n, "every entry's dash must be indented alike");
      dashIndent = indent;
      keyIndent = indent + 1 + (dash[1] as string).length;
      entries.push({ line: n });
      pair = dash[2] as string;
    } else {
      if (keyIndent === undefined) fail(file, "syntax", n, shape);
      if (indent !== keyIndent) fail(file, "syntax", n, `a key must line up with the key after its entry's dash; ${shape}`);
      pair = body;
    }
    const kv = /^(method|change):(?: +(.*))?$/.exec(pair);
    if (kv === null) fail(file, "syntax", n, `expected "method: …" or "change: …"; ${shape}`);
    const key = kv[1] as "method" | "change";
    const value = unquote((kv[2] ?? "").trim());
    if (value === undefined) fail(file, "syntax", n, `the value of ${key} must be one word, plain or quoted`);
    const entry = entries.at(-1) as Entry;
    if (entry[key] !== undefined) fail(file, "incomplete_entry", n, `the entry of line ${entry.line} has ${key} twice`);
    entry[key] = value;
  }
  const seen = new Set<string>();
  return entries.map(({ line, method, change }): Acknowledgement => {
    if (method === undefined) fail(file, "incomplete_entry", line, `the entry has no method; ${shape}`);
    if (change === undefined) fail(file, "incomplete_entry", line, `the entry has no change; ${shape}`);
    if (!methodName.test(method))
      fail(file, "bad_method", line, `"${method}" is not a method name of the form pkg.Service/Method`);
    if (!isBroadeningChange(change)) {
      fail(file, "unknown_change", line, `"${change}" is not a broadening change; one of: ${broadeningChanges.join(", ")}`);
    }
    if (seen.has(`${method} ${change}`)) fail(file, "duplicate", line, `${method} ${change} is listed twice`);
    seen.add(`${method} ${change}`);
    return { method, change };
  });
}

interface Entry {
  readonly line: number;
  method?: string;
  change?: string;
}

const shape = "expected entries of the shape\n- method: pkg.Service/Method\n  change: became_public";

function fail(file: string, code: AcknowledgementErrorCode, line: number, message: string): never {
  throw new AcknowledgementError(code, `${file}:${line}: ${message}`);
}

function isBroadeningChange(word: string): word is BroadeningChange {
  return (broadeningChanges as readonly string[]).includes(word);
}

/** The line without a `#` comment (one that starts the line or follows a space, outside quotes). */
function withoutComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === "#" && (i === 0 || line[i - 1] === " " || line[i - 1] === "\t")) {
      return line.slice(0, i);
    }
  }
  return line;
}

/** A plain or quoted scalar of one word, or `undefined` when it is not one. */
function unquote(value: string): string | undefined {
  const quoted = /^"([^"\\]*)"$|^'([^']*)'$/.exec(value);
  if (quoted === null && /^["'&*!|>%@`{[\]]/.test(value)) return undefined;
  const word = quoted === null ? value : (quoted[1] ?? quoted[2] ?? "");
  return /^[^\s:#]+$/.test(word) ? word : undefined;
}

/** What the acknowledgements cover: the broadening reasons they match, and the entries that match none. */
export interface AcknowledgementMatch {
  /** `method change` of every acknowledged broadening reason. */
  readonly acknowledged: ReadonlySet<string>;
  /** The broadening reasons no entry acknowledges, once per method and change. */
  readonly unacknowledged: readonly { readonly method: string; readonly change: BroadeningChange }[];
  /** The entries that match no broadening (reported; not an error). */
  readonly unused: readonly Acknowledgement[];
}

/**
 * Matches acknowledgements with the broadening reasons of a diff: a reason is acknowledged when an
 * entry names its method and its change word.
 *
 * ```ts
 * const { unacknowledged } = matchAcknowledgements(changes, readAcknowledgements(text, file));
 * if (unacknowledged.length > 0) process.exitCode = 1;
 * ```
 *
 * Not checked: who wrote the entries (the file is reviewed like the rules, in the same pull request).
 */
export function matchAcknowledgements(
  changes: readonly MethodChange[],
  acknowledgements: readonly Acknowledgement[],
): AcknowledgementMatch {
  const listed = new Set(acknowledgements.map((a) => `${a.method} ${a.change}`));
  const acknowledged = new Set<string>();
  const unacknowledged = new Map<string, { method: string; change: BroadeningChange }>();
  for (const c of changes) {
    for (const r of c.why) {
      if (r.kind !== "broadening" || !isBroadeningChange(r.change)) continue;
      const key = `${c.method} ${r.change}`;
      if (listed.has(key)) acknowledged.add(key);
      else unacknowledged.set(key, { method: c.method, change: r.change });
    }
  }
  const unused = acknowledgements.filter((a) => !acknowledged.has(`${a.method} ${a.change}`));
  return { acknowledged, unacknowledged: [...unacknowledged.values()], unused };
}
