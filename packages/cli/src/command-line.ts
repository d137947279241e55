import { type ParseArgsConfig, parseArgs } from "node:util";
import { prepareArgs } from "./args.js";
import type { Command, CommandIo } from "./command.js";
import { usageError } from "./usage-error.js";

/** How a command reads its arguments: `util.parseArgs`' options, and whether it takes positionals. */
export type CommandLineConfig = Pick<ParseArgsConfig, "options" | "allowPositionals"> & {
  readonly options: NonNullable<ParseArgsConfig["options"]>;
};

/** A command line that was read, and `fail`, the usage error for what the command's own checks refuse. */
export type CommandLine<C extends CommandLineConfig> = ReturnType<typeof parseArgs<C & { args: string[] }>> & {
  readonly fail: (message: string) => 2;
};

/**
 * Reads a command's arguments as every command of the CLI does: `--help` (or `-h`) prints the help
 * and ends with 0; an argument `util.parseArgs` refuses is a usage error that ends with 2 (see
 * `prepareArgs` for values that start with a dash). Otherwise the parsed values and positionals.
 *
 * ```ts
 * const line = readCommandLine(args, io, "connectauth audit", help, { options, allowPositionals: true });
 * if (typeof line === "number") return line;
 * if (line.positionals.length > 1) return line.fail("expected one image");
 * ```
 *
 * Not checked here: what the values mean (the command checks them, with `fail`).
 */
export function readCommandLine<const C extends CommandLineConfig>(
  args: readonly string[],
  io: CommandIo,
  command: string,
  help: string,
  config: C,
): CommandLine<C> | 0 | 2 {
  const prepared = prepareArgs(args, config.options);
  if (prepared.help) {
    io.stdout.write(help);
    return 0;
  }
  const fail = (message: string) => usageError(io, command, help, message);
  try {
    return { ...parseArgs({ ...config, args: prepared.args }), fail } as CommandLine<C>;
  } catch (e) {
    return fail((e as Error).message);
  }
}

/** What {@link defineCommand} takes: the command's words, its argument config and its body. */
export interface CommandDefinition<C extends CommandLineConfig> extends Omit<Command, "run"> {
  /** How `connectauth` names it in usage errors, e.g. `"connectauth token mint"`. Default `connectauth <name>`. */
  readonly usage?: string;
  readonly config: C;
  /** The body, with the command line already read (help and usage errors are handled before). */
  run(line: CommandLine<C>, io: CommandIo): Promise<number>;
}

/**
 * A {@link Command} whose arguments are read by {@link readCommandLine} before its body runs: every
 * command of the CLI is made this way, so `--help` and usage errors behave alike everywhere.
 *
 * ```ts
 * export const helloCommand = defineCommand({
 *   name: "hello", summary: "say hello", help, config: { options: { loud: { type: "boolean" } } },
 *   async run({ values }, io) { io.stdout.write(values.loud ? "HELLO\n" : "hello\n"); return 0; },
 * });
 * ```
 */
export function defineCommand<const C extends CommandLineConfig>(definition: CommandDefinition<C>): Command {
  const { name, summary, help, config } = definition;
  const usage = definition.usage ?? `connectauth ${name}`;
  return {
    name,
    summary,
    help,
    async run(args, io) {
      const line = readCommandLine(args, io, usage, help, config);
      return typeof line === "number" ? line : definition.run(line, io);
    },
  };
}
