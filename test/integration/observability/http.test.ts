import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startHttpServer } from '../../../src/http/server.ts';
import type { NodeStatus } from '../../../src/status.ts';
import { observe, recordingTelemetry, withSpan } from '../../../src/telemetry/index.ts';
import { OPENMETRICS_ACCEPT, parseExposition } from './harness.ts';

/*
 * The HTTP server in process, against a real registry: format negotiation, exemplars, probes.
 * The same endpoints served by real node processes are exercised by prometheus.test.ts and
 * readiness.test.ts.
 */

const HOST = '127.0.12.40';
const telemetry = recordingTelemetry();
let ready = { ready: false, reason: '1 established, min 2: below min after the start-up grace' };
const server = await startHttpServer(HOST, 0, {
  registry: telemetry.metrics.registry,
  status: () => ({ peerId: 'mkexample' }) as unknown as NodeStatus,
  readiness: () => ready,
});
after(() => server.close());
const base = `http://${HOST}:${server.address.port}`;

let traceId = '';
await withSpan(telemetry.tracer, 'maintenance.cycle', {}, (span) => {
  traceId = span.spanContext().traceId;
  telemetry.metrics.maintenanceCycles.inc({ motive: 'too_few' });
  observe(telemetry.metrics.maintenanceCycleDuration, { motive: 'too_few' }, 0.03);
});

const scrape = (accept?: string) =>
  fetch(`${base}/metrics`, accept === undefined ? {} : { headers: { accept } });

test('/metrics: OpenMetrics with exemplars when the scraper asks for it', async () => {
  const response = await scrape(OPENMETRICS_ACCEPT);
  assert.match(response.headers.get('content-type') ?? '', /^application\/openmetrics-text/);
  const text = await response.text();
  assert.ok(text.endsWith('# EOF\n'));
  const bucket = parseExposition(text).find(
    (s) => s.name === 'meshkeeper_maintenance_cycle_duration_seconds_bucket' && s.exemplar,
  );
  assert.equal(bucket?.exemplar?.trace_id, traceId);
});

test('/metrics: Prometheus text otherwise, without exemplars', async () => {
  const response = await scrape();
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  assert.ok(!text.includes('# EOF'));
  assert.ok(!text.includes('trace_id'));
});

test('/metrics: counters keep `_total` in Prometheus text after an OpenMetrics scrape', async () => {
  // prom-client renames counters in place when it renders OpenMetrics (prometheus/client_js#829).
  await (await scrape(OPENMETRICS_ACCEPT)).text();
  const text = await (await scrape('text/plain')).text();
  assert.match(text, /^# TYPE meshkeeper_maintenance_cycles_total counter$/m);
  assert.match(text, /^meshkeeper_maintenance_cycles_total\{motive="too_few"\} 1$/m);
  const om = await (await scrape(OPENMETRICS_ACCEPT)).text();
  assert.match(om, /^# TYPE meshkeeper_maintenance_cycles counter$/m);
  assert.match(om, /^meshkeeper_maintenance_cycles_total\{motive="too_few"\} 1$/m);
});

test('/metrics: concurrent scrapes in both formats each get their own format', async () => {
  const accepts = Array.from({ length: 20 }, (_, i) =>
    i % 2 === 0 ? OPENMETRICS_ACCEPT : 'text/plain',
  );
  const bodies = await Promise.all(accepts.map((a) => scrape(a).then((r) => r.text())));
  bodies.forEach((body, i) => {
    assert.equal(body.endsWith('# EOF\n'), i % 2 === 0, `scrape ${i}`);
    assert.equal(body.includes('# TYPE meshkeeper_maintenance_cycles_total counter'), i % 2 === 1);
  });
});

test('/readyz: 503 with the reason when not ready, 200 when ready; never cached', async () => {
  const notReady = await fetch(`${base}/readyz`);
  assert.equal(notReady.status, 503);
  assert.equal(notReady.headers.get('cache-control'), 'no-store');
  assert.equal(await notReady.text(), `not ready: ${ready.reason}\n`);
  ready = { ready: true, reason: '2 established, min 2: min reached' };
  const isReady = await fetch(`${base}/readyz`);
  assert.equal(isReady.status, 200);
  assert.equal(await isReady.text(), 'ready: 2 established, min 2: min reached\n');
});

test('/healthz: 200 whatever readiness says', async () => {
  ready = { ready: false, reason: 'no peers' };
  const response = await fetch(`${base}/healthz`);
  assert.equal(response.status, 200);
  assert.match(await response.text(), /^ok: up \d+ s\n$/);
});

test('/debug/status: the node status as JSON', async () => {
  const response = await fetch(`${base}/debug/status`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { peerId: 'mkexample' });
});
