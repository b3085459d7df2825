import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { credentials, Metadata, makeGenericClientConstructor, status } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import type { WatchEventsResponse } from '../../../src/admin/messages.ts';
import { killAll } from '../../fixtures/scenario.ts';
import {
  type AdminNodeProcess,
  closeClients,
  expectCode,
  startAdminNode,
  until,
} from './fixtures.ts';

// Real node processes on 127.0.7.x, driven through the grpc-js client: one behaviour per test.
const nodes: AdminNodeProcess[] = [];
after(async () => {
  closeClients();
  await killAll(nodes);
});

async function started<T extends Array<Promise<AdminNodeProcess>>>(
  ...list: T
): Promise<{ [K in keyof T]: AdminNodeProcess }> {
  const got = await Promise.all(list);
  nodes.push(...got);
  return got as { [K in keyof T]: AdminNodeProcess };
}

test('Connect: a private node refuses, and the call fails with FAILED_PRECONDITION naming NOT_TRUSTED', async () => {
  const [a, priv] = await started(
    startAdminNode('127.0.7.1', ['--connections=2']),
    startAdminNode('127.0.7.2', ['--private-mode', '--connections=2']),
  );
  const failure = await expectCode(
    a.client().call('Connect', { address: priv.p2p }, { timeoutMs: 20_000 }),
    status.FAILED_PRECONDITION,
  );
  const info = failure.details.find((d) => d.type === 'error_info');
  assert.ok(info?.type === 'error_info', JSON.stringify(failure));
  assert.equal(info.reason, 'NOT_TRUSTED');
  assert.equal(info.domain, 'meshkeeper.admin.v1');
  assert.equal(info.metadata.point, priv.p2p);
  assert.equal(info.metadata.failure, 'HandshakeServerFailure');
  assert.match(failure.message, /refused the connection: not_trusted/);
});

test('Connect returns once the handshake succeeded; WatchEvents then sees the status change a Disconnect causes', async () => {
  const [a, b] = await started(
    startAdminNode('127.0.7.3', ['--connections=2']),
    startAdminNode('127.0.7.4', ['--connections=2']),
  );
  const client = a.client();
  const connected = await client.call(
    'Connect',
    { address: `${b.p2p}#${b.peerId}` },
    { timeoutMs: 20_000 },
  );
  assert.equal(connected.peer?.peer_id, b.peerId);
  assert.match(connected.peer?.status ?? '', /^PEER_STATUS_(WARM|HOT)$/);
  assert.equal(connected.peer?.direction, 'DIRECTION_OUTBOUND');

  const stream = client.watch({ kinds: ['EVENT_KIND_STATUS_CHANGE'] });
  const events: WatchEventsResponse[] = [];
  stream.on('data', (e: WatchEventsResponse) => events.push(e));
  stream.on('error', () => {});
  await new Promise<void>((resolve) => stream.once('metadata', () => resolve()));

  const closed = await client.call('Disconnect', { peer_id: b.peerId });
  assert.equal(closed.peer_id, b.peerId);
  const seen = await until(
    async () => events,
    (list) => list.some((e) => e.status_change?.to === 'PEER_STATUS_COLD'),
    10_000,
    'a cooling → cold event for B',
  );
  stream.cancel();
  const mine = seen.filter((e) => e.status_change?.peer_id === b.peerId);
  assert.deepEqual(
    mine.map((e) => e.status_change?.to),
    ['PEER_STATUS_COOLING', 'PEER_STATUS_COLD'],
  );
  assert.match(mine[0]?.status_change?.from ?? '', /^PEER_STATUS_(WARM|HOT)$/);
  assert.equal(mine[0]?.status_change?.address, b.p2p);
  assert.deepEqual(
    mine.map((e) => e.sequence),
    [1, 2],
    'numbered from 1 on this stream',
  );
  const peers = await client.call('ListPeers', {
    statuses: ['PEER_STATUS_WARM', 'PEER_STATUS_HOT'],
  });
  assert.deepEqual(peers.peers, []);
});

test('Maintain returns the summary of a full cycle even when the node is inside its band', async () => {
  const [a, b] = await started(
    startAdminNode('127.0.7.5', ['--connections=1']),
    startAdminNode('127.0.7.6', ['--connections=1']),
  );
  const client = a.client();
  await client.call('Connect', { address: b.p2p }, { timeoutMs: 20_000 });
  const before = Date.now();
  const { cycle } = await client.call('Maintain', {}, { timeoutMs: 10_000 });
  assert.equal(cycle?.motive, 'CYCLE_MOTIVE_MAINTAIN_REQUEST');
  assert.equal(cycle?.before, 1);
  assert.equal(cycle?.after, 1);
  assert.equal(cycle?.dialed ?? 0, 0);
  assert.equal(cycle?.closed ?? 0, 0);
  assert.ok(Date.now() - before < 5_000);
  const statusNow = await client.call('GetStatus', {});
  assert.equal(statusNow.last_cycle?.motive, 'CYCLE_MOTIVE_MAINTAIN_REQUEST');
});

test('Ban closes the live connection it covers and is in ListPoints; Unban lifts it; SetTargets changes the hot target', async () => {
  const [a, b] = await started(
    startAdminNode('127.0.7.7', ['--connections=2']),
    startAdminNode('127.0.7.8', ['--connections=2']),
  );
  const client = a.client();
  await client.call('Connect', { address: b.p2p }, { timeoutMs: 20_000 });
  const banned = await client.call('Ban', {
    target: { peer_id: b.peerId },
    duration: { seconds: 3600 },
  });
  assert.equal(banned.closed_connections, 1);
  assert.equal(banned.ban?.target?.peer_id, b.peerId);
  assert.ok((banned.ban?.until?.seconds ?? 0) > Date.now() / 1000 + 3500);
  const points = await client.call('ListPoints', { states: ['POINT_STATE_DISCONNECTED'] });
  const point = points.points?.find((p) => p.address === b.p2p);
  assert.equal(point?.blocked?.reason, 'BLOCK_REASON_BANNED');
  assert.equal(point?.blocked?.by, 'BLOCKED_BY_PEER_ID');
  await expectCode(client.call('Connect', { address: b.p2p }), status.FAILED_PRECONDITION);
  await client.call('Unban', { target: { peer_id: b.peerId } });
  await expectCode(client.call('Unban', { target: { peer_id: b.peerId } }), status.NOT_FOUND);

  const set = await client.call('SetTargets', {
    hot_target: 1,
    max_known_points: { high: 50, low: 40 },
  });
  assert.deepEqual(set.targets, {
    hot_target: 1,
    max_known_points: { high: 50, low: 40 },
    max_known_peer_ids: { high: 16, low: 12 },
  });
  const s = await client.call('GetStatus', {});
  assert.equal(s.targets?.hot_target, 1);
});

test('ListPoints pages: page_size and page_token walk every point once, in address order', async () => {
  const bootstrap = Array.from({ length: 7 }, (_, i) => `127.0.7.${200 + i}:9`).join(',');
  const [a] = await started(
    startAdminNode('127.0.7.9', ['--connections=2', `--bootstrap=${bootstrap}`]),
  );
  const client = a.client();
  const seen: string[] = [];
  let token = '';
  let pages = 0;
  do {
    const page = await client.call('ListPoints', { page_size: 3, page_token: token });
    assert.ok((page.points ?? []).length <= 3);
    assert.equal(page.total_size, 7);
    seen.push(...(page.points ?? []).map((p) => p.address ?? ''));
    token = page.next_page_token ?? '';
    pages++;
  } while (token !== '');
  assert.equal(pages, 3);
  assert.deepEqual(seen, [...seen].sort());
  assert.equal(new Set(seen).size, 7);
});

test('Publish hands a message to gossip and returns its SHA-256 id; the same payload again is not fresh', async () => {
  const [a] = await started(startAdminNode('127.0.7.10', ['--connections=1']));
  const client = a.client();
  const payload = Buffer.from('hello, mesh');
  const first = await client.call('Publish', { payload });
  const { createHash } = await import('node:crypto');
  assert.equal(
    Buffer.from(first.id ?? []).toString('hex'),
    createHash('sha256').update(payload).digest('hex'),
  );
  assert.equal(first.fresh, true);
  const again = await client.call('Publish', { payload });
  assert.equal(again.fresh ?? false, false);
});

test('Shutdown replies, health turns NOT_SERVING, peers.json is complete and the process exits 0', async () => {
  const [s, b] = await started(
    startAdminNode('127.0.7.11', ['--connections=2']),
    startAdminNode('127.0.7.12', ['--connections=2']),
  );
  const client = s.client();
  await client.call('Connect', { address: `${b.p2p}#${b.peerId}` }, { timeoutMs: 20_000 });
  await client.call('Ban', { target: { ip: '192.0.2.7' } });
  const trustedPeer = `mk${'b'.repeat(51)}q`;
  await client.call('Trust', { target: { peer_id: trustedPeer } });

  const Health = makeGenericClientConstructor(healthService, 'Health');
  const health = new Health(s.admin, credentials.createInsecure()) as unknown as {
    watch(req: { service: string }, md: Metadata): NodeJS.EventEmitter;
    close(): void;
  };
  const statuses: string[] = [];
  const watch = health.watch({ service: '' }, new Metadata());
  watch.on('data', (r: { status: string }) => statuses.push(r.status));
  watch.on('error', () => {});
  await until(
    async () => statuses,
    (l) => l.includes('SERVING'),
    5_000,
    'health SERVING',
  );

  assert.deepEqual(await client.call('Shutdown', {}), {});
  assert.equal(await s.exited, 0);
  health.close();
  assert.ok(statuses.includes('NOT_SERVING'), `health said ${statuses.join(', ')}`);
  assert.ok(
    s.logs.some((l) => l.event === 'admin_call' && l.method === 'Shutdown' && l.code === 'OK'),
  );

  const file = JSON.parse(readFileSync(join(s.dataDir, 'peers.json'), 'utf8')) as {
    schema: string;
    version: number;
    points: Array<{
      point: string;
      lastSuccessAt?: number;
      lastDisconnectAt?: number;
      lastPeerId?: string;
    }>;
    peers: Array<{ peerId: string }>;
    bans: Array<{ kind: string; value: string }>;
    trusted: { peerIds: string[] };
  };
  assert.equal(file.schema, 'meshkeeper.pool');
  assert.equal(file.version, 1);
  const point = file.points.find((p) => p.point === b.p2p);
  assert.ok(point?.lastSuccessAt !== undefined, 'the connection is remembered');
  assert.ok(point?.lastDisconnectAt !== undefined, 'and its end at shutdown');
  assert.equal(point?.lastPeerId, b.peerId);
  assert.ok(file.peers.some((p) => p.peerId === b.peerId));
  assert.deepEqual(
    file.bans.map((x) => [x.kind, x.value]),
    [['ip', '192.0.2.7']],
  );
  assert.deepEqual(file.trusted.peerIds, [trustedPeer]);
});
