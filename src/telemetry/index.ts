import type { Tracer } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { type Logger, type LogLine, recordingLogger, silentLogger } from './logger.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { createTracing, type Env, ensureProcessContext, noopTracer, sdkTrace } from './tracing.ts';

export { spanExemplar } from './active-span.ts';
export {
  createLogger,
  type Logger,
  type LoggerOptions,
  type LogLine,
  redactPaths,
} from './logger.ts';
export {
  createMetrics,
  type ExemplarHistogram,
  labelValues,
  type Metrics,
  observe,
} from './metrics.ts';
export {
  createTracing,
  type Env,
  ensureProcessContext,
  extractContext,
  injectTraceparent,
  noopTracer,
  recordError,
  type Tracing,
  TracingConfigError,
  type TracingOptions,
  type WithSpanOptions,
  withSpan,
} from './tracing.ts';

/** What components receive (DESIGN §2: injected, never reached for as a global). */
export interface Telemetry {
  log: Logger;
  metrics: Metrics;
  tracer: Tracer;
}

/** A node's telemetry plus what only the composition root may do with it. */
export interface NodeTelemetry extends Telemetry {
  /** False when tracing is a no-op (no OTEL endpoint or exporter configured). */
  tracingEnabled: boolean;
  /** Flushes and stops the node's tracing; metrics and logs need no shutdown. */
  shutdown(): Promise<void>;
}

export interface TelemetryOptions {
  /** The process's root logger (from `createLogger`); lines get `node: peerId`. */
  log: Logger;
  peerId: string;
  version: string;
  /** `OTEL_*` variables; `process.env` in production. */
  env: Env;
  /** `service.name` unless OTEL_SERVICE_NAME says otherwise. */
  serviceName?: string;
  /** prom-client's process and Node.js metrics (default true). */
  defaultMetrics?: boolean;
}

/**
 * One node's telemetry: its own metric registry and tracer (several nodes may share a process),
 * and the root logger bound to its peer id. Throws TracingConfigError on invalid OTEL_* values.
 */
export function createTelemetry(opts: TelemetryOptions): NodeTelemetry {
  const log = opts.log.child({ node: opts.peerId });
  const tracing = createTracing({
    serviceName: opts.serviceName ?? 'meshkeeper',
    serviceInstanceId: opts.peerId,
    version: opts.version,
    env: opts.env,
    log,
  });
  return {
    log,
    metrics: createMetrics({ version: opts.version, defaultMetrics: opts.defaultMetrics }),
    tracer: tracing.tracer,
    tracingEnabled: tracing.enabled,
    shutdown: tracing.shutdown,
  };
}

/**
 * Telemetry for tests: silent logs, a no-op tracer, and a real registry without the process
 * metrics, so a test can read back exactly the values the code under test set.
 */
export function noopTelemetry(): Telemetry {
  return {
    log: silentLogger(),
    metrics: createMetrics({ version: 'test', defaultMetrics: false }),
    tracer: noopTracer(),
  };
}

export interface RecordingTelemetry extends Telemetry {
  /** Every log line written so far, parsed, in order. */
  logs: LogLine[];
  /** Every span ended so far, in the order they ended. */
  spans(): ReadableSpan[];
  /** Forgets the recorded lines and spans. */
  reset(): void;
}

/**
 * Telemetry for tests that assert on logs and spans: all levels kept in memory, every span
 * sampled and recorded as it ends. Registers the process context (see tracing.ts), so spans
 * nest and log lines carry their ids.
 */
export function recordingTelemetry(): RecordingTelemetry {
  ensureProcessContext();
  const { AlwaysOnSampler, BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } =
    sdkTrace();
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const { log, lines } = recordingLogger();
  return {
    log,
    metrics: createMetrics({ version: 'test', defaultMetrics: false }),
    tracer: provider.getTracer('meshkeeper-test'),
    logs: lines,
    spans: () => exporter.getFinishedSpans(),
    reset: () => {
      lines.length = 0;
      exporter.reset();
    },
  };
}
