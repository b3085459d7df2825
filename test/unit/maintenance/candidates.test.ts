import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type ExclusionReason,
  type Exclusions,
  exclusionOf,
  exclusionsFor,
  nextDialAt,
  orderCandidates,
  selectCandidates,
} from '../../../src/maintenance/plan.ts';
import type { PointView } from '../../../src/pool/index.ts';
import { seededRng } from '../../../src/rng.ts';
import { makePool, pt } from '../pool/helpers.ts';
import { conn, failed, key, minute, now, point, snapshot, succeeded } from './helpers.ts';

const open: Exclusions = { privateMode: false };

/** Order rules: the points given (in this input order) come out in `expected` order. */
const orderCases: { name: string; points: PointView[]; expected: number[] }[] = [
  {
    name: 'trusted first, even a failed one ahead of a fresh success',
    points: [succeeded(1, minute), failed(2, minute, { trusted: true })],
    expected: [2, 1],
  },
  {
    name: 'last succeeded, then never tried, then failed',
    points: [failed(1, minute), point(2), succeeded(3, 10 * minute)],
    expected: [3, 2, 1],
  },
  {
    name: 'succeeded: most recent success first',
    points: [succeeded(1, 30 * minute), succeeded(2, minute), succeeded(3, 10 * minute)],
    expected: [2, 3, 1],
  },
  {
    name: 'failed: oldest failure first (Octez)',
    points: [failed(1, minute), failed(2, 60 * minute), failed(3, 10 * minute)],
    expected: [2, 3, 1],
  },
  {
    name: 'a success followed by a later failure counts as failed',
    points: [point(1, { lastSuccessAt: now - 10 * minute, lastFailureAt: now - minute }), point(2)],
    expected: [2, 1],
  },
  {
    name: 'closed by churn: after never tried, before failed, oldest churn first',
    points: [
      failed(1, minute),
      succeeded(2, minute, { churnedAt: now - minute }),
      point(3),
      succeeded(4, 60 * minute, { churnedAt: now - 30 * minute }),
      succeeded(5, 60 * minute),
    ],
    expected: [5, 3, 4, 2, 1],
  },
  {
    name: 'a success after the churn counts as a success again',
    points: [point(1), succeeded(2, minute, { churnedAt: now - 10 * minute })],
    expected: [2, 1],
  },
  {
    name: 'trusted points keep the outcome order among themselves',
    points: [
      failed(1, minute, { trusted: true }),
      point(2, { trusted: true }),
      succeeded(3, minute, { trusted: true }),
      succeeded(4, 0),
    ],
    expected: [3, 2, 1, 4],
  },
];

for (const c of orderCases) {
  test(`candidate order: ${c.name}`, () => {
    for (const seed of [1, 2, 3]) {
      const got = orderCandidates(snapshot(c.points), open, now, seededRng(seed)).map((x) => x.key);
      assert.deepEqual(got, c.expected.map(key), `seed ${seed}`);
    }
  });
}

test('candidate reasons say which rule placed each point', () => {
  const got = orderCandidates(
    snapshot([
      failed(1, minute),
      point(2),
      succeeded(3, minute),
      point(4, { trusted: true }),
      succeeded(5, minute, { churnedAt: now }),
    ]),
    open,
    now,
    seededRng(1),
  ).map((c) => [c.key, c.reason]);
  assert.deepEqual(got, [
    [key(4), 'trusted'],
    [key(3), 'last_succeeded'],
    [key(2), 'never_tried'],
    [key(5), 'churned'],
    [key(1), 'oldest_failure'],
  ]);
});

test('tie-break: equal keys in a random order, the same for the same seed', () => {
  const pts = Array.from({ length: 12 }, (_, i) => point(i));
  const order = (seed: number) =>
    orderCandidates(snapshot(pts), open, now, seededRng(seed)).map((c) => c.key);
  assert.deepEqual(order(7), order(7));
  assert.deepEqual([...order(7)].sort(), pts.map((p) => p.key).sort());
  const distinct = new Set([1, 2, 3, 4, 5, 6].map((s) => order(s).join(',')));
  assert.ok(distinct.size > 1, 'different seeds give different tie-breaks');
  assert.notDeepEqual(
    order(1),
    pts.map((p) => p.key),
    'not simply the input order',
  );
});

test('tie-break: a limited pick from a large group of equal keys is uniform (sampled)', () => {
  // 40 never-tried points, 3 wanted: more than 4× as many, so the group is sampled.
  const pts = Array.from({ length: 40 }, (_, i) => point(i));
  const snap = snapshot(pts);
  const firsts = new Map<string, number>();
  const picks = new Map<string, number>();
  const runs = 4000;
  for (let seed = 0; seed < runs; seed++) {
    const { candidates } = selectCandidates(snap, open, now, seededRng(seed), { limit: 3 });
    assert.equal(new Set(candidates.map((c) => c.key)).size, 3);
    const [first] = candidates;
    firsts.set(first?.key ?? '', (firsts.get(first?.key ?? '') ?? 0) + 1);
    for (const c of candidates) picks.set(c.key, (picks.get(c.key) ?? 0) + 1);
  }
  // Expected 100 firsts and 300 picks per point; ±50 % is > 5 standard deviations.
  assert.equal(firsts.size, 40);
  for (const n of firsts.values()) assert.ok(n > 50 && n < 150, `first ${n} times`);
  for (const n of picks.values()) assert.ok(n > 150 && n < 450, `picked ${n} times`);
});

test('a sampled group that is mostly excluded still yields every dialable point', () => {
  const pts = Array.from({ length: 200 }, (_, i) =>
    point(i, i % 50 === 0 ? {} : { nextDialAt: now + minute }),
  );
  for (let seed = 0; seed < 20; seed++) {
    const { candidates, excluded } = selectCandidates(snapshot(pts), open, now, seededRng(seed), {
      limit: 10,
    });
    assert.deepEqual(
      candidates.map((c) => c.key).sort(),
      [key(0), key(50), key(100), key(150)].sort(),
    );
    assert.equal(excluded.backoff, 196, 'short of the limit: every point was looked at');
  }
});

test('a limited plan reads about `limit` ranked points, not the whole pool', () => {
  const pts = [
    ...Array.from({ length: 5000 }, (_, i) => succeeded(i, (i + 1) * minute)),
    ...Array.from({ length: 5000 }, (_, i) => point(5000 + i)),
  ];
  const snap = snapshot(pts);
  let reads = 0;
  const counted = new Proxy(snap.pointsByDialRank, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && /^\d+$/.test(prop)) reads++;
      return Reflect.get(target, prop, receiver);
    },
  });
  const { candidates } = selectCandidates(
    { ...snap, pointsByDialRank: counted },
    open,
    now,
    seededRng(1),
    { limit: 100 },
  );
  assert.deepEqual(
    candidates.map((c) => c.key),
    pts.slice(0, 100).map((p) => p.key),
    'most recent successes first',
  );
  assert.ok(reads < 100 * 6, `${reads} reads`);
});

test('tie-break only among equal keys: the rules still hold under any seed', () => {
  const pts = [
    ...Array.from({ length: 4 }, (_, i) => failed(i, minute)),
    ...Array.from({ length: 4 }, (_, i) => point(10 + i)),
    ...Array.from({ length: 4 }, (_, i) => succeeded(20 + i, minute)),
  ];
  for (let seed = 0; seed < 20; seed++) {
    const reasons = orderCandidates(snapshot(pts), open, now, seededRng(seed)).map((c) => c.reason);
    assert.deepEqual(reasons, [
      ...Array(4).fill('last_succeeded'),
      ...Array(4).fill('never_tried'),
      ...Array(4).fill('oldest_failure'),
    ]);
  }
});

/** Exclusion rules: one point, the extra exclusions, and the reason it is left out. */
const exclusionCases: {
  name: string;
  point: PointView;
  exclusions?: Partial<Exclusions>;
  ownAddresses?: string[];
  reason: ExclusionReason | undefined;
}[] = [
  { name: 'a fresh point is a candidate', point: point(1), reason: undefined },
  {
    name: 'in backoff (now < nextDialAt)',
    point: failed(1, 0, { nextDialAt: now + 1 }),
    reason: 'backoff',
  },
  {
    name: 'backoff just over (nextDialAt = now)',
    point: failed(1, 0, { nextDialAt: now }),
    reason: undefined,
  },
  {
    name: 'a trusted point waits for its own backoff too',
    point: failed(1, 0, { nextDialAt: now + 1, trusted: true }),
    reason: 'backoff',
  },
  {
    name: 'banned',
    point: point(1, { blocked: { reason: 'banned', by: 'point' } }),
    reason: 'banned',
  },
  {
    name: 'greylisted',
    point: point(1, { blocked: { reason: 'greylisted', by: 'ip', untilMs: now + minute } }),
    reason: 'greylisted',
  },
  { name: 'our own address', point: point(1), ownAddresses: [key(1)], reason: 'own_address' },
  {
    name: 'failed during this cycle',
    point: point(1),
    exclusions: { failedThisCycle: new Set([key(1)]) },
    reason: 'failed_this_cycle',
  },
  {
    name: 'private mode: not trusted',
    point: point(1),
    exclusions: { privateMode: true },
    reason: 'not_trusted',
  },
  {
    name: 'private mode: trusted is a candidate',
    point: point(1, { trusted: true }),
    exclusions: { privateMode: true },
    reason: undefined,
  },
  {
    name: 'being dialed (pool: requested)',
    point: point(1, { state: 'requested' }),
    reason: 'in_use',
  },
  {
    name: 'inbound handshake (accepted)',
    point: point(1, { state: 'accepted' }),
    reason: 'in_use',
  },
  { name: 'connected (running)', point: point(1, { state: 'running' }), reason: 'in_use' },
  {
    name: 'connected (a live connection at this point)',
    point: point(1),
    exclusions: { connectedPoints: new Set([key(1)]) },
    reason: 'in_use',
  },
  {
    name: 'being dialed (worker set)',
    point: point(1),
    exclusions: { dialing: new Set([key(1)]) },
    reason: 'dialing',
  },
  {
    name: 'its pinned peer is connected elsewhere',
    point: point(1, { expectedPeerId: 'mkpeer' }),
    exclusions: { connectedPeers: new Set(['mkpeer']) },
    reason: 'peer_connected',
  },
  {
    name: 'the peer last seen there is connected elsewhere',
    point: point(1, { lastPeerId: 'mkpeer' }),
    exclusions: { connectedPeers: new Set(['mkpeer']) },
    reason: 'peer_connected',
  },
  {
    name: 'a ban beats trust',
    point: point(1, { trusted: true, blocked: { reason: 'banned', by: 'peer_id' } }),
    reason: 'banned',
  },
];

for (const c of exclusionCases) {
  test(`exclusion: ${c.name}`, () => {
    const exclusions = { ...open, ...c.exclusions };
    const own = new Set(c.ownAddresses ?? []);
    assert.equal(exclusionOf(c.point, own, exclusions, now), c.reason);
    const selection = selectCandidates(
      snapshot([c.point], { ownAddresses: c.ownAddresses ?? [] }),
      exclusions,
      now,
      seededRng(1),
    );
    assert.equal(selection.candidates.length, c.reason === undefined ? 1 : 0);
    if (c.reason !== undefined) assert.equal(selection.excluded[c.reason], 1);
  });
}

test('exclusions are counted by reason, candidates keep their order', () => {
  const pts = [
    point(1),
    point(2, { state: 'running' }),
    point(3, { nextDialAt: now + minute }),
    point(4, { nextDialAt: now + minute }),
    point(5, { blocked: { reason: 'banned', by: 'ip' } }),
  ];
  const { candidates, excluded } = selectCandidates(snapshot(pts), open, now, seededRng(1));
  assert.deepEqual(
    candidates.map((c) => c.key),
    [key(1)],
  );
  assert.equal(excluded.backoff, 2);
  assert.equal(excluded.in_use, 1);
  assert.equal(excluded.banned, 1);
  assert.equal(excluded.greylisted, 0);
});

test('a pinned point is dialed with its peer id', () => {
  const [c] = orderCandidates(
    snapshot([point(1, { expectedPeerId: 'mkpinned' })]),
    open,
    now,
    seededRng(1),
  );
  assert.deepEqual(c?.spec, { host: '10.0.0.2', port: 9740, peerId: 'mkpinned' });
});

test('with a real pool: backoff, bans, own address and trust as the pool reports them', async () => {
  const { pool, clock } = makePool();
  for (let i = 0; i < 5; i++) pool.addPoint(pt(i), 'bootstrap');
  pool.trustPoint(pt(5));
  pool.dialStarted(pt(0));
  pool.dialFailed(pt(0), 'connect_timeout'); // → backoff
  pool.ban({ kind: 'point', point: key(1) });
  pool.addOwnAddress(pt(2)); // forgotten and never dialed
  pool.dialStarted(pt(3)); // in flight
  const got = orderCandidates(pool.snapshot(), open, clock.now(), seededRng(1)).map((c) => [
    c.key,
    c.reason,
  ]);
  assert.deepEqual(got, [
    [key(5), 'trusted'],
    [key(4), 'never_tried'],
  ]);
  await clock.advance(10 * minute);
  const later = orderCandidates(pool.snapshot(), open, clock.now(), seededRng(1)).map((c) => c.key);
  assert.deepEqual(later, [key(5), key(4), key(0)], 'the failed point is back after its backoff');
});

test('nextDialAt: the earliest backoff end of a trusted point that only waits', () => {
  const snap = snapshot([
    failed(1, 0, { trusted: true, nextDialAt: now + 5 * minute }),
    failed(2, 0, { trusted: true, nextDialAt: now + 2 * minute }),
    failed(3, 0, { nextDialAt: now + minute }), // not trusted
    failed(4, 0, { trusted: true, nextDialAt: now + minute, state: 'running' }), // connected
    failed(5, 0, {
      trusted: true,
      nextDialAt: now + minute,
      blocked: { reason: 'banned', by: 'point' },
    }),
    point(6, { trusted: true, lastPeerId: 'mkelsewhere', nextDialAt: now + minute }),
  ]);
  const exclusions = exclusionsFor({
    connections: [conn('mkelsewhere')],
    dialing: new Set(),
    failedThisCycle: new Set(),
    privateMode: false,
  });
  assert.equal(nextDialAt(snap, exclusions, now, 'trusted'), now + 2 * minute);
  assert.equal(
    nextDialAt(snapshot([point(1, { trusted: true })]), open, now, 'trusted'),
    undefined,
  );
});
