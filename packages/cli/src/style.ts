import type { CommandIo } from "./command.js";

/** ANSI styling that turns itself off for NO_COLOR (https://no-color.org) and for output that is not a terminal. */
export interface Style {
  readonly bold: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly red: (s: string) => string;
  readonly green: (s: string) => string;
  readonly yellow: (s: string) => string;
}

/**
 * The style for a command's stdout: colors when it is a TTY, `NO_COLOR` is unset (or empty) and
 * `TERM` is not `dumb`; `FORCE_COLOR` (non-empty, not `0`) forces them.
 *
 * ```ts
 * const s = styleFor(io); io.stdout.write(s.red("✗ denied\n"));
 * ```
 */
export function styleFor(io: CommandIo): Style {
  const force = io.env["FORCE_COLOR"];
  const tty = (io.stdout as { isTTY?: boolean }).isTTY === true;
  const on =
    force !== undefined && force !== "" && force !== "0"
      ? true
      : tty && (io.env["NO_COLOR"] ?? "") === "" && io.env["TERM"] !== "dumb";
  const wrap = (open: number, close: number) => (s: string) => (on ? `\u001b[${open}m${s}\u001b[${close}m` : s);
  return { bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39) };
}
