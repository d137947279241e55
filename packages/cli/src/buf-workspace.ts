import { spawnSync } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";

/** Why {@link buildBufWorkspace} could not build an image. */
export type WorkspaceBuildErrorCode =
  /** No `buf.yaml` (or `buf.work.yaml`) in the directory or above it. */
  | "no_workspace"
  /** No `buf` program: not on PATH, or not where `$BUF` says. */
  | "buf_not_found"
  /** `buf build` ran and failed (its own message follows). */
  | "buf_failed"
  /** No `git` program on PATH (for a base that is a git ref). */
  | "git_not_found"
  /** The workspace is not in a git repository (for a base that is a git ref). */
  | "not_a_git_repository"
  /** The ref names no commit of the repository (a shallow clone may lack it). */
  | "unknown_ref";

/**
 * A buf image that could not be built; the message says what to do. Carries no cause (buf's output is
 * in the message, where the user reads it).
 *
 * ```ts
 * try { buildBufWorkspace(options); } catch (e) { if (e instanceof WorkspaceBuildError && e.code === "buf_not_found") … }
 * ```
 */
export class WorkspaceBuildError extends Error {
  override name = "WorkspaceBuildError";
  constructor(
    readonly code: WorkspaceBuildErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Options of {@link buildBufWorkspace}. */
export interface BuildBufWorkspaceOptions {
  /** Where to look for the workspace: this directory, then its parents. */
  readonly cwd: string;
  /** The environment of `buf` (its PATH finds it; `BUF` names it instead). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * The directory of the buf workspace that holds `from`: the nearest of `from` and its parents with a
 * `buf.yaml` or a `buf.work.yaml`, or `undefined`.
 *
 * ```ts
 * findBufWorkspace(process.cwd()); // "/home/me/app"
 * ```
 */
export function findBufWorkspace(from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "buf.yaml")) || existsSync(join(dir, "buf.work.yaml"))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Builds the buf workspace that holds `cwd` into an image (`buf build <workspace> -o -#format=binpb`),
 * with `buf` from PATH or `$BUF`. Outside a workspace it builds nothing: buf would take the directory
 * as a module and compile every `.proto` below it, `node_modules` included.
 *
 * ```ts
 * const image = buildBufWorkspace({ cwd: process.cwd(), env: process.env });
 * ```
 *
 * Not checked: that the workspace declares any service (an image without one audits to no methods).
 *
 * @throws WorkspaceBuildError with a message that says what to do.
 */
export function buildBufWorkspace(options: BuildBufWorkspaceOptions): Uint8Array {
  const withImage = "or pass an image built elsewhere: buf build -o image.binpb && connectauth audit image.binpb";
  const workspace = workspaceOf(options, withImage);
  return runBuf([workspace], workspace, options.env, withImage, `in ${workspace}`);
}

/** Options of {@link buildBufGitRef}. */
export interface BuildBufGitRefOptions extends BuildBufWorkspaceOptions {
  /** A git ref of the repository that holds the workspace: `origin/main`, `v1.2.0`, `HEAD~1`, a commit. */
  readonly ref: string;
}

/** An image built from a git ref, and the commit the ref named. */
export interface GitRefImage {
  readonly image: Uint8Array;
  /** The full commit hash the ref resolved to when it was built. */
  readonly commit: string;
}

/**
 * Builds the buf workspace that holds `cwd` as it was at a git ref, as `buf breaking --against
 * '.git#ref=…'` reads its base: the ref is resolved to a commit with `git rev-parse`, then `buf build
 * '.git#ref=<commit>,subdir=<workspace>'` runs at the repository's top (buf clones the commit; the
 * working tree is not touched). `subdir` is where the workspace is in the repository today.
 *
 * ```ts
 * const { image, commit } = buildBufGitRef({ cwd: process.cwd(), env: process.env, ref: "origin/main" });
 * ```
 *
 * Not checked: that the workspace was at the same place at that ref (buf then fails, and says so).
 *
 * @throws WorkspaceBuildError with a message that says what to do.
 */
export function buildBufGitRef(options: BuildBufGitRefOptions): GitRefImage {
  const withImage =
    "or pass an image of the base: buf build '.git#ref=main' -o base.binpb && connectauth audit --against base.binpb";
  const workspace = workspaceOf(options, withImage);
  const top = git(["rev-parse", "--show-toplevel"], workspace, options.env, withImage);
  if (top === undefined) {
    throw new WorkspaceBuildError(
      "not_a_git_repository",
      `${workspace} is not in a git repository, so --against ${options.ref} names nothing. Run connectauth audit in a clone, ${withImage}`,
    );
  }
  // A ref never starts with a dash (git refuses such names); refused here so that git cannot read it as an option.
  const commit = options.ref.startsWith("-")
    ? undefined
    : git(["rev-parse", "--verify", "--quiet", `${options.ref}^{commit}`], workspace, options.env, withImage);
  if (commit === undefined) {
    throw new WorkspaceBuildError(
      "unknown_ref",
      `"${options.ref}" names no commit of the git repository at ${top}. Check the name (git rev-parse ${options.ref}); in a shallow clone (CI), fetch it first (git fetch origin main, or actions/checkout with fetch-depth: 0), ${withImage}`,
    );
  }
  const subdir = relative(realpathSync(top), realpathSync(workspace)).split(sep).join("/");
  const input = `.git#ref=${commit}${subdir === "" ? "" : `,subdir=${subdir}`}`;
  return { image: runBuf([input], top, options.env, withImage, `for ${options.ref} (${commit.slice(0, 12)})`), commit };
}

/** The workspace that holds `options.cwd`, or a `no_workspace` error. */
function workspaceOf(options: BuildBufWorkspaceOptions, withImage: string): string {
  const workspace = findBufWorkspace(options.cwd);
  if (workspace === undefined) {
    throw new WorkspaceBuildError(
      "no_workspace",
      `no buf workspace here: no buf.yaml in ${options.cwd} or above it. Run connectauth audit in the directory of your buf.yaml, ${withImage}`,
    );
  }
  return workspace;
}

/** `buf build <input> -o -#format=binpb` in `cwd`: the image, or a `buf_not_found` / `buf_failed` error. */
function runBuf(
  input: readonly string[],
  cwd: string,
  env: BuildBufWorkspaceOptions["env"],
  withImage: string,
  where: string,
): Uint8Array {
  const named = env["BUF"];
  const result = spawnSync(named ?? "buf", ["build", ...input, "-o", "-#format=binpb"], {
    cwd,
    env,
    maxBuffer: 256 * 1024 * 1024,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const code = (result.error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT" || code === "EACCES") {
    throw new WorkspaceBuildError(
      "buf_not_found",
      named === undefined
        ? `buf is not on PATH. Install it (npm install --save-dev @bufbuild/buf, then run npx connectauth audit), set BUF to its path, ${withImage}`
        : `BUF is set to "${named}", which is not a program that can run (${code}). Point BUF at buf, unset it to use buf from PATH, ${withImage}`,
    );
  }
  if (result.error !== undefined || result.status !== 0) {
    const said =
      result.stderr?.toString("utf8").trim() || result.error?.message || `exit status ${result.status ?? result.signal}`;
    throw new WorkspaceBuildError("buf_failed", `buf build failed ${where}:\n${said}`);
  }
  return result.stdout;
}

/** `git <args>` in `cwd`: its output without the final newline, or `undefined` when it fails. */
function git(args: readonly string[], cwd: string, env: BuildBufWorkspaceOptions["env"], withImage: string): string | undefined {
  const result = spawnSync("git", args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  const code = (result.error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT" || code === "EACCES") {
    throw new WorkspaceBuildError("git_not_found", `git is not on PATH, so a git ref cannot be read. Install git, ${withImage}`);
  }
  return result.status === 0 ? result.stdout.trim() : undefined;
}
