// The ```ts blocks of Markdown files, type-checked against the packages (their built declarations) as a
// user's app would see them, the way connect-es compiles its README code. Each block is one module,
// compiled next to test/readme/prelude.d.mts, which declares the free names snippets share. A block
// whose previous non-blank line is `<!-- not compiled: <reason> -->` is skipped.
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const readmeDir = join(repoRoot, "test", "readme");

/** One ```ts block. */
export interface Snippet {
  /** The Markdown file, relative to the repo. */
  readonly file: string;
  /** The line of the block's first code line in the file (1-based). */
  readonly line: number;
  readonly code: string;
  /** Why the block is not compiled (its `<!-- not compiled: … -->` marker), or `undefined`. */
  readonly notCompiled: string | undefined;
}

/** A compile error of a snippet, at its place in the Markdown file. */
export interface SnippetError {
  /** The snippet, or `undefined` for an error outside any (in the prelude, say). */
  readonly snippet: Snippet | undefined;
  /** `file:line:column` in the Markdown file. */
  readonly at: string;
  readonly message: string;
}

const fence = /^( {0,3})(`{3,}|~{3,})\s*([\w-]*)[^`]*$/;
const marker = /^<!--\s*not compiled:(.*?)-->\s*$/;
const languages = new Set(["ts", "typescript"]);

/**
 * The ```ts (or ```typescript) blocks of a Markdown text, in order. Throws for a `not compiled` marker
 * without a reason, or one that is not followed by a ts block.
 */
export function extractSnippets(markdown: string, file: string): Snippet[] {
  const lines = markdown.split(/\r?\n/);
  const snippets: Snippet[] = [];
  let pending: { reason: string; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    const note = marker.exec(text.trim());
    if (note) {
      const reason = note[1]!.trim();
      if (reason === "") throw new Error(`${file}:${i + 1}: "not compiled" needs a reason`);
      pending = { reason, line: i + 1 };
      continue;
    }
    const open = fence.exec(text);
    if (!open) {
      if (pending && text.trim() !== "") throw new Error(`${file}:${pending.line}: "not compiled" is not followed by a ts block`);
      continue;
    }
    const [, indent = "", ticks = "", language = ""] = open;
    // CommonMark: the closing fence is the same character, at least as many, nothing after it.
    const close = new RegExp(`^ {0,3}${ticks[0]}{${ticks.length},}\\s*$`);
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !close.test(lines[j]!); j++) {
      const line = lines[j]!;
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line.trimStart());
    }
    if (languages.has(language.toLowerCase())) {
      snippets.push({ file, line: i + 2, code: body.join("\n"), notCompiled: pending?.reason });
    } else if (pending) {
      throw new Error(`${file}:${pending.line}: "not compiled" is not followed by a ts block`);
    }
    pending = undefined;
    i = j;
  }
  if (pending) throw new Error(`${file}:${pending.line}: "not compiled" is not followed by a ts block`);
  return snippets;
}

/** Where a snippet is compiled: a module of its own in test/readme (so `./gen/…` is test/readme/gen). */
function modulePath(snippet: Snippet, index: number): string {
  return join(readmeDir, `${snippet.file.replace(/[^\w.-]+/g, "_")}-${snippet.line}-${index}.ts`);
}

/**
 * Type-checks the snippets that are not marked `not compiled`, all in one program with the options of
 * tsconfig.test.json (strict, NodeNext, Node types), each as an ES module (top-level await allowed).
 * Returns every error, in a snippet or anywhere else (the prelude, say), by file and line; `[]` when
 * all compile.
 */
export function typeCheckSnippets(snippets: readonly Snippet[]): SnippetError[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(repoRoot, "tsconfig.test.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      },
    },
  );
  if (config === undefined) throw new Error("tsconfig.test.json cannot be read");
  const options: ts.CompilerOptions = { ...config.options, noEmit: true, moduleDetection: ts.ModuleDetectionKind.Force };
  // Each snippet's module, in the order given (which is the order of its errors).
  const modules = new Map<string, { snippet: Snippet; order: number }>();
  snippets.forEach((snippet, order) => {
    if (snippet.notCompiled === undefined) modules.set(modulePath(snippet, order), { snippet, order });
  });
  const text = (path: string) => {
    const m = modules.get(path);
    return m === undefined ? undefined : `${m.snippet.code}\nexport {};\n`;
  };
  const host = ts.createCompilerHost(options, true);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (path) => modules.has(path) || fileExists.call(host, path);
  host.readFile = (path) => text(path) ?? readFile.call(host, path);
  host.getSourceFile = (path, language, onError, create) => {
    const source = text(path);
    return source === undefined
      ? getSourceFile.call(host, path, language, onError, create)
      : ts.createSourceFile(path, source, language, true);
  };
  const prelude = join(readmeDir, "prelude.d.mts");
  const program = ts.createProgram({ rootNames: [prelude, ...modules.keys()], options, host });
  const found: { error: SnippetError; order: number; start: number }[] = [];
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    const start = d.start ?? 0;
    const m = d.file && modules.get(d.file.fileName);
    if (d.file && m) {
      const { line, character } = d.file.getLineAndCharacterOfPosition(start);
      const at = `${m.snippet.file}:${m.snippet.line + line}:${character + 1}`;
      found.push({ error: { snippet: m.snippet, at, message }, order: m.order, start });
    } else {
      // Anywhere else (the prelude, test/readme/gen, the options): no snippet can be trusted to compile.
      const at = d.file ? relative(repoRoot, d.file.fileName) : "(compiler options)";
      found.push({ error: { snippet: undefined, at, message }, order: -1, start });
    }
  }
  return found.sort((a, b) => a.order - b.order || a.start - b.start).map((f) => f.error);
}
