import assert from 'node:assert/strict';
import { test } from 'node:test';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { activeSpanIds } from '../../../src/telemetry/active-span.ts';
import {
  createLogger,
  createTelemetry,
  ensureProcessContext,
  extractContext,
  noopTelemetry,
  observe,
  recordingTelemetry,
  withSpan,
} from '../../../src/telemetry/index.ts';

test('noop telemetry: metrics are a real registry without process metrics', async () => {
  const { metrics } = noopTelemetry();
  metrics.maintenanceCycles.inc({ motive: 'too_few' });
  metrics.maintenanceCycles.inc({ motive: 'too_few' });
  metrics.connections.set({ direction: 'inbound' }, 3);
  const cycles = await metrics.maintenanceCycles.get();
  assert.equal(cycles.values.find((v) => v.labels.motive === 'too_few')?.value, 2);
  const text = await metrics.registry.metrics();
  assert.match(text, /meshkeeper_connections\{direction="inbound"\} 3/);
  assert.equal(text.includes('process_cpu'), false);
  assert.equal(text.includes('nodejs_'), false);
});

test('noop telemetry: each call has its own registry (several nodes per process)', async () => {
  const a = noopTelemetry();
  const b = noopTelemetry();
  a.metrics.persist.inc({ result: 'ok' });
  assert.equal((await b.metrics.persist.get()).values.length, 0);
});

test('noop telemetry: logs nothing and spans record nothing', async () => {
  const t = noopTelemetry();
  t.log.error('not written anywhere');
  await withSpan(t.tracer, 'x', {}, (span) => assert.equal(span.isRecording(), false));
});

test('withSpan, tracing off: fn runs as is, its result and its errors come through', async () => {
  const t = noopTelemetry();
  assert.equal(await withSpan(t.tracer, 'x', {}, () => 42), 42);
  await assert.rejects(
    withSpan(t.tracer, 'x', {}, () => {
      throw new Error('sync throw');
    }),
    /sync throw/,
  );
  await assert.rejects(
    withSpan(t.tracer, 'x', {}, async () => Promise.reject(new Error('async reject'))),
    /async reject/,
  );
});

test('withSpan, tracing off, under a remote parent: the parent stays current inside fn', async () => {
  ensureProcessContext();
  const t = noopTelemetry();
  const traceId = '0af7651916cd76916cd76916cd769162';
  const parent = extractContext(`00-${traceId}-b7ad6b7169203331-01`);
  await withSpan(t.tracer, 'wire.handshake', { parent }, (span) => {
    // The no-op span carries the remote ids, so log lines inside still point at the trace.
    assert.equal(span.spanContext().traceId, traceId);
    assert.equal(activeSpanIds()?.trace_id, traceId);
  });
});

test('withSpan, tracing off: an explicit parent other than the current context is honoured', async () => {
  ensureProcessContext();
  const t = noopTelemetry();
  const traceId = '0af7651916cd76916cd76916cd769162';
  const remote = extractContext(`00-${traceId}-b7ad6b7169203331-01`);
  await context.with(remote, () =>
    // ROOT_CONTEXT detaches from the remote span that is current: nothing inside points at it.
    withSpan(t.tracer, 'detached', { parent: ROOT_CONTEXT }, () => {
      assert.equal(activeSpanIds(), undefined);
    }),
  );
});

test('observe: inside a sampled span the histogram keeps it as exemplar; outside, none', async () => {
  const t = recordingTelemetry();
  let traceId = '';
  await withSpan(t.tracer, 'wire.handshake', {}, (span) => {
    traceId = span.spanContext().traceId;
    observe(t.metrics.handshakeDuration, { direction: 'outbound' }, 0.02);
  });
  observe(t.metrics.handshakeDuration, { direction: 'inbound' }, 0.02);
  const text = await t.metrics.registry.metrics();
  const outbound = text.split('\n').filter((l) => l.includes('direction="outbound"'));
  const inbound = text.split('\n').filter((l) => l.includes('direction="inbound"'));
  assert.ok(outbound.some((l) => l.includes(`trace_id="${traceId}"`)));
  assert.equal(
    inbound.some((l) => l.includes('trace_id')),
    false,
  );
  assert.match(text, /meshkeeper_handshake_duration_seconds_count\{direction="inbound"\} 1/);
});

test('exemplar histograms: the positional observe that prom-client breaks is a type error', () => {
  const { metrics } = noopTelemetry();
  // @ts-expect-error with exemplars on, prom-client throws on observe(labels, value)
  assert.throws(() => metrics.handshakeDuration.observe({ direction: 'inbound' }, 1));
  metrics.keepAliveRtt.observe({ value: 0.01 });
  metrics.handshakeDuration.labels({ direction: 'inbound' }).observe(0.5);
});

test('createTelemetry: binds the node id to log lines and is a no-op tracer without OTEL env', async () => {
  const lines: string[] = [];
  const root = createLogger({ level: 'info', destination: { write: (l) => lines.push(l) } });
  const t = createTelemetry({
    log: root,
    peerId: 'mknode',
    version: '1.2.3',
    env: {},
    defaultMetrics: false,
  });
  t.log.info('hello');
  assert.equal(JSON.parse(lines[0] ?? '{}').node, 'mknode');
  assert.equal(t.tracingEnabled, false);
  assert.match(
    await t.metrics.registry.metrics(),
    /meshkeeper_build_info\{version="1\.2\.3",node_version="v[\d.]+"\} 1/,
  );
  await t.shutdown();
});
