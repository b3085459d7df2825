import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { create } from '@bufbuild/protobuf';
import { systemClock } from '../../../src/clock.ts';
import {
  GossipRouter,
  type GossipRun,
  messageId,
  serveGossip,
  startGossip,
} from '../../../src/protocols/gossip.ts';
import { PeerSharingClient } from '../../../src/protocols/peer-sharing.ts';
import type { Connection } from '../../../src/wire/connection.ts';
import { FrameFlags } from '../../../src/wire/frame.ts';
import { type Gossip, GossipSchema } from '../../../src/wire/gen/meshkeeper/wire/v1/gossip_pb.ts';
import { encodeDelimited } from '../../../src/wire/messages.ts';
import { Protocol } from '../../../src/wire/protocol-numbers.ts';
import { defaultConfig } from '../../fixtures/config.ts';
import { closedSocket, frame, handshakeAsDialer, rawTlsClient } from '../../fixtures/raw-peer.ts';
import { eventually, metricValue, startWireNode, type WireNode } from '../../fixtures/wire-node.ts';

/**
 * Gossip between real nodes over TCP + TLS 1.3 + the mux. Each node is a wire node with one
 * GossipRouter; every connection serves the gossip responder, and each test starts the hot
 * protocol (`startGossip`) on both ends of the edges it builds, as the hot bundle would.
 */

interface GossipNode {
  wire: WireNode;
  router: GossipRouter;
  /** What onMessage received, in order. */
  received: Uint8Array[];
}

const started: WireNode[] = [];
after(async () => {
  for (const node of started) await node.close();
});

async function gossipNode(host: string): Promise<GossipNode> {
  const wire = await startWireNode(host);
  started.push(wire);
  const received: Uint8Array[] = [];
  const router = new GossipRouter({
    clock: systemClock,
    config: defaultConfig().gossip,
    metrics: wire.telemetry.metrics,
    log: wire.telemetry.log,
    onMessage: (payload) => received.push(payload),
  });
  return { wire, router, received };
}

function serveOn(connection: Connection, router: GossipRouter): void {
  connection.setResponder(Protocol.gossip, (channel, c) => serveGossip(channel, c, router));
}

interface Edge {
  /** The dialer and the acceptor; `connections` and `runs` are in the same order. */
  nodes: [GossipNode, GossipNode];
  connections: [Connection, Connection];
  runs: [GossipRun, GossipRun];
}

/** Connects `x` to `y` and starts the hot protocol on both ends. */
async function hotEdge(x: GossipNode, y: GossipNode): Promise<Edge> {
  const xy = await x.wire.transport.dial({ host: y.wire.host, port: y.wire.port });
  const yx = await y.wire.connectionTo(x.wire.peerId);
  serveOn(xy, x.router);
  serveOn(yx, y.router);
  return {
    nodes: [x, y],
    connections: [xy, yx],
    runs: [startGossip(xy, x.router), startGossip(yx, y.router)],
  };
}

async function stopAll(edges: Edge[]): Promise<void> {
  const runs = edges.flatMap((e) => e.runs);
  for (const run of runs) run.stop();
  await Promise.all(runs.map((r) => r.done));
}

function gossipCount(node: GossipNode, event: string): Promise<number> {
  return metricValue(node.wire, 'meshkeeper_gossip_messages_total', { event });
}

function failures(node: GossipNode, reason: string): Promise<number> {
  return metricValue(node.wire, 'meshkeeper_connection_failures_total', { reason });
}

/** Every valid Deliver a node received on any of its sessions. */
function deliveriesReceived(node: GossipNode, edges: Edge[]): number {
  let total = 0;
  for (const edge of edges) {
    edge.nodes.forEach((n, i) => {
      if (n === node) total += edge.runs[i as 0 | 1].session.receivedDeliveries;
    });
  }
  return total;
}

/** Waits until every node but the publisher received one message, then a little longer. */
async function reachesAll(nodes: GossipNode[], publisher: GossipNode): Promise<void> {
  const others = nodes.filter((n) => n !== publisher);
  await eventually(() => others.every((n) => n.received.length >= 1), 5000, 'every node');
  await sleep(200); // time for any late duplicate to arrive and be counted
}

test('line A–B–C–D: a message published on A reaches every node exactly once', async () => {
  const nodes = await Promise.all(
    ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'].map(gossipNode),
  );
  const [a, b, c, d] = nodes as [GossipNode, GossipNode, GossipNode, GossipNode];
  const edges = [await hotEdge(a, b), await hotEdge(b, c), await hotEdge(c, d)];
  const payload = randomBytes(200_000);
  a.router.publish(payload);
  await reachesAll(nodes, a);
  for (const n of [b, c, d]) {
    assert.equal(n.received.length, 1, 'onMessage once');
    assert.deepEqual(Buffer.from(n.received[0] as Uint8Array), payload);
    assert.equal(await gossipCount(n, 'delivered'), 1);
    assert.equal(await gossipCount(n, 'duplicate'), 0, 'a line has no overlapping paths');
  }
  assert.equal(a.received.length, 0, 'the publisher does not receive its own message');
  assert.equal(await gossipCount(a, 'published'), 1);
  assert.equal(deliveriesReceived(a, edges), 0, 'nothing is sent back towards the source');
  await stopAll(edges);
});

test('5-node clique: one message reaches every node exactly once; overlaps count as duplicate', async (t) => {
  const hosts = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'];
  const nodes = await Promise.all(hosts.map(gossipNode));
  const edges: Edge[] = [];
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) {
      edges.push(await hotEdge(nodes[i] as GossipNode, nodes[j] as GossipNode));
    }
  }
  const publisher = nodes[0] as GossipNode;
  const { id } = publisher.router.publish(randomBytes(64 * 1024));
  await reachesAll(nodes, publisher);
  let duplicates = 0;
  for (const n of nodes.slice(1)) {
    assert.equal(n.received.length, 1, 'onMessage once per node');
    assert.deepEqual(messageId(n.received[0] as Uint8Array), id);
    assert.equal(await gossipCount(n, 'delivered'), 1);
    const duplicate = await gossipCount(n, 'duplicate');
    // Every Deliver beyond the first on a node came along an overlapping path.
    assert.equal(duplicate, deliveriesReceived(n, edges) - 1);
    duplicates += duplicate;
  }
  assert.equal(await gossipCount(publisher, 'duplicate'), deliveriesReceived(publisher, edges));
  t.diagnostic(`duplicates across the clique: ${duplicates}`);
  await stopAll(edges);
});

test('overlapping paths: the same payload from two sides is delivered once and counted duplicate once', async () => {
  const [x, y, z] = await Promise.all(['127.0.0.2', '127.0.0.3', '127.0.0.4'].map(gossipNode));
  if (x === undefined || y === undefined || z === undefined) throw new Error('nodes');
  const edges = [await hotEdge(x, y), await hotEdge(y, z)];
  // y is in the middle; x and z publish the same bytes at once: both announce it to y, which
  // asks both (it has seen neither delivery yet) and receives it twice.
  const payload = randomBytes(512 * 1024);
  x.router.publish(payload);
  z.router.publish(payload);
  await eventually(() => y.received.length === 1, 5000, 'y receives');
  await eventually(async () => deliveriesReceived(y, edges) === 2, 5000, 'both deliveries');
  assert.equal(y.received.length, 1);
  assert.equal(await gossipCount(y, 'delivered'), 1);
  assert.equal(await gossipCount(y, 'duplicate'), 1);
  await stopAll(edges);
});

/** A raw TLS peer past the handshake, whose connection on `target` serves gossip. */
async function rawGossipPeer(target: GossipNode, from = '127.0.0.6') {
  const peer = await rawTlsClient(target.wire.host, target.wire.port, from);
  const { reply } = await handshakeAsDialer(peer);
  assert.equal(reply.result.case, 'accept');
  const connection = await target.wire.connectionTo(peer.identity.peerId);
  serveOn(connection, target.router);
  return { peer, connection };
}

/** One Gossip message as frames of the raw peer's own instance (it is the dialer and client). */
function gossipFrame(message: Gossip): Buffer {
  return frame(Protocol.gossip, FrameFlags.clientIsDialer, encodeDelimited(GossipSchema, message));
}

/** After bad input the node still gossips with a well-behaved peer. */
async function assertStillGossips(target: GossipNode, host: string): Promise<void> {
  const good = await gossipNode(host);
  const edge = await hotEdge(good, target);
  const payload = randomBytes(1000);
  target.router.publish(payload);
  await eventually(() => good.received.length === 1, 5000, 'gossip after the bad peer');
  assert.deepEqual(Buffer.from(good.received[0] as Uint8Array), payload);
  await stopAll([edge]);
}

test('a Deliver whose id is not its payload’s SHA-256: protocol_violation, counted, node still serves', async () => {
  const b = await gossipNode('127.0.0.3');
  const { peer, connection } = await rawGossipPeer(b);
  const payload = randomBytes(100);
  const wrongId = messageId(randomBytes(100));
  peer.socket.write(
    gossipFrame(
      create(GossipSchema, { message: { case: 'deliver', value: { id: wrongId, payload } } }),
    ),
  );
  await closedSocket(peer.socket);
  assert.equal((await connection.closed)?.code, 'protocol_violation');
  await eventually(async () => (await failures(b, 'protocol_violation')) === 1, 3000, 'counted');
  assert.equal(b.received.length, 0);
  assert.equal(await gossipCount(b, 'delivered'), 0);
  await assertStillGossips(b, '127.0.0.2');
});

test('an Announce of more than 256 ids: protocol_violation, counted, node still serves', async () => {
  const b = await gossipNode('127.0.0.3');
  const { peer, connection } = await rawGossipPeer(b);
  const ids = Array.from({ length: 257 }, () => messageId(randomBytes(8)));
  peer.socket.write(
    gossipFrame(create(GossipSchema, { message: { case: 'announce', value: { ids } } })),
  );
  await closedSocket(peer.socket);
  assert.equal((await connection.closed)?.code, 'protocol_violation');
  await eventually(async () => (await failures(b, 'protocol_violation')) === 1, 3000, 'counted');
  await assertStillGossips(b, '127.0.0.2');
});

test('an Announce of exactly 256 ids is fine: each unseen id is requested', async () => {
  const b = await gossipNode('127.0.0.3');
  const { peer, connection } = await rawGossipPeer(b);
  const ids = Array.from({ length: 256 }, () => messageId(randomBytes(8)));
  peer.socket.write(
    gossipFrame(create(GossipSchema, { message: { case: 'announce', value: { ids } } })),
  );
  // b's session answers on its own instance: a Request naming the 256 ids (plus framing).
  const bytesOut = () =>
    metricValue(b.wire, 'meshkeeper_bytes_total', { direction: 'out', protocol: 'gossip' });
  await eventually(async () => (await bytesOut()) >= 256 * 34, 3000, 'the request');
  assert.equal(connection.isClosed, false);
  peer.socket.destroy();
});

test('stop() on both ends resolves cleanly and leaves the connection open', async () => {
  const [a, b] = await Promise.all(['127.0.0.2', '127.0.0.3'].map(gossipNode));
  if (a === undefined || b === undefined) throw new Error('nodes');
  const edge = await hotEdge(a, b);
  a.router.publish(randomBytes(10));
  await eventually(() => b.received.length === 1, 5000, 'a message first');
  await stopAll([edge]);
  const [ab, ba] = edge.connections;
  assert.equal(ab.isClosed, false);
  assert.equal(ba.isClosed, false);
  assert.equal(a.router.attachedPeers, 0);
  assert.equal(b.router.attachedPeers, 0);
  // The connection still carries other mini-protocols (the established bundle).
  const client = new PeerSharingClient(ab.mux.channel(Protocol.peerSharing, 'client'), ab, {
    clock: systemClock,
    timeoutMs: 2000,
  });
  assert.deepEqual(await client.request(1), []);
  await client.end();
  // And gossip restarts on it (re-promotion).
  const again = [startGossip(ab, a.router), startGossip(ba, b.router)];
  b.router.publish(randomBytes(10));
  await eventually(() => a.received.length === 1, 5000, 'gossip after restart');
  for (const run of again) run.stop();
  await Promise.all(again.map((r) => r.done));
});

test('stop() on one end: the remote’s hot protocol returns cleanly too', async () => {
  const [a, b] = await Promise.all(['127.0.0.2', '127.0.0.3'].map(gossipNode));
  if (a === undefined || b === undefined) throw new Error('nodes');
  const edge = await hotEdge(a, b);
  const [ours, theirs] = edge.runs as [GossipRun, GossipRun];
  await eventually(() => a.router.attachedPeers === 1 && b.router.attachedPeers === 1, 3000, 'up');
  ours.stop();
  await Promise.all([ours.done, theirs.done]);
  assert.equal(theirs.session.state, 'done');
  assert.equal(edge.connections[1].isClosed, false);
});

test('a peer that never reads: the sender’s queues stay bounded and nothing more is buffered', async (t) => {
  const b = await gossipNode('127.0.0.3');
  const { peer, connection } = await rawGossipPeer(b);
  const run = startGossip(connection, b.router);
  peer.socket.pause(); // from here on the raw peer reads nothing
  // 40 payloads of 1 MiB, all requested by the peer: far more than socket buffers hold.
  const ids = Array.from(
    { length: 40 },
    () => b.router.publish(randomBytes(defaultConfig().gossip.maxMessageBytes)).id,
  );
  peer.socket.write(
    gossipFrame(create(GossipSchema, { message: { case: 'request', value: { ids } } })),
  );
  const bytesOut = () =>
    metricValue(b.wire, 'meshkeeper_bytes_total', { direction: 'out', protocol: 'gossip' });
  let last = -1;
  await eventually(
    async () => {
      const now = await bytesOut();
      const stable = now === last && now > 0;
      last = now;
      await sleep(100);
      return stable;
    },
    10_000,
    'writes to stop',
  );
  const blockedAt = await bytesOut();
  assert.ok(blockedAt < 40 * 1024 * 1024, `${blockedAt} bytes went out before backpressure`);
  assert.ok(run.session.pendingDeliveries > 0, 'deliveries wait in the queue, not in the socket');
  // A burst of publishes: the announce queue fills to its bound and the rest is dropped.
  const limit = b.router.limits.maxPendingAnnounceIds;
  const burst = limit + 5000;
  const droppedBefore = await gossipCount(b, 'dropped');
  for (let i = 0; i < burst; i++) b.router.publish(randomBytes(16));
  await sleep(100);
  assert.equal(run.session.pendingAnnounceIds, limit);
  assert.equal((await gossipCount(b, 'dropped')) - droppedBefore, burst - limit);
  assert.equal(await bytesOut(), blockedAt, 'nothing more was written');
  const heapMiB = process.memoryUsage().heapUsed / 2 ** 20;
  t.diagnostic(
    `heap ${heapMiB.toFixed(0)} MiB with ${run.session.pendingDeliveries} queued deliveries`,
  );
  peer.socket.destroy();
  await assert.rejects(run.done);
  assert.ok(
    (await gossipCount(b, 'dropped')) - droppedBefore >= burst,
    'the queued rest is dropped',
  );
});
