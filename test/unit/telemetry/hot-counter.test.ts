import assert from 'node:assert/strict';
import { test } from 'node:test';
import { noopTelemetry } from '../../../src/telemetry/index.ts';

test('hot counter: cell and inc increments reach every reader, once each', async () => {
  const { metrics } = noopTelemetry();
  const out = metrics.bytes.cell({ direction: 'out', protocol: 'gossip' });
  out.add(100);
  out.add(28);
  metrics.bytes.inc({ direction: 'in', protocol: 'gossip' }, 7);
  metrics.bytes.inc({ direction: 'in', protocol: 'gossip' }, 3);
  const first = await metrics.bytes.counter.get();
  const value = (values: typeof first.values, direction: string) =>
    values.find((v) => v.labels.direction === direction && v.labels.protocol === 'gossip')?.value;
  assert.equal(value(first.values, 'out'), 128);
  assert.equal(value(first.values, 'in'), 10);
  // A second collection adds nothing new; later increments add to the totals.
  out.add(2);
  assert.match(
    await metrics.registry.metrics(),
    /meshkeeper_bytes_total\{direction="out",protocol="gossip"\} 130/,
  );
  assert.equal(value((await metrics.bytes.counter.get()).values, 'out'), 130);
});

test('hot counter: a label set appears at 0 when its cell is made; bad labels fail then', async () => {
  const { metrics } = noopTelemetry();
  metrics.handshakes.cell({ direction: 'inbound', result: 'ok' });
  assert.match(
    await metrics.registry.metrics(),
    /meshkeeper_handshakes_total\{direction="inbound",result="ok"\} 0/,
  );
  assert.throws(
    () => metrics.handshakes.cell({ direction: 'inbound', nope: 'x' } as never),
    /Added label "nope" is not included in initial labelset/,
  );
});

test('hot counter: a negative or non-finite increment fails at the caller, scrapes stay whole', async () => {
  const { metrics } = noopTelemetry();
  const cell = metrics.bytes.cell({ direction: 'in', protocol: 'handshake' });
  cell.add(5);
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => cell.add(bad), RangeError);
  }
  assert.match(
    await metrics.registry.metrics(),
    /meshkeeper_bytes_total\{direction="in",protocol="handshake"\} 5/,
  );
});
