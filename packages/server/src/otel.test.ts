import { test } from "node:test";
import assert from "node:assert/strict";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { DataPointType, InMemoryMetricExporter, AggregationTemporality, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import type { DecisionEvent } from "./decision.js";
import { createOtelDecisionListener, otelNames } from "./otel.js";

const event = (over: Partial<DecisionEvent>): DecisionEvent => ({
  allowed: false,
  method: "example.v1.GreeterService/Greet",
  code: 16,
  reason: "TOKEN_EXPIRED",
  detail: "exp",
  authenticator: "jwt",
  subject: undefined,
  tokenHash: "0123abcd",
  durationMs: 2,
  ...over,
});

test("without an SDK it is a no-op that does not throw", () => {
  const listen = createOtelDecisionListener();
  listen(event({}));
  assert.equal(trace.getActiveSpan(), undefined);
});

test("attributes and an event on the active span; counts by outcome, reason and method", async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const spans = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }).getTracer("test");
  const reader = new PeriodicExportingMetricReader({
    exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
    exportIntervalMillis: 3_600_000,
  });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const listen = createOtelDecisionListener({ meter: meterProvider.getMeter("test") });

  await tracer.startActiveSpan("rpc", async (span) => {
    await Promise.resolve();
    listen(event({}));
    span.end();
  });
  listen(event({}));
  listen(event({ allowed: true, code: undefined, reason: undefined, detail: undefined, subject: "alice" }));

  const [span] = spans.getFinishedSpans();
  assert.equal(span!.attributes["connectauth.reason"], "TOKEN_EXPIRED");
  assert.equal(span!.attributes["connectauth.allowed"], false);
  assert.equal(span!.attributes["connectauth.token_hash"], "0123abcd");
  assert.equal(span!.events.length, 1);
  assert.equal(span!.events[0]!.name, otelNames.event);

  const { resourceMetrics } = await reader.collect();
  const metrics = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
  const counter = metrics.find((m) => m.descriptor.name === otelNames.decisions)!;
  assert.equal(counter.dataPointType, DataPointType.SUM);
  const counts = counter.dataPoints.map((p) => [p.attributes["connectauth.outcome"], p.attributes["connectauth.reason"], p.attributes["rpc.method"], p.value]);
  assert.deepEqual(counts.sort(), [
    ["allowed", undefined, "example.v1.GreeterService/Greet", 1],
    ["denied", "TOKEN_EXPIRED", "example.v1.GreeterService/Greet", 2],
  ]);
  assert.ok(metrics.some((m) => m.descriptor.name === otelNames.duration));
  await meterProvider.shutdown();
});
