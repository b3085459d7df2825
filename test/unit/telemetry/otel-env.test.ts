import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Env, tracingConfigFromEnv } from '../../../src/telemetry/otel-env.ts';

const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317' };

const disabled: [string, Env, string][] = [
  ['no variables', {}, 'no_exporter_configured'],
  ['blank endpoint', { OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }, 'no_exporter_configured'],
  ['OTEL_TRACES_EXPORTER=none', { ...endpoint, OTEL_TRACES_EXPORTER: 'none' }, 'exporter_none'],
  ['OTEL_SDK_DISABLED=true', { ...endpoint, OTEL_SDK_DISABLED: 'TRUE' }, 'sdk_disabled'],
];

for (const [name, env, reason] of disabled) {
  test(`otel env: off with ${name}`, () => {
    assert.deepEqual(tracingConfigFromEnv(env), { ok: true, value: { enabled: false, reason } });
  });
}

function enabled(env: Env) {
  const result = tracingConfigFromEnv(env);
  assert.ok(result.ok, JSON.stringify(result));
  assert.ok(result.value.enabled);
  return result.value;
}

test('otel env: an endpoint turns OTLP on; the traces-specific endpoint wins', () => {
  assert.deepEqual(enabled(endpoint).exporters, ['otlp']);
  const c = enabled({ ...endpoint, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:14317' });
  assert.equal(c.otlp.url, 'http://127.0.0.1:14317');
});

test('otel env: an explicit exporter without endpoint uses the default local collector', () => {
  const c = enabled({ OTEL_TRACES_EXPORTER: 'otlp,console' });
  assert.deepEqual(c.exporters, ['otlp', 'console']);
  assert.equal(c.otlp.url, 'http://localhost:4317');
});

test('otel env: defaults are parent-based always-on sampling and no extra resource', () => {
  const c = enabled(endpoint);
  assert.deepEqual(c.sampler, { root: 'always_on', parentBased: true, ratio: 1 });
  assert.deepEqual(c.resourceAttributes, {});
  assert.deepEqual(c.otlp.headers, {});
  assert.equal(c.otlp.insecure, false);
});

test('otel env: headers are percent-decoded and the traces-specific ones win', () => {
  const c = enabled({
    ...endpoint,
    OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=a%20b, authorization=Bearer%20one',
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'authorization=Bearer%20two',
  });
  assert.deepEqual(c.otlp.headers, { 'x-tenant': 'a b', authorization: 'Bearer two' });
});

test('otel env: sampler, batch, timeout, compression and resource variables are decoded', () => {
  const c = enabled({
    ...endpoint,
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: '0.25',
    OTEL_BSP_SCHEDULE_DELAY: '200',
    OTEL_BSP_MAX_QUEUE_SIZE: '100',
    OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
    OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,k8s.pod.name=mk-0,service.name=x',
    OTEL_SERVICE_NAME: 'meshkeeper-prod',
  });
  assert.deepEqual(c.sampler, { root: 'traceidratio', parentBased: true, ratio: 0.25 });
  assert.deepEqual(c.batch, {
    scheduledDelayMillis: 200,
    exportTimeoutMillis: undefined,
    maxQueueSize: 100,
    maxExportBatchSize: undefined,
  });
  assert.equal(c.otlp.timeoutMillis, 1000);
  assert.equal(c.otlp.compression, 'gzip');
  assert.deepEqual(c.resourceAttributes, {
    'deployment.environment': 'prod',
    'k8s.pod.name': 'mk-0',
    'service.name': 'meshkeeper-prod',
  });
});

const invalid: [string, Env, RegExp][] = [
  ['an unknown exporter', { OTEL_TRACES_EXPORTER: 'zipkin' }, /unsupported exporter "zipkin"/],
  ['none mixed with others', { OTEL_TRACES_EXPORTER: 'none,otlp' }, /cannot be combined/],
  [
    'an HTTP protocol',
    { ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' },
    /only "grpc"/,
  ],
  ['an unknown sampler', { ...endpoint, OTEL_TRACES_SAMPLER: 'sometimes' }, /unsupported sampler/],
  [
    'a ratio above 1',
    { ...endpoint, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' },
    /not a ratio/,
  ],
  ['a negative batch size', { ...endpoint, OTEL_BSP_MAX_QUEUE_SIZE: '-1' }, /not an integer/],
  ['a zero timeout', { ...endpoint, OTEL_EXPORTER_OTLP_TIMEOUT: '0' }, /not an integer >= 1/],
  ['bad compression', { ...endpoint, OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' }, /not gzip or none/],
  ['a malformed resource', { ...endpoint, OTEL_RESOURCE_ATTRIBUTES: 'novalue' }, /malformed entry/],
  ['an invalid URL', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://[::1' }, /not a valid URL/],
  [
    'a client key without its certificate',
    { ...endpoint, OTEL_EXPORTER_OTLP_CLIENT_KEY: '/k.pem' },
    /must be set together/,
  ],
];

for (const [name, env, message] of invalid) {
  test(`otel env: rejects ${name}`, () => {
    const result = tracingConfigFromEnv(env);
    assert.equal(result.ok, false);
    assert.ok(!result.ok);
    assert.equal(result.errors.length, 1, result.errors.join('; '));
    assert.match(result.errors[0] ?? '', message);
  });
}

test('otel env: every problem is reported at once', () => {
  const result = tracingConfigFromEnv({
    OTEL_TRACES_EXPORTER: 'zipkin,jaeger',
    OTEL_TRACES_SAMPLER: 'sometimes',
  });
  assert.ok(!result.ok);
  assert.equal(result.errors.length, 3);
});

test('otel env: a malformed header is reported without its content (it may be a credential)', () => {
  const result = tracingConfigFromEnv({
    ...endpoint,
    OTEL_EXPORTER_OTLP_HEADERS: 'x-ok=1,Bearer s3cr3t-token',
  });
  assert.ok(!result.ok);
  assert.match(result.errors[0] ?? '', /entry #2/);
  assert.equal(result.errors.join().includes('s3cr3t'), false);
});
