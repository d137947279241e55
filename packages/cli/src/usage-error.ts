import type { CommandIo } from "./command.js";

/**
 * Reports a usage error of a command and returns its exit code, 2: the message, then the `usage:`
 * paragraph of the command's help, then where the rest of the help is.
 *
 * ```ts
 * if (values.sub === undefined) return usageError(io, "connectauth token mint", mintHelp, "--sub is required");
 * ```
 */
export function usageError(io: CommandIo, command: string, help: string, message: string): 2 {
  const synopsis = help.split("\n\n")[0].trimEnd();
  io.stderr.write(`${command}: ${message}\n\n${synopsis}\n\nrun "${command} --help" for every option\n`);
  return 2;
}
