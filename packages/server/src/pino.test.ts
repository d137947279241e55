import { test } from "node:test";
import assert from "node:assert/strict";
import { agreeingEvent, allowedEvent, deniedEvent as denied, disagreeingEvent } from "./test-support/decision-events.js";
import { createPinoDecisionListener } from "./pino.js";
import { memoryLogger } from "./test-support/telemetry.js";

test("denied at info, allowed at debug, the event under `auth`", async () => {
  const { logger, records: lines } = memoryLogger();
  const listen = createPinoDecisionListener(logger);
  listen(denied);
  listen(allowedEvent);
  logger.flush();
  await new Promise((r) => setImmediate(r));
  assert.equal(lines.length, 2);
  assert.equal(lines[0]!["level"], 30);
  assert.equal(lines[0]!["msg"], "connectauth denied test.v1.GreeterService/Greet: TOKEN_EXPIRED");
  // The event as it was given: its subject (undefined) absent from the JSON, its duration rounded to 3 places.
  const { subject: _noSubject, ...logged } = denied;
  assert.deepEqual(lines[0]!["auth"], { ...logged, durationMs: 1.235 });
  assert.equal(lines[1]!["level"], 20);
  assert.equal((lines[1]!["auth"] as { subject: string }).subject, "alice");
  assert.equal((lines[1]!["auth"] as { dpop: boolean }).dpop, false);
});

test("levels are options; a logger without the methods is refused at construction", async () => {
  const { logger, records: lines } = memoryLogger("info");
  createPinoDecisionListener(logger, { deniedLevel: "warn", allowedLevel: "info" })(denied);
  await new Promise((r) => setImmediate(r));
  assert.equal(lines[0]!["level"], 40);
  assert.throws(() => createPinoDecisionListener({} as never), TypeError);
});

test("a candidate rule's decision is logged under auth.shadow; a disagreement at info at least, and its message says so", async () => {
  const { logger, records: lines } = memoryLogger();
  const listen = createPinoDecisionListener(logger);
  listen(disagreeingEvent);
  listen(agreeingEvent);
  listen({ ...denied, shadow: { allowed: true, reason: undefined, detail: undefined, outcome: "disagrees" } });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    lines.map((l) => [l["level"], l["msg"]]),
    [
      [30, "connectauth allowed test.v1.GreeterService/Greet (the candidate rule would deny: INSUFFICIENT_SCOPE)"],
      [20, "connectauth allowed test.v1.GreeterService/Greet"],
      [30, "connectauth denied test.v1.GreeterService/Greet: TOKEN_EXPIRED (the candidate rule would allow)"],
    ],
  );
  assert.deepEqual((lines[0]!["auth"] as { shadow: unknown }).shadow, {
    allowed: false,
    reason: "INSUFFICIENT_SCOPE",
    outcome: "disagrees",
  });
  assert.deepEqual((lines[1]!["auth"] as { shadow: unknown }).shadow, { allowed: true, outcome: "agrees" });
  assert.equal("shadow" in (memoryLoggedAuth(allowedEvent) as object), false, "no candidate: no shadow field");

  const quiet = memoryLogger("info");
  createPinoDecisionListener(quiet.logger, { disagreementLevel: "warn", deniedLevel: "info" })({
    ...denied,
    shadow: { allowed: true, reason: undefined, detail: undefined, outcome: "disagrees" },
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(quiet.records[0]!["level"], 40, "disagreementLevel raises the level of a disagreeing call");
});

/** The `auth` object one event is logged with. */
function memoryLoggedAuth(event: Parameters<ReturnType<typeof createPinoDecisionListener>>[0]): unknown {
  let logged: unknown;
  const capture = (object: object) => {
    logged = (object as { auth: unknown }).auth;
  };
  createPinoDecisionListener({ debug: capture, info: capture, warn: capture })(event);
  return logged;
}
