/** How `prepareArgs` needs to know an option: as `util.parseArgs` declares it. */
export type OptionShapes = Readonly<Record<string, { readonly type: "string" | "boolean"; readonly short?: string }>>;

/** What {@link prepareArgs} makes of a command line. */
export interface PreparedArgs {
  /** `--help` or `-h` was given (as an option, not as the value of one). */
  readonly help: boolean;
  /** The arguments for `util.parseArgs`, every option value attached with `=`, `--help` removed. */
  readonly args: string[];
}

/**
 * Reads a command line as people write one, before `util.parseArgs` checks it: an option that takes a
 * value takes the next argument, whatever it starts with (`--ttl -60`, `--scope -x`), as getopt does;
 * `util.parseArgs` alone refuses those as ambiguous on every Node version. The value is attached as
 * `--ttl=-60`, which `util.parseArgs` reads the same on Node 20, 22 and 24. Everything after `--` is
 * left as it is.
 *
 * ```ts
 * const { help, args } = prepareArgs(["--ttl", "-60", "--json"], { ttl: { type: "string" }, json: { type: "boolean" } });
 * // help: false, args: ["--ttl=-60", "--json"]
 * ```
 *
 * Not checked here: unknown options and missing values (`util.parseArgs` with `strict` refuses them).
 */
export function prepareArgs(args: readonly string[], options: OptionShapes): PreparedArgs {
  const out: string[] = [];
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      out.push(...args.slice(i));
      break;
    }
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    const name = arg.startsWith("--") ? arg.slice(2) : /^-[^-]$/.test(arg) ? longName(arg[1], options) : undefined;
    if (name !== undefined && Object.hasOwn(options, name) && options[name].type === "string" && i + 1 < args.length) {
      out.push(`--${name}=${args[++i]}`);
    } else {
      out.push(arg);
    }
  }
  return { help, args: out };
}

function longName(short: string, options: OptionShapes): string | undefined {
  return Object.keys(options).find((name) => options[name].short === short);
}
