import { type Attributes, type Meter, metrics, trace } from "@opentelemetry/api";
import type { DecisionEvent, DecisionListener } from "./decision.js";

/** Options of {@link createOtelDecisionListener}. */
export interface OtelDecisionListenerOptions {
  /** The meter of the counter and histogram. Default: `metrics.getMeter("@connectauth/server")` (no-op without an SDK). */
  readonly meter?: Meter;
  /** Whether to put the subject on the span (`enduser.id`). Default `true`; turn off when subjects are personal data you keep out of traces. */
  readonly recordSubject?: boolean;
}

/** The names this listener records under, for dashboards and alerts. */
export const otelNames = {
  /** Counter of decisions; attributes `connectauth.outcome` (`allowed`/`denied`), `connectauth.reason`, `rpc.method`. */
  decisions: "connectauth.decisions",
  /** Histogram of the auth step's latency in ms, same attributes. */
  duration: "connectauth.decision.duration",
  /** The span event added to the active span. */
  event: "connectauth.decision",
  /**
   * Counter of the calls of methods with a candidate rule; attributes `connectauth.shadow.outcome`
   * (`agrees`/`disagrees`/`unknown`), `connectauth.outcome` (the enforced rule's), `rpc.method`, and
   * `connectauth.shadow.reason` when the candidate would deny. Disagreements: its `disagrees` series.
   */
  shadowDecisions: "connectauth.shadow.decisions",
} as const;

/**
 * A decision listener for OpenTelemetry (`@opentelemetry/api`, an optional peer dependency): it sets
 * attributes on the active span and adds a `connectauth.decision` event to it, and counts decisions by
 * outcome, reason and method on a meter. Without an SDK installed, the API is a no-op and so is this.
 *
 * Span attributes: `connectauth.allowed`, `connectauth.reason`, `connectauth.detail`,
 * `connectauth.authenticator`, `connectauth.token_hash`, `connectauth.dpop` (the credential came with the
 * DPoP scheme; never the proof or its key), `connectauth.duration_ms`, `rpc.method`, `enduser.id`; for a
 * method with a candidate rule, what it would have decided: `connectauth.shadow.outcome` (`agrees`,
 * `disagrees`, `unknown`), `connectauth.shadow.allowed` (absent when unknown), `connectauth.shadow.reason`,
 * `connectauth.shadow.detail`, and those calls counted on `connectauth.shadow.decisions`. Metric
 * attributes stay low-cardinality: never the subject nor the token hash.
 *
 * ```ts
 * import { createOtelDecisionListener } from "@connectauth/server/otel";
 * const auth = createServerAuth({ authenticators: [jwt], onDecision: createOtelDecisionListener() });
 * ```
 */
export function createOtelDecisionListener(options: OtelDecisionListenerOptions = {}): DecisionListener {
  const meter = options.meter ?? metrics.getMeter("@connectauth/server");
  const recordSubject = options.recordSubject ?? true;
  const decisions = meter.createCounter(otelNames.decisions, { description: "connectauth auth decisions" });
  const duration = meter.createHistogram(otelNames.duration, {
    description: "latency of the connectauth auth step",
    unit: "ms",
  });
  const shadowDecisions = meter.createCounter(otelNames.shadowDecisions, {
    description: "what connectauth candidate rules would have decided, by agreement with the enforced rule",
  });
  return (event) => {
    const metricAttributes: Attributes = {
      "connectauth.outcome": event.allowed ? "allowed" : "denied",
      "rpc.method": event.method,
    };
    if (event.reason !== undefined) metricAttributes["connectauth.reason"] = event.reason;
    decisions.add(1, metricAttributes);
    duration.record(event.durationMs, metricAttributes);
    const shadow = event.shadow;
    if (shadow !== undefined) {
      const shadowAttributes: Attributes = {
        "connectauth.outcome": metricAttributes["connectauth.outcome"],
        "rpc.method": event.method,
        "connectauth.shadow.outcome": shadow.outcome,
      };
      if (shadow.reason !== undefined) shadowAttributes["connectauth.shadow.reason"] = shadow.reason;
      shadowDecisions.add(1, shadowAttributes);
    }
    const span = trace.getActiveSpan();
    if (span === undefined) {
      return;
    }
    const attributes = spanAttributes(event, recordSubject);
    span.setAttributes(attributes);
    span.addEvent(otelNames.event, attributes);
  };
}

function spanAttributes(e: DecisionEvent, recordSubject: boolean): Attributes {
  const a: Attributes = {
    "connectauth.allowed": e.allowed,
    "connectauth.dpop": e.dpop,
    "connectauth.duration_ms": e.durationMs,
    "rpc.method": e.method,
  };
  if (e.reason !== undefined) a["connectauth.reason"] = e.reason;
  if (e.code !== undefined) a["connectauth.code"] = e.code;
  if (e.detail !== undefined) a["connectauth.detail"] = e.detail;
  if (e.authenticator !== undefined) a["connectauth.authenticator"] = e.authenticator;
  if (e.tokenHash !== undefined) a["connectauth.token_hash"] = e.tokenHash;
  if (recordSubject && e.subject !== undefined) a["enduser.id"] = e.subject;
  const shadow = e.shadow;
  if (shadow !== undefined) {
    a["connectauth.shadow.outcome"] = shadow.outcome;
    if (shadow.allowed !== undefined) a["connectauth.shadow.allowed"] = shadow.allowed;
    if (shadow.reason !== undefined) a["connectauth.shadow.reason"] = shadow.reason;
    if (shadow.detail !== undefined) a["connectauth.shadow.detail"] = shadow.detail;
  }
  return a;
}
