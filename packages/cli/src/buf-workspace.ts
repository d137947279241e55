import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

/** Why {@link buildBufWorkspace} could not build an image. */
export type WorkspaceBuildErrorCode =
  /** No `buf.yaml` (or `buf.work.yaml`) in the directory or above it. */
  | "no_workspace"
  /** No `buf` program: not on PATH, or not where `$BUF` says. */
  | "buf_not_found"
  /** `buf build` ran and failed (its own message follows). */
  | "buf_failed";

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
  const workspace = findBufWorkspace(options.cwd);
  const withImage = "or pass an image built elsewhere: buf build -o image.binpb && connectauth audit image.binpb";
  if (workspace === undefined) {
    throw new WorkspaceBuildError(
      "no_workspace",
      `no buf workspace here: no buf.yaml in ${options.cwd} or above it. Run connectauth audit in the directory of your buf.yaml, ${withImage}`,
    );
  }
  const named = options.env["BUF"];
  const result = spawnSync(named ?? "buf", ["build", workspace, "-o", "-#format=binpb"], {
    cwd: workspace,
    env: options.env,
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
    throw new WorkspaceBuildError("buf_failed", `buf build failed in ${workspace}:\n${said}`);
  }
  return result.stdout;
}
