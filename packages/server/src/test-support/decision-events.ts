// Decision events as the server emits them, for the suites of the listeners (pino, otel).
import type { DecisionEvent } from "../decision.js";

/** A denial: an expired token sent with DPoP to `test.v1.GreeterService/Greet`, decided by the `jwt` authenticator. */
export const deniedEvent: DecisionEvent = {
  allowed: false,
  method: "test.v1.GreeterService/Greet",
  code: 16,
  reason: "TOKEN_EXPIRED",
  detail: "exp",
  authenticator: "jwt",
  subject: undefined,
  tokenHash: "0123abcd",
  dpop: true,
  durationMs: 1.23456,
};

/** The same call allowed, for the subject `alice`, sent as a bearer token. */
export const allowedEvent: DecisionEvent = {
  ...deniedEvent,
  allowed: true,
  code: undefined,
  reason: undefined,
  detail: undefined,
  subject: "alice",
  dpop: false,
};

/**
 * The allowed call of `alice` to a method with a candidate rule that would have refused her (a scope
 * missing): the enforced rule and the candidate disagree.
 */
export const disagreeingEvent: DecisionEvent = {
  ...allowedEvent,
  shadow: { allowed: false, reason: "INSUFFICIENT_SCOPE", detail: undefined, outcome: "disagrees" },
};

/** The same call, with a candidate that allows it too. */
export const agreeingEvent: DecisionEvent = {
  ...allowedEvent,
  shadow: { allowed: true, reason: undefined, detail: undefined, outcome: "agrees" },
};
