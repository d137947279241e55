// Where the decision listeners' suites read what was logged and recorded: a pino logger writing to
// memory, and OpenTelemetry's SDK with in-memory span and metric exporters (collected on demand).
import { type Tracer, context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ScopeMetrics,
} from "@opentelemetry/sdk-metrics";
import { type Logger, pino } from "pino";

/** A pino logger and the lines it wrote, as written and parsed. */
export interface MemoryLogger {
  readonly logger: Logger;
  /** Each line as written (JSON text), in order. */
  readonly lines: string[];
  /** The same lines parsed. */
  readonly records: Record<string, unknown>[];
  /** Forgets the lines written so far. */
  clear(): void;
}

/**
 * A pino logger at `level` (default `debug`) writing synchronously to memory.
 *
 * ```ts
 * const { logger, records } = memoryLogger();
 * createPinoDecisionListener(logger)(deniedEvent);
 * assert.equal(records[0]!["level"], 30);
 * ```
 */
export function memoryLogger(level = "debug"): MemoryLogger {
  const lines: string[] = [];
  const records: Record<string, unknown>[] = [];
  const destination = {
    write(chunk: string) {
      for (const line of chunk.split("\n").filter((l) => l !== "")) {
        lines.push(line);
        records.push(JSON.parse(line) as Record<string, unknown>);
      }
    },
  };
  return {
    logger: pino({ level }, destination),
    lines,
    records,
    clear() {
      lines.length = 0;
      records.length = 0;
    },
  };
}

/** A tracer whose ended spans are kept in memory, the active span following awaits. */
export interface MemorySpans {
  readonly tracer: Tracer;
  /** The ended spans (`getFinishedSpans()`, `reset()`). */
  readonly spans: InMemorySpanExporter;
}

/**
 * A tracer of the OpenTelemetry SDK exporting its spans to memory; sets the global context manager to
 * AsyncLocalStorage (once per process: a second one is ignored), so that a span stays active across
 * awaits.
 */
export function memorySpans(): MemorySpans {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const spans = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }).getTracer("test");
  return { tracer, spans };
}

/** A meter provider whose metrics are read when a test asks for them. */
export interface MemoryMetrics {
  readonly provider: MeterProvider;
  /** The metrics recorded so far (cumulative), by instrumentation scope. */
  collect(): Promise<ScopeMetrics[]>;
}

/**
 * A meter provider of the OpenTelemetry SDK that exports only when collected (cumulative temporality).
 * Shut `provider` down at the suite's end.
 *
 * ```ts
 * const metrics = memoryMetrics();
 * after(() => metrics.provider.shutdown());
 * const listen = createOtelDecisionListener({ meter: metrics.provider.getMeter("test") });
 * ```
 */
export function memoryMetrics(): MemoryMetrics {
  const reader = new PeriodicExportingMetricReader({
    exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
    exportIntervalMillis: 3_600_000,
  });
  const provider = new MeterProvider({ readers: [reader] });
  return {
    provider,
    async collect() {
      const { resourceMetrics } = await reader.collect();
      return resourceMetrics.scopeMetrics;
    },
  };
}
