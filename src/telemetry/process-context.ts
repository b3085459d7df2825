import { createRequire } from 'node:module';
import {
  type Context,
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  type TextMapPropagator,
} from '@opentelemetry/api';
import type * as SdkNode from '@opentelemetry/sdk-node';

/*
 * What OpenTelemetry can only hold per process: the context manager (the "current span" follows
 * async calls through AsyncLocalStorage, whichever node made them) and the text-map propagator.
 * Per-node tracing is in tracing.ts.
 */

const require = createRequire(import.meta.url);

let processPropagator: TextMapPropagator | undefined;

/**
 * Registers, once per process and idempotently, the AsyncLocalStorage context manager and the W3C
 * trace-context propagator (see tracing.ts). sdk-node is loaded here, lazily: it pulls
 * in every exporter it knows (~0.7 s), which a node with tracing off should not pay.
 * The propagator is W3C whatever OTEL_PROPAGATORS says: the Hello's `traceparent` field is a W3C
 * traceparent by protocol, not by deployment choice. If the process environment has
 * OTEL_SDK_DISABLED=true, NodeSDK registers nothing and spans do not follow async calls.
 */
export function ensureProcessContext(): void {
  if (processPropagator !== undefined) return;
  const sdkNode = require('@opentelemetry/sdk-node') as typeof SdkNode;
  const propagator = new sdkNode.core.W3CTraceContextPropagator();
  new sdkNode.NodeSDK({
    autoDetectResources: false,
    instrumentations: [],
    spanProcessors: [],
    metricReaders: [],
    // An empty list, not "absent": absent means "from OTEL_LOGS_EXPORTER", whose default is OTLP.
    logRecordProcessors: [],
    textMapPropagator: propagator,
  }).start();
  processPropagator = propagator;
}

/** Longer than any traceparent version we could parse; bounds work on a peer-supplied string. */
const maxTraceparentLength = 256;

/**
 * The W3C `traceparent` of the span active in `ctx` (default: the current context), to send in
 * the Hello; undefined outside a span or when tracing is off in this process.
 */
export function injectTraceparent(ctx: Context = context.active()): string | undefined {
  if (processPropagator === undefined) return undefined;
  const carrier: Record<string, string> = {};
  processPropagator.inject(ctx, carrier, defaultTextMapSetter);
  return carrier.traceparent;
}

/**
 * `base` (default: the current context) with the remote span named by `traceparent` as parent.
 * A missing or malformed traceparent leaves `base` as it is: it never fails a handshake.
 */
export function extractContext(
  traceparent: string | undefined,
  base: Context = context.active(),
): Context {
  if (processPropagator === undefined || traceparent === undefined) return base;
  if (traceparent.length > maxTraceparentLength) return base;
  return processPropagator.extract(base, { traceparent }, defaultTextMapGetter);
}
