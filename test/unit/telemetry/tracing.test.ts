import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  createTracing,
  extractContext,
  injectTraceparent,
  recordingTelemetry,
  TracingConfigError,
  withSpan,
} from '../../../src/telemetry/index.ts';
import { recordingLogger } from '../../../src/telemetry/logger.ts';
import { startOtlpCollector } from '../../fixtures/otlp-collector.ts';

const base = { serviceName: 'meshkeeper', version: '0.0.0-test' };

class TestError extends Error {
  readonly code = 'unexpected_peer_id';
}

test('withSpan: a throw is recorded, the span is ERROR with error.type, ended, and rethrown', async () => {
  const t = recordingTelemetry();
  await assert.rejects(
    withSpan(t.tracer, 'wire.dial', { attributes: { 'meshkeeper.point': '127.0.0.1:1' } }, () => {
      throw new TestError('boom');
    }),
    TestError,
  );
  const [span] = t.spans();
  assert.ok(span);
  assert.equal(span.name, 'wire.dial');
  assert.equal(span.ended, true);
  assert.equal(span.status.code, SpanStatusCode.ERROR);
  assert.equal(span.status.message, 'boom');
  assert.equal(span.attributes['error.type'], 'unexpected_peer_id');
  assert.equal(span.attributes['meshkeeper.point'], '127.0.0.1:1');
  assert.equal(span.events[0]?.name, 'exception');
});

test('withSpan: returns the value, status unset, and spans started inside are children', async () => {
  const t = recordingTelemetry();
  const value = await withSpan(t.tracer, 'maintenance.cycle', {}, async () => {
    await withSpan(t.tracer, 'peer.establish', {}, async () => {});
    return 42;
  });
  assert.equal(value, 42);
  const [child, parent] = t.spans();
  assert.ok(child && parent);
  assert.equal(parent.status.code, SpanStatusCode.UNSET);
  assert.equal(child.spanContext().traceId, parent.spanContext().traceId);
  assert.equal(child.parentSpanContext?.spanId, parent.spanContext().spanId);
});

test('traceparent: inject then extract gives the same trace, and the remote span becomes the parent', async () => {
  const t = recordingTelemetry();
  let traceparent: string | undefined;
  let dialer: { traceId: string; spanId: string } | undefined;
  await withSpan(t.tracer, 'wire.handshake', {}, (span) => {
    traceparent = injectTraceparent();
    dialer = span.spanContext();
  });
  assert.ok(traceparent && dialer);
  assert.match(traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  const remote = extractContext(traceparent);
  assert.equal(trace.getSpanContext(remote)?.traceId, dialer.traceId);
  await withSpan(t.tracer, 'wire.handshake', { parent: remote }, () => {});
  const acceptor = t.spans()[1];
  assert.equal(acceptor?.spanContext().traceId, dialer.traceId);
  assert.equal(acceptor?.parentSpanContext?.spanId, dialer.spanId);
});

test('traceparent: none outside a span; a malformed or oversized one leaves the context alone', () => {
  recordingTelemetry();
  assert.equal(injectTraceparent(), undefined);
  const base = context.active();
  for (const bad of ['', 'garbage', '00-zz-yy-01', `00-${'a'.repeat(300)}`]) {
    assert.equal(trace.getSpanContext(extractContext(bad, base)), undefined, bad);
  }
});

test('createTracing: with no OTEL variables it is a no-op and nothing is started', async () => {
  const tracing = createTracing({ ...base, serviceInstanceId: 'mka', env: {} });
  assert.equal(tracing.enabled, false);
  const span = tracing.tracer.startSpan('x');
  assert.equal(span.isRecording(), false);
  assert.equal(trace.isSpanContextValid(span.spanContext()), false);
  span.end();
  await tracing.shutdown();
});

test('createTracing: OTEL_TRACES_EXPORTER=none wins over an endpoint', async () => {
  const tracing = createTracing({
    ...base,
    serviceInstanceId: 'mka',
    env: { OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317' },
  });
  assert.equal(tracing.enabled, false);
  await tracing.shutdown();
});

test('createTracing: an unreachable endpoint does not throw; shutdown resolves and logs the loss', async () => {
  const port = await closedPort();
  const { log, lines } = recordingLogger();
  const tracing = createTracing({
    ...base,
    serviceInstanceId: 'mka',
    log,
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_EXPORTER_OTLP_TIMEOUT: '300',
      OTEL_BSP_EXPORT_TIMEOUT: '500',
    },
  });
  assert.equal(tracing.enabled, true);
  const span = tracing.tracer.startSpan('x');
  assert.equal(span.isRecording(), true);
  span.end();
  await tracing.shutdown();
  assert.equal(lines.find((l) => l.event === 'tracing_flush_failed')?.level, 'warn');
});

test('createTracing: invalid OTEL variables are one TracingConfigError listing each', () => {
  assert.throws(
    () =>
      createTracing({
        ...base,
        serviceInstanceId: 'mka',
        env: { OTEL_TRACES_EXPORTER: 'zipkin', OTEL_TRACES_SAMPLER: 'sometimes' },
      }),
    (err: unknown) => err instanceof TracingConfigError && err.problems.length === 2,
  );
});

test('createTracing: two nodes in one process export to a local collector under their own ids', async () => {
  const collector = await startOtlpCollector();
  try {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.port}` };
    const a = createTracing({ ...base, serviceInstanceId: 'mknodea', env });
    const b = createTracing({ ...base, serviceInstanceId: 'mknodeb', env });
    a.tracer.startSpan('span-of-a').end();
    b.tracer.startSpan('span-of-b').end();
    await a.shutdown();
    await b.shutdown();
    const bodies = collector.requests.map((r) => r.toString('latin1'));
    const from = (id: string) => bodies.filter((body) => body.includes(id));
    assert.equal(from('mknodea').length, 1);
    assert.equal(from('mknodeb').length, 1);
    assert.ok(from('mknodea')[0]?.includes('span-of-a'));
    assert.ok(from('mknodeb')[0]?.includes('span-of-b'));
    assert.equal(from('mknodea')[0]?.includes('span-of-b'), false);
  } finally {
    await collector.stop();
  }
});

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
