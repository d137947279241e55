import type { DecisionEvent, DecisionListener } from "./decision.js";

/** The part of a `pino` logger the listener uses (any logger with pino's `(object, message)` calls fits). */
export interface PinoLikeLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  debug(object: object, message: string): void;
}

/** Options of {@link createPinoDecisionListener}. */
export interface PinoDecisionListenerOptions {
  /** The level of allowed calls. Default `"debug"`: one line per call is noise at `info` on a busy server. */
  readonly allowedLevel?: "debug" | "info";
  /** The level of denied calls. Default `"info"` (a denial is normal traffic, not a server fault). */
  readonly deniedLevel?: "info" | "warn";
  /**
   * The level, at least, of a call whose candidate rule disagrees with the enforced one (`shadow.outcome`
   * `"disagrees"`): default `"info"`, so that the callers a candidate would lock out are seen where
   * allowed calls are not logged.
   */
  readonly disagreementLevel?: "info" | "warn";
}

/**
 * A decision listener that logs each {@link DecisionEvent} with `pino`, as the `auth` object of one
 * line: `{ auth: { allowed, method, code, reason, detail, authenticator, subject, tokenHash, dpop, durationMs } }`
 * (`dpop`: whether the credential came with the DPoP scheme; never the proof or its key), and
 * `shadow: { allowed, reason, detail, outcome }` for a method with a candidate rule (what it would have
 * decided; a disagreement is logged at `disagreementLevel` at least, and its message says so).
 * It imports nothing of pino (it takes your logger), so it adds no dependency.
 *
 * ```ts
 * import pino from "pino";
 * import { createPinoDecisionListener } from "@connectauth/server/pino";
 * const auth = createServerAuth({ authenticators: [jwt], onDecision: createPinoDecisionListener(pino()) });
 * // {"level":30,"auth":{"allowed":false,"method":"example.v1.GreeterService/Greet","reason":"TOKEN_EXPIRED",…},"msg":"connectauth denied example.v1.GreeterService/Greet: TOKEN_EXPIRED"}
 * ```
 *
 * @throws TypeError when the logger lacks `debug`, `info` or `warn`.
 */
export function createPinoDecisionListener(logger: PinoLikeLogger, options: PinoDecisionListenerOptions = {}): DecisionListener {
  for (const level of ["debug", "info", "warn"] as const) {
    if (typeof logger?.[level] !== "function") {
      throw new TypeError(`createPinoDecisionListener: the logger has no ${level}() method`);
    }
  }
  const allowedLevel = options.allowedLevel ?? "debug";
  const deniedLevel = options.deniedLevel ?? "info";
  const disagreementLevel = options.disagreementLevel ?? "info";
  return (event) => {
    let level = event.allowed ? allowedLevel : deniedLevel;
    if (event.shadow?.outcome === "disagrees" && levels.indexOf(disagreementLevel) > levels.indexOf(level)) {
      level = disagreementLevel;
    }
    logger[level]({ auth: logFields(event) }, messageOf(event));
  };
}

const levels = ["debug", "info", "warn"] as const;

function logFields(e: DecisionEvent): Record<string, unknown> {
  // Only the event's fields, by name: nothing else of the call can slip in.
  return {
    allowed: e.allowed,
    method: e.method,
    code: e.code,
    reason: e.reason,
    detail: e.detail,
    authenticator: e.authenticator,
    subject: e.subject,
    tokenHash: e.tokenHash,
    dpop: e.dpop,
    durationMs: Math.round(e.durationMs * 1000) / 1000,
    ...(e.shadow === undefined
      ? {}
      : { shadow: { allowed: e.shadow.allowed, reason: e.shadow.reason, detail: e.shadow.detail, outcome: e.shadow.outcome } }),
  };
}

function messageOf(e: DecisionEvent): string {
  const decided = e.allowed
    ? `connectauth allowed ${e.method}`
    : `connectauth denied ${e.method}: ${e.reason ?? `code ${e.code}`}`;
  const shadow = e.shadow;
  if (shadow?.outcome !== "disagrees") return decided;
  return shadow.allowed
    ? `${decided} (the candidate rule would allow)`
    : `${decided} (the candidate rule would deny: ${shadow.reason ?? "a fault"})`;
}
