/**
 * Decodes the standard `OTEL_*` variables that meshkeeper honours for traces from an env object
 * (not `process.env`, so that tests and an in-process cluster can give each node its own).
 * Pure: no I/O, never throws; `createTracing` turns the result into SDK objects.
 * Variables: https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/
 */

export type Env = Readonly<Record<string, string | undefined>>;

export type TraceExporterName = 'otlp' | 'console';

export interface OtlpConfig {
  /** Endpoint as configured; its scheme decides plaintext (`http://`) or TLS (`https://`). */
  url: string;
  headers: Record<string, string>;
  timeoutMillis?: number;
  compression?: 'gzip' | 'none';
  /** Plaintext for a scheme-less endpoint (OTEL_EXPORTER_OTLP_INSECURE). */
  insecure: boolean;
  certificateFile?: string;
  clientKeyFile?: string;
  clientCertificateFile?: string;
}

export interface SamplerConfig {
  root: 'always_on' | 'always_off' | 'traceidratio';
  /** Used by `traceidratio` only. */
  ratio: number;
  /** Follow the remote parent's decision (the `parentbased_*` samplers). */
  parentBased: boolean;
}

export interface BatchConfig {
  scheduledDelayMillis?: number;
  exportTimeoutMillis?: number;
  maxQueueSize?: number;
  maxExportBatchSize?: number;
}

export type TracingEnvConfig =
  | { enabled: false; reason: 'sdk_disabled' | 'exporter_none' | 'no_exporter_configured' }
  | {
      enabled: true;
      exporters: TraceExporterName[];
      otlp: OtlpConfig;
      sampler: SamplerConfig;
      batch: BatchConfig;
      /** From OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME as `service.name`. */
      resourceAttributes: Record<string, string>;
    };

export type TracingEnvResult =
  | { ok: true; value: TracingEnvConfig }
  | { ok: false; errors: string[] };

/** gRPC is the only OTLP transport this build ships (STACK: exporter-trace-otlp-grpc). */
const defaultOtlpUrl = 'http://localhost:4317';

/**
 * Tracing is on only when asked for: an OTLP endpoint, or an explicit OTEL_TRACES_EXPORTER.
 * Every problem is reported at once (a start-up configuration error, like the rest of config).
 */
export function tracingConfigFromEnv(env: Env): TracingEnvResult {
  if (value(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true') {
    return { ok: true, value: { enabled: false, reason: 'sdk_disabled' } };
  }
  const errors: string[] = [];
  const exporters = exportersFromEnv(env, errors);
  if (exporters === 'none') return { ok: true, value: { enabled: false, reason: 'exporter_none' } };
  if (exporters.length === 0 && errors.length === 0) {
    return { ok: true, value: { enabled: false, reason: 'no_exporter_configured' } };
  }
  const otlp = otlpFromEnv(env, errors);
  const sampler = samplerFromEnv(env, errors);
  const batch: BatchConfig = {
    scheduledDelayMillis: integer(env, 'OTEL_BSP_SCHEDULE_DELAY', 0, errors),
    exportTimeoutMillis: integer(env, 'OTEL_BSP_EXPORT_TIMEOUT', 0, errors),
    maxQueueSize: integer(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 1, errors),
    maxExportBatchSize: integer(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 1, errors),
  };
  const resourceAttributes = keyValueList(env, 'OTEL_RESOURCE_ATTRIBUTES', errors);
  const serviceName = value(env, 'OTEL_SERVICE_NAME');
  if (serviceName !== undefined) resourceAttributes['service.name'] = serviceName;
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: { enabled: true, exporters, otlp, sampler, batch, resourceAttributes },
  };
}

function exportersFromEnv(env: Env, errors: string[]): TraceExporterName[] | 'none' {
  const names = [...new Set(list(env, 'OTEL_TRACES_EXPORTER'))];
  if (names.length === 1 && names[0] === 'none') return 'none';
  if (names.length === 0) {
    const endpoint =
      value(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? value(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
    return endpoint === undefined ? [] : ['otlp'];
  }
  const out: TraceExporterName[] = [];
  for (const name of names) {
    if (name === 'otlp' || name === 'console') out.push(name);
    else if (name === 'none') errors.push('OTEL_TRACES_EXPORTER: "none" cannot be combined');
    else errors.push(`OTEL_TRACES_EXPORTER: unsupported exporter "${name}" (otlp, console, none)`);
  }
  return out;
}

function otlpFromEnv(env: Env, errors: string[]): OtlpConfig {
  const protocol = signal(env, 'PROTOCOL') ?? 'grpc';
  if (protocol !== 'grpc') {
    errors.push(
      `OTEL_EXPORTER_OTLP_PROTOCOL: "${protocol}" is not supported, only "grpc" (collector port 4317)`,
    );
  }
  const compression = signal(env, 'COMPRESSION');
  if (compression !== undefined && compression !== 'gzip' && compression !== 'none') {
    errors.push(`OTEL_EXPORTER_OTLP_COMPRESSION: "${compression}" is not gzip or none`);
  }
  const timeoutMillis =
    integer(env, 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', 1, errors) ??
    integer(env, 'OTEL_EXPORTER_OTLP_TIMEOUT', 1, errors);
  const clientKeyFile = signal(env, 'CLIENT_KEY');
  const clientCertificateFile = signal(env, 'CLIENT_CERTIFICATE');
  if ((clientKeyFile === undefined) !== (clientCertificateFile === undefined)) {
    errors.push('OTEL_EXPORTER_OTLP_CLIENT_KEY and _CLIENT_CERTIFICATE must be set together');
  }
  const url = signal(env, 'ENDPOINT') ?? defaultOtlpUrl;
  if (!URL.canParse(/^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `https://${url}`)) {
    // Not echoed: an endpoint may embed credentials.
    errors.push('OTEL_EXPORTER_OTLP_ENDPOINT: not a valid URL');
  }
  return {
    url,
    // Headers usually carry credentials: an error names the entry by position, never by content.
    headers: {
      ...keyValueList(env, 'OTEL_EXPORTER_OTLP_HEADERS', errors, 'secret'),
      ...keyValueList(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', errors, 'secret'),
    },
    timeoutMillis,
    compression: compression === 'gzip' || compression === 'none' ? compression : undefined,
    insecure: signal(env, 'INSECURE')?.toLowerCase() === 'true',
    certificateFile: signal(env, 'CERTIFICATE'),
    clientKeyFile,
    clientCertificateFile,
  };
}

const samplers: Record<string, Omit<SamplerConfig, 'ratio'>> = {
  always_on: { root: 'always_on', parentBased: false },
  always_off: { root: 'always_off', parentBased: false },
  traceidratio: { root: 'traceidratio', parentBased: false },
  parentbased_always_on: { root: 'always_on', parentBased: true },
  parentbased_always_off: { root: 'always_off', parentBased: true },
  parentbased_traceidratio: { root: 'traceidratio', parentBased: true },
};

function samplerFromEnv(env: Env, errors: string[]): SamplerConfig {
  const name = value(env, 'OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on';
  const known = samplers[name];
  if (known === undefined) {
    errors.push(`OTEL_TRACES_SAMPLER: unsupported sampler "${name}"`);
    return { root: 'always_on', parentBased: true, ratio: 1 };
  }
  let ratio = 1;
  const arg = value(env, 'OTEL_TRACES_SAMPLER_ARG');
  if (known.root === 'traceidratio' && arg !== undefined) {
    ratio = Number(arg);
    if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
      errors.push(`OTEL_TRACES_SAMPLER_ARG: "${arg}" is not a ratio in [0, 1]`);
      ratio = 1;
    }
  }
  return { ...known, ratio };
}

/** A trimmed, non-empty value, or undefined (the spec treats empty as unset). */
function value(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** The traces-specific OTLP variable, falling back to the generic one. */
function signal(env: Env, suffix: string): string | undefined {
  return (
    value(env, `OTEL_EXPORTER_OTLP_TRACES_${suffix}`) ?? value(env, `OTEL_EXPORTER_OTLP_${suffix}`)
  );
}

function list(env: Env, name: string): string[] {
  return (value(env, name) ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
}

function integer(env: Env, name: string, min: number, errors: string[]): number | undefined {
  const raw = value(env, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    errors.push(`${name}: "${raw}" is not an integer >= ${min}`);
    return undefined;
  }
  return n;
}

/** `key1=value1,key2=value2` with percent-encoded values (W3C Baggage octets), as the spec says. */
function keyValueList(
  env: Env,
  name: string,
  errors: string[],
  content: 'plain' | 'secret' = 'plain',
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [index, entry] of (value(env, name) ?? '').split(',').entries()) {
    if (entry.trim() === '') continue;
    const eq = entry.indexOf('=');
    const key = eq > 0 ? decode(entry.slice(0, eq).trim()) : undefined;
    const val = eq > 0 ? decode(entry.slice(eq + 1).trim()) : undefined;
    if (key === undefined || key === '' || val === undefined) {
      const which = content === 'secret' ? `#${index + 1}` : `"${entry.trim()}"`;
      errors.push(`${name}: malformed entry ${which} (expected key=value)`);
      continue;
    }
    out[key] = val;
  }
  return out;
}

function decode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
