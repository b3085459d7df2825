import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AdminClient } from '../../../src/admin/client.ts';
import { loadConfig } from '../../../src/config/index.ts';
import { type RunningNode, startNode } from '../../../src/node.ts';
import { startOtlpCollector } from '../../fixtures/otlp-collector.ts';
import { killAll } from '../../fixtures/scenario.ts';
import { type AdminNodeProcess, startAdminNode, until } from './fixtures.ts';

// One span per admin RPC, parent of the work it causes: Maintain → maintenance.cycle →
// peer.establish, exported over OTLP/gRPC to a collector in this test (127.0.9.30-32).

let node: RunningNode | undefined;
let peers: AdminNodeProcess[] = [];
let collector: Awaited<ReturnType<typeof startOtlpCollector>> | undefined;
let client: AdminClient | undefined;
after(async () => {
  client?.close();
  await node?.stop();
  await killAll(peers);
  await collector?.stop();
});

test('Maintain is one span, parent of the maintenance.cycle it runs, parent of the peer.establish it dials', async () => {
  collector = await startOtlpCollector('127.0.9.30');
  peers = await Promise.all([startAdminNode('127.0.9.31'), startAdminNode('127.0.9.32')]);
  const loaded = loadConfig({
    argv: [
      '--listen=127.0.9.30:0',
      '--http-listen=127.0.9.30:0',
      '--admin-listen=127.0.9.30:0',
      `--data-dir=${mkdtempSync(join(tmpdir(), 'meshkeeper-trace-'))}`,
      '--connections=1',
      `--bootstrap=${peers.map((p) => p.p2p).join(',')}`,
      '--log-level=warn',
    ],
    env: {},
  });
  assert.ok(loaded.ok);
  node = await startNode(loaded.config, {
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.9.30:${collector.port}`,
      OTEL_BSP_SCHEDULE_DELAY: '50',
    },
  });
  const running = node;
  await until(
    async () => running.maintenance.count(),
    (n) => n === 1,
    20_000,
    'one peer',
  );
  // No cycle but ours from here: the other known point stays undialed until Maintain.
  running.maintenance.setTriggers(false);
  client = new AdminClient({ address: `127.0.9.30:${running.admin.port}` });
  const [first] = [...running.peers.handles.values()];
  assert.ok(first !== undefined);
  await client.call('Disconnect', { peer_id: first.peerId });
  const { cycle } = await client.call('Maintain', {}, { timeoutMs: 20_000 });
  assert.equal(cycle?.dialed, 1);
  assert.equal(cycle?.succeeded, 1);

  const spans = await until(
    async () => collector?.spans() ?? [],
    (rows) => rows.some((s) => s.name === 'admin.Maintain'),
    10_000,
    'the admin.Maintain span exported',
  );
  const maintain = spans.find((s) => s.name === 'admin.Maintain');
  assert.ok(maintain !== undefined);
  const cycleSpan = spans.find(
    (s) => s.name === 'maintenance.cycle' && s.parentSpanId === maintain.spanId,
  );
  assert.ok(cycleSpan !== undefined, 'maintenance.cycle is a child of admin.Maintain');
  const establish = spans.find(
    (s) => s.name === 'peer.establish' && s.parentSpanId === cycleSpan.spanId,
  );
  assert.ok(establish !== undefined, 'peer.establish is a child of maintenance.cycle');
  assert.equal(cycleSpan.traceId, maintain.traceId);
  assert.equal(establish.traceId, maintain.traceId);
  assert.ok(
    spans.some((s) => s.name === 'wire.dial' && s.parentSpanId === establish.spanId),
    'and the dial under it',
  );
  const disconnect = spans.find((s) => s.name === 'admin.Disconnect');
  assert.ok(
    spans.some((s) => s.name === 'peer.close' && s.parentSpanId === disconnect?.spanId),
    'Disconnect → peer.close',
  );
});
