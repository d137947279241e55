import { type ParseArgsConfig, parseArgs } from "node:util";
import { prepareArgs } from "./args.js";
import type { CommandIo } from "./command.js";
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
