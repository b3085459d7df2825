import {
  type Attributes,
  type Context,
  context,
  isSpanContextValid,
  type Span,
  type SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';

export interface WithSpanOptions {
  attributes?: Attributes;
  /** Parent context (e.g. from `extractContext`); the active context when absent. */
  parent?: Context;
  kind?: SpanKind;
}

/**
 * Runs `fn(span)` with the span current (log lines and child spans inside it point at it). A
 * throw or rejection is recorded on the span, which gets status ERROR and `error.type` (the
 * error's `code`, else its name), and is rethrown. The span always ends.
 *
 * With tracing off and no span to continue, the span is the invalid no-op span: when the parent
 * is the current context, making it current changes nothing (no ids to log, children are roots
 * either way) and recording on it does nothing, so `fn` runs as it is, without a context switch
 * or a promise around it (the wire's hot path opens three spans per dial).
 */
export async function withSpan<T>(
  tracer: Tracer,
  name: string,
  opts: WithSpanOptions,
  fn: (span: Span) => T | Promise<T>,
): Promise<T> {
  const active = context.active();
  const parent = opts.parent ?? active;
  const span = tracer.startSpan(name, { attributes: opts.attributes, kind: opts.kind }, parent);
  if (parent === active && !isSpanContextValid(span.spanContext())) return fn(span);
  return context.with(trace.setSpan(parent, span), async () => {
    try {
      return await fn(span);
    } catch (err) {
      recordError(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Marks `span` as failed by `err` (for code that manages a span itself). */
export function recordError(span: Span, err: unknown): void {
  const error = err instanceof Error ? err : new Error(String(err));
  span.recordException(error);
  const code: unknown = (err as { code?: unknown } | null)?.code;
  span.setAttribute(ATTR_ERROR_TYPE, typeof code === 'string' ? code : error.name);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
}
