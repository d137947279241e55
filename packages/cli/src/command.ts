/** Where a command writes, and what it reads of its environment. Injected, so commands are testable. */
export interface CommandIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** Environment variables (e.g. NO_COLOR, PATH for `buf`); also the environment of the programs a command runs. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The working directory (where `audit` looks for a buf workspace). Default `process.cwd()`. */
  readonly cwd?: string;
  /**
   * Stops a command that runs until interrupted (`connectauth dev`) when it aborts. Default: the first
   * SIGINT or SIGTERM the process receives.
   */
  readonly signal?: AbortSignal;
}

/**
 * One command of `connectauth` (`doctor`), or one subcommand of a {@link CommandGroup} (`token mint`).
 *
 * ```ts
 * const hello: Command = {
 *   name: "hello",
 *   summary: "say hello",
 *   help: "usage: connectauth hello\n\nSays hello.\n",
 *   async run(args, io) { io.stdout.write("hello\n"); return 0; },
 * };
 * ```
 *
 * Not enforced by the type: that `run` answers `--help` with {@link Command.help} (every command of
 * this package does, through `prepareArgs`, and a test runs `--help` on each).
 */
export interface Command {
  /** The word after `connectauth` (or after the group's name), e.g. `"doctor"`, `"mint"`. */
  readonly name: string;
  /** One line for the list of commands. */
  readonly summary: string;
  /**
   * The text of `--help` and of `connectauth help <command>`: a `usage:` paragraph first (repeated
   * after a usage error), then what the command does, its options and an example.
   */
  readonly help: string;
  /** Runs the command; resolves to the process exit code (0 ok, 1 findings/failure, 2 usage). */
  run(args: readonly string[], io: CommandIo): Promise<number>;
}

/**
 * A command made of subcommands (`connectauth token mint|decode`): the word after its name picks one.
 *
 * ```ts
 * const token: CommandGroup = { name: "token", summary: "…", help: "usage: connectauth token mint|decode …\n", subcommands: [mint, decode] };
 * ```
 */
export interface CommandGroup {
  readonly name: string;
  readonly summary: string;
  /** The text of `connectauth <group> --help` and `connectauth help <group>`: the subcommands. */
  readonly help: string;
  readonly subcommands: readonly Command[];
}
