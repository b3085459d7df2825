import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { AdminClient } from '../../../src/admin/client.ts';
import type { WatchEventsResponse } from '../../../src/admin/messages.ts';
import { killAll } from '../../fixtures/scenario.ts';
import {
  type AdminNodeProcess,
  closeClients,
  metricValue,
  startAdminNode,
  until,
} from './fixtures.ts';

// Scenarios of the maintenance worker driven through the admin API, with real node processes
// on 127.0.8.x: maintain() in band, and bounds changed at run time.
const nodes: AdminNodeProcess[] = [];
after(async () => {
  closeClients();
  await killAll(nodes);
});

/** Cycle events, collected from the moment the stream is subscribed. */
async function watchCycles(
  client: AdminClient,
): Promise<{ events: WatchEventsResponse[]; stop(): void }> {
  const events: WatchEventsResponse[] = [];
  const stream = client.watch({ kinds: ['EVENT_KIND_CYCLE'] });
  stream.on('data', (e: WatchEventsResponse) => events.push(e));
  stream.on('error', () => {});
  await new Promise<void>((resolve) => stream.once('metadata', () => resolve()));
  return { events, stop: () => stream.cancel() };
}

test('maintain() in band returns within one cycle, with that cycle as its summary', async () => {
  const peers = await Promise.all([startAdminNode('127.0.8.2'), startAdminNode('127.0.8.3')]);
  nodes.push(...peers);
  // --connections=2: bounds 1/2/3, band 1/1/3/3.
  const a = await startAdminNode('127.0.8.1', [
    '--connections=2',
    `--bootstrap=${peers.map((p) => p.p2p).join(',')}`,
  ]);
  nodes.push(a);
  const client = a.client();
  const inBand = await until(
    () => client.call('GetStatus', {}),
    (s) => (s.established ?? 0) >= 1 && (s.established ?? 0) <= 3,
    20_000,
    'A inside its band',
  );
  const band = inBand.band ?? {};
  const requested = () =>
    metricValue(a, 'meshkeeper_maintenance_cycles_total', { motive: 'maintain_request' });
  const cyclesBefore = await requested();
  const startedAt = performance.now();
  const { cycle } = await client.call('Maintain', {}, { timeoutMs: 10_000 });
  const tookMs = performance.now() - startedAt;

  assert.equal(cycle?.motive, 'CYCLE_MOTIVE_MAINTAIN_REQUEST');
  assert.equal(cycle?.before, cycle?.after, 'in band: nothing to do');
  assert.ok(
    (cycle?.after ?? 0) >= (band.min_threshold ?? 0) &&
      (cycle?.after ?? 0) <= (band.max_threshold ?? 0),
  );
  assert.equal(cycle?.dialed ?? 0, 0);
  assert.equal(cycle?.closed ?? 0, 0);
  assert.equal(await requested(), cyclesBefore + 1, 'exactly one cycle ran for the call');
  assert.ok(tookMs < 3000, `Maintain took ${Math.round(tookMs)} ms`);
  // The node ran one maintain_request cycle at start (startNode calls maintain()); one more now.
  const ended = a.logs.filter(
    (l) => l.event === 'maintenance_ended' && l.motive === 'maintain_request',
  );
  assert.equal(ended.length, 2);
});

test('bounds changed at run time take effect within one cycle, upwards and downwards', async () => {
  const peers = await Promise.all(
    ['127.0.8.12', '127.0.8.13', '127.0.8.14'].map((h) => startAdminNode(h)),
  );
  nodes.push(...peers);
  // --connections=1: bounds 1/1/1 (known-points cap 8/6); it knows all three, keeps one.
  const a = await startAdminNode('127.0.8.11', [
    '--connections=1',
    `--bootstrap=${peers.map((p) => p.p2p).join(',')}`,
  ]);
  nodes.push(a);
  const client = a.client();
  await until(
    () => client.call('GetStatus', {}),
    (s) => s.established === 1,
    20_000,
    'A with one peer',
  );
  const cycles = await watchCycles(client);

  for (const bounds of [
    { min: 3, expected: 3, max: 3 },
    { min: 1, expected: 1, max: 1 },
  ]) {
    const seenBefore = cycles.events.length;
    const set = await client.call('SetBounds', bounds);
    assert.deepEqual(set.bounds, bounds, 'applied at once');
    const band = set.band ?? {};
    const events = await until(
      async () => cycles.events.slice(seenBefore),
      (list) => list.some((e) => e.cycle?.motive === 'CYCLE_MOTIVE_BOUNDS_CHANGED'),
      20_000,
      `a bounds_changed cycle after ${JSON.stringify(bounds)}`,
    );
    const first = events.find((e) => e.cycle?.motive === 'CYCLE_MOTIVE_BOUNDS_CHANGED')?.cycle;
    const count = first?.after ?? 0;
    assert.ok(
      count >= (band.min_threshold ?? 0) && count <= (band.max_threshold ?? 0),
      `after the first bounds_changed cycle: ${count} established, band ${JSON.stringify(band)}`,
    );
    if (bounds.max === 3) assert.equal(first?.dialed, 2);
    else assert.equal(first?.closed, 2);
    const s = await client.call('GetStatus', {});
    assert.equal(s.established, count);
    assert.deepEqual(s.bounds, bounds);
  }
  cycles.stop();
});
