import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Grpc from '@grpc/grpc-js';
import { ProxyTracerProvider, type Tracer } from '@opentelemetry/api';
import type * as OtlpGrpc from '@opentelemetry/exporter-trace-otlp-grpc';
import type * as Resources from '@opentelemetry/resources';
import type * as SdkTrace from '@opentelemetry/sdk-trace-base';
import {
  ATTR_SERVICE_INSTANCE_ID,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from '@opentelemetry/semantic-conventions';
import type { Logger } from './logger.ts';
import {
  type Env,
  type OtlpConfig,
  type SamplerConfig,
  type TracingEnvConfig,
  tracingConfigFromEnv,
} from './otel-env.ts';
import { ensureProcessContext } from './process-context.ts';

export { spanExemplar } from './active-span.ts';
export type { Env } from './otel-env.ts';
export { ensureProcessContext, extractContext, injectTraceparent } from './process-context.ts';
export { recordError, type WithSpanOptions, withSpan } from './spans.ts';

/*
 * Design. OpenTelemetry has two kinds of state:
 *
 * - Process-wide by nature: the context manager (which span is "current" follows async calls
 *   through AsyncLocalStorage, whichever node made them) and the text-map propagator. These are
 *   registered once, by `@opentelemetry/sdk-node`'s NodeSDK, in `ensureProcessContext()`
 *   (process-context.ts); the SDK is given no span processors, metric readers or log
 *   processors, so it registers no global providers.
 * - Per node: each node builds its own `BasicTracerProvider` (resource with its peer id as
 *   `service.instance.id`, sampler, a BatchSpanProcessor with its own OTLP gRPC exporter) from the
 *   env object it was given, and hands the tracer to its components. Nothing uses the global
 *   tracer provider, so the several nodes a test or `meshkeeper cluster` starts in one process each
 *   export under their own identity and shut down on their own.
 *
 * NodeSDK cannot be the per-node provider: it reads `process.env`, and its `start()` installs the
 * global tracer provider, which only the first node would get. The env-driven choices NodeSDK
 * would make (exporter, endpoint, headers, sampler, batching, resource) are decoded from the given
 * env by otel-env.ts instead, with the same variable names and precedence.
 *
 * With tracing off (no endpoint, no exporter, OTEL_TRACES_EXPORTER=none or OTEL_SDK_DISABLED) the
 * tracer comes from a private no-op provider and nothing is loaded or started.
 */

const require = createRequire(import.meta.url);

/**
 * The tracing SDK, loaded on first use: a node with tracing off never loads it. Loaded, it held
 * ~4 MB of heap that every full collection marks again, a visible share of the wire's CPU
 * (bench/wire). The OpenTelemetry API keeps its state in process-wide symbols, so these CommonJS
 * builds work with the API and context the rest of the code imports.
 */
export function sdkTrace(): typeof SdkTrace {
  return require('@opentelemetry/sdk-trace-base') as typeof SdkTrace;
}

function resources(): typeof Resources {
  return require('@opentelemetry/resources') as typeof Resources;
}

export interface TracingOptions {
  serviceName: string;
  /** The node's peer id: tells apart the nodes that share a service name (and maybe a process). */
  serviceInstanceId: string;
  version: string;
  /** `OTEL_*` variables; `process.env` in production. */
  env: Env;
  /** Told about spans that could not be exported at shutdown. */
  log?: Logger;
}

export interface Tracing {
  tracer: Tracer;
  /** False when tracing is a no-op. */
  enabled: boolean;
  /** Flushes queued spans and stops the exporter; resolves even if the collector is unreachable. */
  shutdown(): Promise<void>;
}

/** OTEL_* variables that cannot be honoured; `problems` lists every one of them. */
export class TracingConfigError extends Error {
  readonly code = 'invalid_otel_env';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid OpenTelemetry configuration: ${problems.join('; ')}`);
    this.name = 'TracingConfigError';
    this.problems = problems;
  }
}

/**
 * A node's tracer, exporting as the `OTEL_*` variables of `opts.env` say, or a no-op tracer when
 * they ask for nothing. Throws TracingConfigError when a variable is invalid.
 */
export function createTracing(opts: TracingOptions): Tracing {
  const parsed = tracingConfigFromEnv(opts.env);
  if (!parsed.ok) throw new TracingConfigError(parsed.errors);
  const config = parsed.value;
  if (!config.enabled) return { tracer: noopTracer(), enabled: false, shutdown: async () => {} };
  ensureProcessContext();
  const provider = new (sdkTrace().BasicTracerProvider)({
    resource: nodeResource(opts, config.resourceAttributes),
    sampler: samplerFrom(config.sampler),
    spanProcessors: config.exporters.map((name) => spanProcessorFor(name, config)),
  });
  return {
    tracer: provider.getTracer('meshkeeper', opts.version),
    enabled: true,
    // The last flush fails when the collector is down; a node must still shut down cleanly.
    shutdown: async () => {
      try {
        await provider.shutdown();
      } catch (err) {
        opts.log?.warn({ event: 'tracing_flush_failed', err }, 'spans lost at shutdown');
      }
    },
  };
}

/** A tracer whose spans record nothing; it does not depend on the global tracer provider. */
export function noopTracer(): Tracer {
  // A ProxyTracerProvider that is never given a delegate hands out the API's no-op tracer.
  return new ProxyTracerProvider().getTracer('meshkeeper');
}

/**
 * Resource precedence: ours < OTEL_RESOURCE_ATTRIBUTES < OTEL_SERVICE_NAME (as the spec says),
 * except `service.instance.id`, which is always the node's peer id: in-process clusters share one
 * environment, and their nodes must stay apart.
 */
function nodeResource(opts: TracingOptions, fromEnv: Record<string, string>): Resources.Resource {
  const { defaultResource, resourceFromAttributes } = resources();
  return defaultResource().merge(
    resourceFromAttributes({
      [ATTR_SERVICE_NAME]: opts.serviceName,
      [ATTR_SERVICE_VERSION]: opts.version,
      ...fromEnv,
      [ATTR_SERVICE_INSTANCE_ID]: opts.serviceInstanceId,
    }),
  );
}

function samplerFrom(config: SamplerConfig): SdkTrace.Sampler {
  const { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler } =
    sdkTrace();
  const root =
    config.root === 'always_on'
      ? new AlwaysOnSampler()
      : config.root === 'always_off'
        ? new AlwaysOffSampler()
        : new TraceIdRatioBasedSampler(config.ratio);
  return config.parentBased ? new ParentBasedSampler({ root }) : root;
}

type EnabledConfig = Extract<TracingEnvConfig, { enabled: true }>;

function spanProcessorFor(name: 'otlp' | 'console', config: EnabledConfig): SdkTrace.SpanProcessor {
  const { BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor } = sdkTrace();
  // Console output is for a developer watching spans go by: export each one as it ends.
  if (name === 'console') return new SimpleSpanProcessor(new ConsoleSpanExporter());
  return new BatchSpanProcessor(otlpExporter(config.otlp), config.batch);
}

/** The OTLP gRPC exporter, loaded only when used (it brings in grpc-js). */
function otlpExporter(otlp: OtlpConfig): SdkTrace.SpanExporter {
  const grpc = require('@grpc/grpc-js') as typeof Grpc;
  const { OTLPTraceExporter } =
    require('@opentelemetry/exporter-trace-otlp-grpc') as typeof OtlpGrpc;
  const metadata = new grpc.Metadata();
  for (const [key, val] of Object.entries(otlp.headers)) metadata.set(key, val);
  return new OTLPTraceExporter({
    url: otlp.url,
    metadata,
    credentials: otlpCredentials(grpc, otlp),
    timeoutMillis: otlp.timeoutMillis,
    // The exporter types this as an enum of otlp-exporter-base whose values are these strings.
    compression: otlp.compression as OtlpExporterConfig['compression'],
  });
}

type OtlpExporterConfig = NonNullable<ConstructorParameters<typeof OtlpGrpc.OTLPTraceExporter>[0]>;

/** The exporter's own rule: the scheme decides; a scheme-less endpoint is TLS unless INSECURE. */
function otlpCredentials(grpc: typeof Grpc, otlp: OtlpConfig): Grpc.ChannelCredentials {
  const plaintext = otlp.url.startsWith('http://') || (!otlp.url.includes('://') && otlp.insecure);
  if (plaintext) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(
    readPem('OTEL_EXPORTER_OTLP_CERTIFICATE', otlp.certificateFile),
    readPem('OTEL_EXPORTER_OTLP_CLIENT_KEY', otlp.clientKeyFile),
    readPem('OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE', otlp.clientCertificateFile),
  );
}

function readPem(variable: string, path: string | undefined): Buffer | null {
  if (path === undefined) return null;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TracingConfigError([`${variable}: cannot read ${path} (${(err as Error).message})`]);
  }
}
