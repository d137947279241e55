/** Where a command writes, and what it reads of its environment. Injected, so commands are testable. */
export interface CommandIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** Environment variables (e.g. NO_COLOR). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** One subcommand of `connectauth`. */
export interface Command {
  /** The word after `connectauth`, e.g. `"doctor"`. */
  readonly name: string;
  /** One line for `connectauth help`. */
  readonly summary: string;
  /** Runs the command; resolves to the process exit code (0 ok, 1 findings/failure, 2 usage). */
  run(args: readonly string[], io: CommandIo): Promise<number>;
}
