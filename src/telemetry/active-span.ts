import { context, isSpanContextValid, TraceFlags, trace } from '@opentelemetry/api';

/** The ids that tie a log line or an exemplar to a span. Names are the log/exemplar field names. */
export interface SpanIds {
  trace_id: string;
  span_id: string;
}

/**
 * The ids of the span active in the current OpenTelemetry context, or undefined outside a span.
 * Unsampled spans count too: their trace id still ties together the log lines of one operation,
 * across nodes when it came in a traceparent.
 */
export function activeSpanIds(): SpanIds | undefined {
  const span = trace.getSpan(context.active());
  if (span === undefined) return undefined;
  const sc = span.spanContext();
  if (!isSpanContextValid(sc)) return undefined;
  return { trace_id: sc.traceId, span_id: sc.spanId };
}

/**
 * Exemplar labels `{trace_id, span_id}` for a prom-client observation made inside a sampled span;
 * undefined otherwise. Unsampled spans are never exported, so an exemplar pointing at one would
 * lead the operator from Grafana to a trace that does not exist.
 */
export function spanExemplar(): SpanIds | undefined {
  const span = trace.getSpan(context.active());
  if (span === undefined) return undefined;
  const sc = span.spanContext();
  if (!isSpanContextValid(sc) || (sc.traceFlags & TraceFlags.SAMPLED) === 0) return undefined;
  return { trace_id: sc.traceId, span_id: sc.spanId };
}
