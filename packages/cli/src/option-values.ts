// What the commands' options are made of and how their values are read, so that every command declares
// a flag and reads a number alike (its message stays its own).

/**
 * A boolean option that is `false` unless given (`--json`, `--strict`, `--list`), as `util.parseArgs`
 * declares it.
 *
 * ```ts
 * const options = { json: flag, timeout: { type: "string" } } as const;
 * ```
 */
export const flag = { type: "boolean", default: false } as const;

/**
 * The whole number an option's text says (decimal digits, `-` for a negative one), when it is from
 * `min` to `max`; `undefined` otherwise, for the command to fail with its own message.
 *
 * ```ts
 * const port = wholeNumberOf(values.port, 0, 65535);
 * if (port === undefined) return fail(`--port must be a port number from 0 to 65535, not "${values.port}"`);
 * ```
 *
 * Not accepted: `1e3`, `0x10`, `1.0`, `-0`, spaces, or a number beyond `Number.MAX_SAFE_INTEGER`.
 */
export function wholeNumberOf(text: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const n = Number(text);
  return /^-?\d+$/.test(text) && Number.isSafeInteger(n) && !Object.is(n, -0) && n >= min && n <= max ? n : undefined;
}
