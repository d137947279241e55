import { humanDuration } from "./duration.js";

/**
 * The longest token lifetime a connectauth server accepts unless told otherwise: the default of
 * `createJwtAuthenticator({ maxLifetimeSeconds })` in `@connectauth/server`, mirrored here (the server
 * does not export it; test/cli/doctor-dev.test.ts checks the two agree against a real server).
 */
export const serverMaxLifetimeSeconds = 86400;

/**
 * A warning for tokens that servers with the default cap refuse, or `undefined` for a lifetime they
 * accept (at most {@link serverMaxLifetimeSeconds}).
 *
 * ```ts
 * lifetimeWarning(172800); // "a lifetime of 2 days is longer than … createJwtAuthenticator({ maxLifetimeSeconds: 172800 })"
 * ```
 *
 * Not checked: the cap a given server sets (only the default is known here).
 */
export function lifetimeWarning(ttlSeconds: number): string | undefined {
  if (ttlSeconds <= serverMaxLifetimeSeconds) return undefined;
  return (
    `a lifetime of ${humanDuration(ttlSeconds)} (${ttlSeconds} s) is longer than connectauth servers accept by default ` +
    `(${serverMaxLifetimeSeconds} s): they refuse such a token (INVALID_TOKEN, detail "lifetime") unless they set ` +
    `createJwtAuthenticator({ maxLifetimeSeconds: ${ttlSeconds} })`
  );
}
