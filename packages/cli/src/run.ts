import type { Command, CommandIo } from "./command.js";
import { auditCommand } from "./audit.js";
import { devCommand } from "./commands/dev.js";
import { doctorCommand } from "./commands/doctor.js";
import { tokenCommand } from "./commands/token.js";

/** Every subcommand, in the order `help` lists them. Add a command by adding its module here. */
export const commands: readonly Command[] = [
  doctorCommand,
  devCommand,
  tokenCommand,
  auditCommand,
];

/**
 * Runs `connectauth <command> [args…]` and resolves to the exit code.
 *
 * ```ts
 * process.exitCode = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
 * ```
 */
export async function run(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    io.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    io.stderr.write(`connectauth: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return command.run(args, io);
}

function usage(): string {
  const width = Math.max(4, ...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `usage: connectauth <command> [options]\n\ncommands:\n${lines.join("\n")}\n  ${"help".padEnd(width)}  this text\n`;
}
