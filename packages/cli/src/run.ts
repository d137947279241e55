import type { Command, CommandGroup, CommandIo } from "./command.js";
import { auditCommand } from "./commands/audit.js";
import { devCommand } from "./commands/dev.js";
import { doctorCommand } from "./commands/doctor.js";
import { revokeCommand } from "./commands/revoke.js";
import { tokenCommand } from "./commands/token.js";
import { cliVersion } from "./version.js";

/** Every command, in the order the usage lists them. Add a command by adding its module here. */
export const commands: readonly (Command | CommandGroup)[] = [
  doctorCommand,
  devCommand,
  tokenCommand,
  auditCommand,
  revokeCommand,
];

/**
 * Runs `connectauth <command> [args…]` and resolves to the exit code: `--help`/`-h` and
 * `help [command [subcommand]]` print a command's help (exit 0), `--version`/`-v` prints the version
 * of this package, a group's subcommand is picked by the word after the group's name.
 *
 * ```ts
 * process.exitCode = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
 * ```
 *
 * Not handled here: the options of each command (each parses its own, `--help` included).
 */
export async function run(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    io.stderr.write(usage());
    return 2;
  }
  if (name === "--help" || name === "-h") {
    io.stdout.write(usage());
    return 0;
  }
  if (name === "--version" || name === "-v") {
    io.stdout.write(`${cliVersion()}\n`);
    return 0;
  }
  if (name === "help") return help(args, io);
  return dispatch({ list: commands, help: usage(), prefix: "connectauth" }, name, args, io);
}

/** The commands one word picks from: the top level, or a group's subcommands. */
interface Level {
  readonly list: readonly (Command | CommandGroup)[];
  /** Printed after an unknown name. */
  readonly help: string;
  /** `connectauth`, or `connectauth token`. */
  readonly prefix: string;
}

async function dispatch(level: Level, name: string, args: readonly string[], io: CommandIo): Promise<number> {
  const command = level.list.find((c) => c.name === name);
  if (command === undefined) {
    io.stderr.write(`${level.prefix}: unknown command "${name}"\n\n${level.help}`);
    return 2;
  }
  if (!("subcommands" in command)) return command.run(args, io);
  const [sub, ...rest] = args;
  if (sub === "--help" || sub === "-h") {
    io.stdout.write(command.help);
    return 0;
  }
  if (sub === undefined) {
    io.stderr.write(command.help);
    return 2;
  }
  return dispatch({ list: command.subcommands, help: command.help, prefix: `${level.prefix} ${command.name}` }, sub, rest, io);
}

/** `connectauth help [command [subcommand]]`: the same text as `--help` of that command. */
function help(path: readonly string[], io: CommandIo): number {
  let text = usage();
  let list: readonly (Command | CommandGroup)[] = commands;
  for (const [i, word] of path.entries()) {
    const command = list.find((c) => c.name === word);
    if (command === undefined) {
      io.stderr.write(`connectauth help: no command "${path.slice(0, i + 1).join(" ")}"\n\n${text}`);
      return 2;
    }
    text = command.help;
    list = "subcommands" in command ? command.subcommands : [];
  }
  io.stdout.write(text);
  return 0;
}

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    "usage: connectauth <command> [options]",
    "",
    "commands:",
    ...lines,
    "",
    "  connectauth <command> --help    the options of a command (also: connectauth help <command>)",
    "  connectauth --version           the version of @connectauth/cli",
    "",
    "An option's value may start with a dash: --ttl -60 is the value -60.",
    "",
  ].join("\n");
}
