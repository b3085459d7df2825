import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunningNode } from '../../../src/node.ts';
import type { PeerHandle } from '../../../src/peers/handle.ts';
import { inProcessNodes } from '../../fixtures/in-process-node.ts';
import { eventually, metricValue } from '../../fixtures/wire-node.ts';

// Duplex and simultaneous open at the peer layer (DESIGN §3, §5): two real nodes (startNode:
// TCP + TLS 1.3 + handshake, ConnectionManager, PeerStateActions, pool) on 127.0.20.1-2 each
// establish to the other at the same instant, 100 times over.

const ROUNDS = 100;
const node = inProcessNodes();

/** What one node counts of its connections: live peers, transport, gauges and pool. */
async function counted(n: RunningNode) {
  const gauge = (name: string, labels: Record<string, string> = {}) => metricValue(n, name, labels);
  return {
    peers: n.peers.handles.size,
    connections: n.transport.connections.size,
    connectionsGauge: await gauge('meshkeeper_connections'),
    establishedGauge:
      (await gauge('meshkeeper_peers', { status: 'warm' })) +
      (await gauge('meshkeeper_peers', { status: 'hot' })),
    runningPoints: n.pool.snapshot().counts.running,
  };
}

const once = {
  peers: 1,
  connections: 1,
  connectionsGauge: 1,
  establishedGauge: 1,
  runningPoints: 1,
};
const none = {
  peers: 0,
  connections: 0,
  connectionsGauge: 0,
  establishedGauge: 0,
  runningPoints: 0,
};

function established(result: PromiseSettledResult<PeerHandle>, what: string): PeerHandle {
  if (result.status === 'rejected') assert.fail(`${what} failed: ${String(result.reason)}`);
  return result.value;
}

test('simultaneous open, 100 times: both establish calls get the one connection, counted once on each side', async () => {
  const a = await node('127.0.20.1');
  const b = await node('127.0.20.2');
  // Maintenance stays out of it: only the two establish calls of each round dial. Each knows
  // the other's point, as after an admin Connect.
  for (const [n, other] of [
    [a, b],
    [b, a],
  ] as const) {
    n.maintenance.setTriggers(false);
    n.pool.addPoint(other.listen, 'admin');
  }

  for (let round = 0; round < ROUNDS; round++) {
    const at = `round ${round}`;
    const [fromA, fromB] = await Promise.allSettled([a.connect(b.listen), b.connect(a.listen)]);
    const ha = established(fromA, `${at}: A's establish`);
    const hb = established(fromB, `${at}: B's establish`);
    assert.deepEqual([...a.peers.handles.values()], [ha], `${at}: A's one peer is what it got`);
    assert.deepEqual([...b.peers.handles.values()], [hb], `${at}: B's one peer is what it got`);
    assert.equal(ha.peerId, b.peerId);
    assert.equal(hb.peerId, a.peerId);
    assert.deepEqual(await counted(a), once, `${at}: A`);
    assert.deepEqual(await counted(b), once, `${at}: B`);
    // One TCP connection seen from both ends: its dialer reached the acceptor's listener.
    assert.notEqual(ha.direction, hb.direction, `${at}: one connection, two ends`);
    const [dialer, acceptor] = ha.direction === 'outbound' ? [ha, b] : [hb, a];
    assert.equal(dialer.connection.remotePort, acceptor.listen.port);
    // Both sides keep the one initiated by the lower peer id (DESIGN §3).
    assert.equal(dialer === ha ? a.peerId : b.peerId, [a.peerId, b.peerId].sort()[0]);

    await (round % 2 === 0 ? a.peers.close(ha) : b.peers.close(hb));
    await eventually(
      () => a.peers.handles.size + b.peers.handles.size === 0,
      5000,
      `${at}: both peers cold`,
    );
    await eventually(
      async () =>
        JSON.stringify([await counted(a), await counted(b)]) === JSON.stringify([none, none]),
      5000,
      `${at}: both sides back to zero`,
    );
  }
});
