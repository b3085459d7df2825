import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AdminClient } from '../../../src/admin/client.ts';
import { formatAddress } from '../../../src/config/index.ts';
import { messageId } from '../../../src/protocols/gossip.ts';
import { randomInt, seededRng } from '../../../src/rng.ts';
import { type LogLine, recordingLogger } from '../../../src/telemetry/logger.ts';
import { type InProcessNode, inProcessNodes } from '../../fixtures/in-process-node.ts';
import { hosts, until } from '../../fixtures/scenario.ts';
import { eventually, metricValue } from '../../fixtures/wire-node.ts';

// Gossip over real sockets (DESIGN §3 Gossip, §7): ten real nodes (startNode, in this process)
// on 127.0.21.1-10 form a sparse mesh through bootstrap and maintenance, the governor makes
// their peers hot, and one message published through the admin API reaches every node once.

const N = 10;
const SEED = 20;
const node = inProcessNodes();
const clients: AdminClient[] = [];
after(() => {
  for (const client of clients) client.close();
});

interface ClusterNode {
  node: InProcessNode;
  /** Its log lines (info and up): `gossip_delivered` is the application's delivery. */
  lines: LogLine[];
}

/**
 * Node i bootstraps from node i − 1 and one seeded-random earlier node. `--connections=4`
 * (band 2/2/6/6) has each dial two peers and stop: about 2N edges, far from a clique.
 */
async function startMesh(): Promise<ClusterNode[]> {
  const rng = seededRng(SEED);
  const cluster: ClusterNode[] = [];
  for (const [i, host] of hosts('127.0.21', N).entries()) {
    const bootstrap = new Set<string>();
    if (i > 0) bootstrap.add(formatAddress((cluster[i - 1] as ClusterNode).node.listen));
    if (i > 1)
      bootstrap.add(formatAddress((cluster[randomInt(rng, i - 1)] as ClusterNode).node.listen));
    const { log, lines } = recordingLogger('info');
    const flags = ['--connections=4'];
    if (bootstrap.size > 0) flags.push(`--bootstrap=${[...bootstrap].join(',')}`);
    cluster.push({ node: await node(host, flags, { log }), lines });
  }
  return cluster;
}

/** Undirected edges between hot peers, as `a|b` with a < b. */
function hotEdges(cluster: ClusterNode[]): Set<string> {
  const edges = new Set<string>();
  for (const { node: n } of cluster) {
    for (const handle of n.peers.handles.values()) {
      if (handle.status === 'hot') edges.add([n.peerId, handle.peerId].sort().join('|'));
    }
  }
  return edges;
}

function connected(cluster: ClusterNode[], edges: Set<string>): boolean {
  const reached = new Set([cluster[0]?.node.peerId]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const edge of edges) {
      const [x, y] = edge.split('|') as [string, string];
      if (reached.has(x) !== reached.has(y)) {
        reached.add(x);
        reached.add(y);
        grew = true;
      }
    }
  }
  return reached.size === cluster.length;
}

/** Every peer of every node hot with a gossip session attached, and the hot graph connected. */
function meshReady(cluster: ClusterNode[]): boolean {
  for (const { node: n } of cluster) {
    const live = [...n.peers.handles.values()];
    if (live.length < 1 || live.some((h) => h.status !== 'hot')) return false;
    if (n.gossip.attachedPeers !== live.length) return false;
  }
  return connected(cluster, hotEdges(cluster));
}

const gossip = (n: InProcessNode, event: string) =>
  metricValue(n, 'meshkeeper_gossip_messages_total', { event });

const deliveries = (c: ClusterNode) => c.lines.filter((l) => l.event === 'gossip_delivered');

test('a message published on one node of a 10-node sparse mesh reaches all 10 exactly once', async (t) => {
  const cluster = await startMesh();
  await eventually(() => meshReady(cluster), 20_000, 'a connected mesh of hot peers');
  const edges = hotEdges(cluster);
  assert.ok(edges.size < (N * (N - 1)) / 2, `a sparse mesh, not a clique (${edges.size} edges)`);

  // The publisher with the fewest peers: most nodes hear of the message only through relays.
  const publisher = cluster.reduce((x, y) =>
    y.node.peers.handles.size < x.node.peers.handles.size ? y : x,
  );
  assert.ok(publisher.node.peers.handles.size < N - 1, 'some nodes are not its neighbours');
  const client = new AdminClient({
    address: `${publisher.node.listen.host}:${publisher.node.admin.port}`,
  });
  clients.push(client);
  const payload = randomBytes(4096);
  await client.call('Publish', { payload });

  const others = cluster.filter((c) => c !== publisher);
  await until(
    async () => Promise.all(others.map((c) => gossip(c.node, 'delivered'))),
    (counts) => counts.every((n) => n >= 1),
    10_000,
    'every other node delivered the message',
  );
  await sleep(500); // time for any late duplicate to arrive and be counted

  assert.equal(await gossip(publisher.node, 'published'), 1);
  assert.equal(
    await gossip(publisher.node, 'delivered'),
    0,
    'the publisher never delivers its own',
  );
  assert.equal(deliveries(publisher).length, 0);
  const id = Buffer.from(messageId(payload)).toString('hex');
  for (const [i, c] of others.entries()) {
    assert.equal(await gossip(c.node, 'delivered'), 1, `node ${i}: delivered once`);
    const [line, ...more] = deliveries(c);
    assert.equal(more.length, 0, `node ${i}: handed to the application once`);
    assert.equal(line?.id, id, `node ${i}: the message published`);
  }
  const duplicates = await Promise.all(cluster.map((c) => gossip(c.node, 'duplicate')));
  t.diagnostic(
    `${edges.size} hot edges, publisher degree ${publisher.node.peers.handles.size}, ` +
      `${duplicates.reduce((x, y) => x + y, 0)} duplicate deliveries counted and dropped`,
  );
});
