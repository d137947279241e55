// The OpenTelemetry listener against the real SDK, in memory: spans from sdk-trace-base's
// InMemorySpanExporter, metrics from sdk-metrics' InMemoryMetricExporter (collected on demand).
import { after, suite, test } from "node:test";
import assert from "node:assert/strict";
import { metrics } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { DataPointType } from "@opentelemetry/sdk-metrics";
import type { DecisionListener } from "./decision.js";
import { agreeingEvent, allowedEvent, deniedEvent, disagreeingEvent } from "./test-support/decision-events.js";
import { createOtelDecisionListener, otelNames } from "./otel.js";
import { memoryMetrics, memorySpans } from "./test-support/telemetry.js";

const { tracer, spans } = memorySpans();

/** A meter provider whose metrics a test collects when it wants them, shut down after the suite. */
function meterProvider() {
  const metrics = memoryMetrics();
  after(() => metrics.provider.shutdown());
  return metrics;
}

/** Calls the listener inside an active span, and returns that span once ended. */
async function inSpan(listen: DecisionListener, ...events: Parameters<DecisionListener>[0][]): Promise<ReadableSpan> {
  spans.reset();
  await tracer.startActiveSpan("rpc", async (span) => {
    await Promise.resolve(); // the active span survives an await (the context manager)
    for (const e of events) listen(e);
    span.end();
  });
  const [finished] = spans.getFinishedSpans();
  assert.ok(finished);
  return finished;
}

const deniedAttributes = {
  "connectauth.allowed": false,
  "connectauth.code": 16,
  "connectauth.reason": "TOKEN_EXPIRED",
  "connectauth.detail": "exp",
  "connectauth.authenticator": "jwt",
  "connectauth.token_hash": "0123abcd",
  "connectauth.dpop": true,
  "connectauth.duration_ms": 1.23456,
  "rpc.method": "test.v1.GreeterService/Greet",
};

suite("createOtelDecisionListener()", () => {
  test("the active span gets the decision's attributes and one event with the same attributes", async () => {
    const listen = createOtelDecisionListener({ meter: meterProvider().provider.getMeter("test") });
    const denied = await inSpan(listen, deniedEvent);
    assert.deepEqual(denied.attributes, deniedAttributes);
    assert.deepEqual(
      denied.events.map((e) => [e.name, e.attributes]),
      [[otelNames.event, deniedAttributes]],
    );

    const allowed = await inSpan(listen, allowedEvent);
    assert.deepEqual(allowed.attributes, {
      "connectauth.allowed": true,
      "connectauth.authenticator": "jwt",
      "connectauth.token_hash": "0123abcd",
      "connectauth.dpop": false,
      "connectauth.duration_ms": 1.23456,
      "rpc.method": "test.v1.GreeterService/Greet",
      "enduser.id": "alice",
    });
  });

  test("recordSubject: false keeps the subject off the span", async () => {
    const listen = createOtelDecisionListener({ meter: meterProvider().provider.getMeter("test"), recordSubject: false });
    const span = await inSpan(listen, allowedEvent);
    assert.equal(span.attributes["enduser.id"], undefined);
    assert.equal(span.attributes["connectauth.allowed"], true, "the rest is recorded");
  });

  test("no active span: nothing is written on any span, and the decision is still counted", async () => {
    const meters = meterProvider();
    const listen = createOtelDecisionListener({ meter: meters.provider.getMeter("test") });
    spans.reset();
    const span = tracer.startSpan("not active");
    listen(deniedEvent);
    span.end();
    const [finished] = spans.getFinishedSpans();
    assert.deepEqual([finished?.attributes, finished?.events], [{}, []]);
    const counter = (await meters.collect()).flatMap((s) => s.metrics).find((m) => m.descriptor.name === otelNames.decisions);
    assert.deepEqual(
      counter?.dataPoints.map((p) => p.value),
      [1],
    );
  });

  test("counts and durations by outcome, reason and method: never the subject nor the token hash", async () => {
    const meters = meterProvider();
    const listen = createOtelDecisionListener({ meter: meters.provider.getMeter("test") });
    listen(deniedEvent);
    listen({ ...deniedEvent, durationMs: 2 });
    listen(allowedEvent);

    const all = (await meters.collect()).flatMap((s) => s.metrics);
    const counter = all.find((m) => m.descriptor.name === otelNames.decisions);
    assert.equal(counter?.dataPointType, DataPointType.SUM);
    const counts = counter.dataPoints.map((p) => [p.attributes, p.value]);
    assert.deepEqual(
      counts.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      [
        [{ "connectauth.outcome": "allowed", "rpc.method": "test.v1.GreeterService/Greet" }, 1],
        [
          {
            "connectauth.outcome": "denied",
            "rpc.method": "test.v1.GreeterService/Greet",
            "connectauth.reason": "TOKEN_EXPIRED",
          },
          2,
        ],
      ],
    );
    const duration = all.find((m) => m.descriptor.name === otelNames.duration);
    assert.equal(duration?.dataPointType, DataPointType.HISTOGRAM);
    assert.equal(duration.descriptor.unit, "ms");
    const denied = duration.dataPoints.find((p) => p.attributes["connectauth.outcome"] === "denied");
    assert.deepEqual([denied?.value.count, denied?.value.sum], [2, 1.23456 + 2]);
  });

  test("a candidate rule: span attributes of what it would have decided, and a counter of agreements and disagreements", async () => {
    const meters = meterProvider();
    const listen = createOtelDecisionListener({ meter: meters.provider.getMeter("test") });
    const span = await inSpan(listen, disagreeingEvent);
    const shadowAttributes = {
      "connectauth.shadow.outcome": "disagrees",
      "connectauth.shadow.allowed": false,
      "connectauth.shadow.reason": "INSUFFICIENT_SCOPE",
    };
    assert.deepEqual(span.attributes, { ...(await inSpan(listen, allowedEvent)).attributes, ...shadowAttributes });
    assert.deepEqual(span.events[0]?.attributes, span.attributes, "the span event has them too");
    const unknown = await inSpan(listen, {
      ...deniedEvent,
      shadow: { allowed: undefined, reason: undefined, detail: undefined, outcome: "unknown" },
    });
    assert.equal(unknown.attributes["connectauth.shadow.outcome"], "unknown");
    assert.equal("connectauth.shadow.allowed" in unknown.attributes, false, "no allowed attribute when it is not known");
    assert.equal((await inSpan(listen, allowedEvent)).attributes["connectauth.shadow.outcome"], undefined, "no candidate");

    listen(disagreeingEvent);
    listen(agreeingEvent);
    listen(allowedEvent);
    const all = (await meters.collect()).flatMap((s) => s.metrics);
    const counter = all.find((m) => m.descriptor.name === otelNames.shadowDecisions);
    assert.equal(counter?.dataPointType, DataPointType.SUM);
    const method = "test.v1.GreeterService/Greet";
    assert.deepEqual(
      counter.dataPoints.map((p) => [p.attributes, p.value]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      [
        [{ "connectauth.outcome": "allowed", "rpc.method": method, "connectauth.shadow.outcome": "agrees" }, 1],
        [
          {
            "connectauth.outcome": "allowed",
            "rpc.method": method,
            "connectauth.shadow.outcome": "disagrees",
            "connectauth.shadow.reason": "INSUFFICIENT_SCOPE",
          },
          2,
        ],
        [{ "connectauth.outcome": "denied", "rpc.method": method, "connectauth.shadow.outcome": "unknown" }, 1],
      ],
    );
    const decided = all.find((m) => m.descriptor.name === otelNames.decisions);
    assert.equal(
      decided?.dataPoints.reduce((n, p) => n + (p.value as number), 0),
      7,
      "every decision is still counted once on connectauth.decisions",
    );
  });

  test("without a meter, it records on the global meter provider, as @connectauth/server", async () => {
    const meters = meterProvider();
    assert.ok(metrics.setGlobalMeterProvider(meters.provider));
    after(() => metrics.disable());
    createOtelDecisionListener()(deniedEvent);
    const scopes = await meters.collect();
    assert.deepEqual(
      scopes.map((s) => [s.scope.name, s.metrics.map((m) => m.descriptor.name).sort()]),
      [["@connectauth/server", [otelNames.duration, otelNames.decisions].sort()]],
    );
  });
});
