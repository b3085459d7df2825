import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type PeerRecord,
  type PointRecord,
  peersToEvict,
  pointsToEvict,
} from '../../../src/pool/index.ts';
import { newPointRecord } from '../../../src/pool/point-state.ts';
import { key, makePool, peerId, pt } from './helpers.ts';

interface Spec {
  name: string;
  failedAt?: number;
  succeededAt?: number;
  addedAt?: number;
  state?: PointRecord['state'];
  trusted?: boolean;
}

function rec(s: Spec, i: number): PointRecord {
  const base = newPointRecord(s.name, '10.0.0.1', 9740 + i, 'bootstrap', s.addedAt ?? 0);
  return {
    ...base,
    state: s.state ?? 'disconnected',
    ...(s.failedAt === undefined ? {} : { lastFailureAt: s.failedAt }),
    ...(s.succeededAt === undefined ? {} : { lastSuccessAt: s.succeededAt }),
  };
}

const marks = { high: 3, low: 2 };

// Each case: the known points, and whom GC evicts (in eviction order) with high 3 → low 2.
const cases: { title: string; points: Spec[]; evicted: string[] }[] = [
  {
    title: 'oldest failure first',
    points: [
      { name: 'f40', failedAt: 40 },
      { name: 'f10', failedAt: 10 },
      { name: 'f30', failedAt: 30 },
      { name: 'f20', failedAt: 20 },
    ],
    evicted: ['f10', 'f20'],
  },
  {
    title: 'points that never failed go last',
    points: [
      { name: 'never', addedAt: 0 },
      { name: 'f30', failedAt: 30 },
      { name: 'ok5', succeededAt: 5 },
      { name: 'f10', failedAt: 10 },
    ],
    evicted: ['f10', 'f30'],
  },
  {
    title: 'among never-failed: never-connected before connected, newest added first',
    points: [
      { name: 'ok5', succeededAt: 5 },
      { name: 'new1', addedAt: 1 },
      { name: 'new2', addedAt: 2 },
      { name: 'ok1', succeededAt: 1 },
    ],
    evicted: ['new2', 'new1'],
  },
  {
    title: 'equal failure times: the most recently added goes first',
    points: [
      { name: 'a1', failedAt: 10, addedAt: 1 },
      { name: 'a3', failedAt: 10, addedAt: 3 },
      { name: 'a2', failedAt: 10, addedAt: 2 },
      { name: 'never' },
    ],
    evicted: ['a3', 'a2'],
  },
  {
    title: 'trusted and in-use points are never evicted',
    points: [
      { name: 'trusted', failedAt: 1, trusted: true },
      { name: 'running', failedAt: 2, state: 'running' },
      { name: 'requested', failedAt: 2, state: 'requested' },
      { name: 'accepted', failedAt: 2, state: 'accepted' },
      { name: 'f3', failedAt: 3 },
      { name: 'never' },
    ],
    evicted: ['f3', 'never'],
  },
  {
    title: 'when too few are evictable, all of them go and the rest stays',
    points: [
      { name: 'r1', state: 'running' },
      { name: 'r2', state: 'running' },
      { name: 'r3', state: 'requested' },
      { name: 'f1', failedAt: 1 },
    ],
    evicted: ['f1'],
  },
  {
    title: 'nothing at or below the high watermark',
    points: [
      { name: 'f1', failedAt: 1 },
      { name: 'f2', failedAt: 2 },
      { name: 'f3', failedAt: 3 },
    ],
    evicted: [],
  },
];

for (const c of cases) {
  test(`GC: ${c.title}`, () => {
    const trusted = new Set(c.points.filter((p) => p.trusted).map((p) => p.name));
    const evicted = pointsToEvict(c.points.map(rec), (k) => trusted.has(k), marks);
    assert.deepEqual(evicted, c.evicted);
  });
}

function peer(id: number, lastSeenAt: number, firstSeenAt: number, connections = 0): PeerRecord {
  return {
    peerId: peerId(id),
    firstSeenAt,
    lastSeenAt,
    connections,
    privateNode: false,
    peerSharing: true,
  };
}

test('peer GC: least recently seen first, ties newest first; connected and trusted kept', () => {
  const peers = [
    peer(1, 50, 1),
    peer(2, 10, 1),
    peer(3, 10, 5),
    peer(4, 1, 1, 1), // connected
    peer(5, 0, 0), // trusted
  ];
  const evicted = peersToEvict(peers, (id) => id === peerId(5), marks);
  assert.deepEqual(evicted, [peerId(3), peerId(2), peerId(1)]);
});

test('pool: above 400 known points it drops to 300', () => {
  const { pool } = makePool();
  for (let i = 0; i < 400; i++) assert.ok(pool.addPoint(pt(i), 'peer_sharing').added);
  assert.equal(pool.pointCount, 400);
  pool.addPoint(pt(400), 'peer_sharing');
  assert.equal(pool.pointCount, 300);
});

test('pool: GC keeps trusted and in-use points and evicts failed ones first', async () => {
  const { pool, clock } = makePool({ config: { maxKnownPoints: { high: 10, low: 5 } } });
  pool.trustPoint(pt(0));
  pool.addPoint(pt(1), 'bootstrap');
  pool.dialStarted(pt(1));
  pool.connected(pt(1), peerId(1));
  pool.addPoint(pt(2), 'bootstrap');
  pool.dialStarted(pt(2));
  for (let i = 3; i < 6; i++) {
    pool.addPoint(pt(i), 'bootstrap');
    pool.dialStarted(pt(i));
    await clock.advance(1000);
    pool.dialFailed(pt(i), 'connect_timeout');
  }
  for (let i = 6; i < 11; i++) pool.addPoint(pt(i), 'peer_sharing');
  const known = new Set(pool.snapshot().points.map((p) => p.key));
  assert.equal(known.size, 5);
  for (const k of [key(0), key(1), key(2)]) assert.ok(known.has(k), `${k} kept`);
  for (const k of [key(3), key(4), key(5)]) assert.ok(!known.has(k), `${k} (failed) evicted`);
});

test('pool: peer ids are capped the same way', () => {
  const { pool } = makePool({ config: { maxKnownPeerIds: { high: 4, low: 2 } } });
  for (let i = 0; i < 5; i++) {
    pool.addPoint(pt(i), 'bootstrap');
    pool.dialStarted(pt(i));
    pool.connected(pt(i), peerId(i));
  }
  assert.equal(pool.peerCount, 5, 'connected peers are never evicted');
  pool.disconnected(pt(0));
  assert.equal(pool.peerCount, 4, 'the one evictable peer went; 4 is not above the cap');
  for (let i = 1; i < 5; i++) pool.disconnected(pt(i));
  assert.equal(pool.peerCount, 4);
  pool.addPoint(pt(5), 'bootstrap');
  pool.dialStarted(pt(5));
  pool.connected(pt(5), peerId(5));
  assert.equal(pool.peerCount, 2, 'above 4 again: down to 2');
  assert.ok(pool.peer(peerId(5)) !== undefined, 'the connected peer stays');
});
