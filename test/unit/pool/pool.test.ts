import assert from 'node:assert/strict';
import { test } from 'node:test';
import { misbehaviourReasons, type PoolEvent } from '../../../src/pool/index.ts';
import {
  constantRng,
  counterValue,
  day,
  key,
  makePool,
  minute,
  peerId,
  pointGauges,
  pt,
  truth,
} from './helpers.ts';

test('addPoint counts a new point by source, a known one only gains the source', async () => {
  const { pool, metrics } = makePool();
  assert.deepEqual(pool.addPoint(pt(1), 'bootstrap'), { added: true, point: key(1) });
  assert.deepEqual(pool.addPoint(pt(1), 'peer_sharing'), {
    added: false,
    point: key(1),
    reason: 'known',
  });
  assert.equal(await counterValue(metrics.pointsDiscovered, { source: 'bootstrap' }), 1);
  assert.equal(await counterValue(metrics.pointsDiscovered, { source: 'peer_sharing' }), 0);
  assert.deepEqual(pool.point(pt(1))?.sources, ['bootstrap', 'peer_sharing']);
});

test('addPoint refuses an invalid address', () => {
  const { pool } = makePool();
  assert.deepEqual(pool.addPoint({ host: 'not a host', port: 1 }, 'peer_sharing'), {
    added: false,
    reason: 'invalid_address',
  });
  assert.equal(pool.addPoint({ host: '10.0.0.1', port: 0 }, 'peer_sharing').added, false);
});

test('two spellings of one address are one point', () => {
  const { pool } = makePool();
  pool.addPoint({ host: '2001:DB8::1', port: 9740 }, 'bootstrap');
  pool.addPoint({ host: '2001:db8:0:0::1', port: 9740 }, 'peer_sharing');
  pool.addPoint({ host: 'Node-1.Example', port: 9740 }, 'bootstrap');
  pool.addPoint({ host: 'node-1.example', port: 9740 }, 'bootstrap');
  assert.deepEqual(
    pool.snapshot().points.map((p) => p.key),
    ['[2001:db8::1]:9740', 'node-1.example:9740'],
  );
});

test('our own address is refused, and forgotten when already known', () => {
  const { pool } = makePool();
  pool.addPoint(pt(1), 'peer_sharing');
  pool.addOwnAddress(pt(1));
  assert.equal(pool.point(pt(1)), undefined);
  assert.deepEqual(pool.addPoint(pt(1), 'peer_sharing'), {
    added: false,
    point: key(1),
    reason: 'own_address',
  });
  assert.ok(pool.isOwnAddress(key(1)));
  assert.deepEqual(pool.snapshot().ownAddresses, [key(1)]);
});

test('a peer id pin is kept from the operator only', () => {
  const { pool } = makePool();
  pool.addPoint({ ...pt(1), peerId: peerId(1) }, 'bootstrap');
  pool.addPoint({ ...pt(2), peerId: peerId(2) }, 'peer_sharing');
  pool.addPoint({ ...pt(1), peerId: peerId(9) }, 'refusal_alternatives');
  assert.equal(pool.point(pt(1))?.expectedPeerId, peerId(1));
  assert.equal(pool.point(pt(2))?.expectedPeerId, undefined);
});

test('gauges equal the truth after each transition', async () => {
  const { pool, metrics } = makePool();
  const check = async (label: string) =>
    assert.deepEqual(await pointGauges(metrics), truth(pool), label);
  await check('empty');
  pool.addPoint(pt(1), 'bootstrap');
  pool.addPoint(pt(2), 'bootstrap');
  await check('added');
  pool.dialStarted(pt(1));
  await check('requested');
  pool.inboundAccepted(pt(3));
  await check('accepted (new point)');
  pool.connected(pt(1), peerId(1));
  await check('running');
  pool.connected(pt(3), peerId(3));
  await check('running inbound');
  pool.dialStarted(pt(2));
  pool.dialFailed(pt(2), 'connect_timeout');
  await check('failed');
  pool.disconnected(pt(1));
  await check('ended');
  pool.forget(pt(2));
  await check('forgotten');
  assert.deepEqual(await pointGauges(metrics), {
    requested: 0,
    accepted: 0,
    running: 1,
    disconnected: 1,
  });
});

test('transitions that the state does not allow are refused as values', () => {
  const { pool } = makePool();
  pool.addPoint(pt(1), 'bootstrap');
  assert.deepEqual(pool.disconnected(pt(1)), {
    ok: false,
    error: { code: 'invalid_transition', point: key(1), from: 'disconnected', to: 'disconnected' },
  });
  pool.dialStarted(pt(1));
  assert.equal(pool.dialStarted(pt(1)).ok, false);
  pool.connected(pt(1), peerId(1));
  assert.equal(pool.dialFailed(pt(1), 'connect_timeout').ok, false);
  assert.deepEqual(pool.dialStarted(pt(9)), {
    ok: false,
    error: { code: 'unknown_point', point: key(9) },
  });
});

test('backoff: consecutive failures grow the wait, success resets it', async () => {
  const { pool, clock } = makePool({ rng: constantRng(0.5) });
  pool.addPoint(pt(1), 'bootstrap');
  const waits: number[] = [];
  for (let i = 0; i < 4; i++) {
    pool.dialStarted(pt(1));
    pool.dialFailed(pt(1), 'connect_refused');
    waits.push((pool.nextDialAt(pt(1)) ?? 0) - clock.now());
    await clock.advance(waits.at(-1) ?? 0);
  }
  assert.deepEqual(waits, [1000, 1200, 1440, 1728]);
  assert.equal(pool.point(pt(1))?.consecutiveFailures, 4);
  pool.dialStarted(pt(1));
  pool.connected(pt(1), peerId(1));
  assert.equal(pool.point(pt(1))?.consecutiveFailures, 0);
  pool.disconnected(pt(1));
  pool.dialStarted(pt(1));
  pool.dialFailed(pt(1), 'connect_refused');
  assert.equal((pool.nextDialAt(pt(1)) ?? 0) - clock.now(), 1000, 'back to the initial delay');
});

test('after a running connection ends the next dial waits 60 s', () => {
  const { pool, clock } = makePool();
  pool.addPoint(pt(1), 'bootstrap');
  pool.dialStarted(pt(1));
  pool.connected(pt(1), peerId(1));
  pool.disconnected(pt(1), 'keep_alive_timeout');
  assert.equal(pool.nextDialAt(pt(1)), clock.now() + minute);
  assert.equal(pool.point(pt(1))?.lastDisconnectAt, clock.now());
});

test('network_mismatch forgets the point instead of greylisting it', () => {
  const { pool } = makePool();
  const events: PoolEvent[] = [];
  pool.onChange((e) => events.push(e));
  pool.addPoint(pt(1), 'peer_sharing');
  pool.dialStarted(pt(1));
  assert.ok(pool.dialFailed(pt(1), 'network_mismatch').ok);
  assert.equal(pool.point(pt(1)), undefined);
  assert.equal(pool.isBlocked({ point: key(1) }), undefined);
  assert.ok(events.some((e) => e.type === 'point_removed' && e.cause === 'network_mismatch'));
});

test('network_mismatch keeps a trusted point', () => {
  const { pool } = makePool();
  pool.trustPoint(pt(1));
  pool.dialStarted(pt(1));
  pool.dialFailed(pt(1), 'network_mismatch');
  assert.equal(pool.point(pt(1))?.state, 'disconnected');
});

test('self_connection marks the point as our own', () => {
  const { pool } = makePool();
  pool.addPoint(pt(1), 'peer_sharing');
  pool.dialStarted(pt(1));
  pool.dialFailed(pt(1), 'self_connection');
  assert.equal(pool.point(pt(1)), undefined);
  assert.ok(pool.isOwnAddress(pt(1)));
});

for (const reason of misbehaviourReasons) {
  test(`misbehaviour ${reason} on a dial greylists the IP and the proven peer id`, () => {
    const { pool } = makePool();
    pool.addPoint(pt(1), 'peer_sharing');
    pool.dialStarted(pt(1));
    pool.dialFailed(pt(1), reason, { peerId: peerId(1) });
    assert.equal(pool.isBlocked({ ip: pt(1).host })?.reason, 'greylisted');
    assert.equal(pool.isBlocked({ peerId: peerId(1) })?.reason, 'greylisted');
    assert.equal(pool.point(pt(1))?.blocked?.reason, 'greylisted');
  });
}

test('misbehaviour on an established connection greylists the IP and the connected peer', () => {
  const { pool } = makePool();
  pool.addPoint(pt(1), 'peer_sharing');
  pool.inboundAccepted(pt(1));
  pool.connected(pt(1), peerId(1));
  pool.disconnected(pt(1), 'decode_error');
  assert.equal(pool.isBlocked({ peerId: peerId(1) })?.by, 'peer_id');
  assert.equal(pool.isBlocked({ ip: pt(1).host })?.by, 'ip');
});

test('ordinary failures greylist nothing', () => {
  const { pool } = makePool();
  pool.addPoint(pt(1), 'peer_sharing');
  for (const reason of ['connect_timeout', 'too_many_connections', 'no_common_version', 'banned']) {
    pool.dialStarted(pt(1));
    pool.dialFailed(pt(1), reason, { peerId: peerId(1) });
  }
  assert.equal(pool.isBlocked({ point: key(1), peerId: peerId(1) }), undefined);
});

test('trusted points and peers are never greylisted', () => {
  const { pool } = makePool();
  pool.trustPoint(pt(1));
  pool.trustPeer(peerId(1));
  pool.dialStarted(pt(1));
  pool.dialFailed(pt(1), 'protocol_violation', { peerId: peerId(1) });
  assert.equal(pool.isBlocked({ point: key(1), peerId: peerId(1) }), undefined);
  assert.equal(pool.greylistIp(pt(1).host, 'manual'), false);
  assert.equal(pool.point(pt(1))?.trusted, true);
});

test('a greylist entry expires after greylistTimeout', async () => {
  const { pool, clock } = makePool();
  pool.greylistIp('10.0.0.1', 'test');
  await clock.advance(day - 1);
  assert.equal(pool.isBlocked({ point: '10.0.0.1:9740' })?.reason, 'greylisted');
  await clock.advance(1);
  assert.equal(pool.isBlocked({ point: '10.0.0.1:9740' }), undefined);
});

test('forget: idle points go; in-use and trusted points stay', () => {
  const { pool } = makePool();
  pool.addPoint(pt(1), 'peer_sharing');
  pool.addPoint(pt(2), 'peer_sharing');
  pool.trustPoint(pt(3));
  pool.dialStarted(pt(2));
  assert.ok(pool.forget(pt(1)).ok);
  assert.deepEqual(pool.forget(pt(2)), { ok: false, error: { code: 'in_use', point: key(2) } });
  assert.deepEqual(pool.forget(pt(3)), { ok: false, error: { code: 'trusted', point: key(3) } });
  pool.untrustPoint(pt(3));
  assert.ok(pool.forget(pt(3)).ok);
});

test('inboundAccepted learns an unknown point as inbound', async () => {
  const { pool, metrics } = makePool();
  assert.ok(pool.inboundAccepted(pt(1)).ok);
  assert.equal(pool.point(pt(1))?.state, 'accepted');
  assert.equal(await counterValue(metrics.pointsDiscovered, { source: 'inbound' }), 1);
});

test('connected remembers the peer and what it announced', () => {
  const { pool } = makePool();
  pool.addPoint(pt(1), 'bootstrap');
  pool.dialStarted(pt(1));
  pool.connected(pt(1), peerId(1), { privateNode: true, peerSharing: false });
  const peer = pool.peer(peerId(1));
  assert.equal(peer?.connections, 1);
  assert.equal(peer?.privateNode, true);
  assert.equal(peer?.lastPoint, key(1));
  const point = pool.point(pt(1));
  assert.equal(point?.currentPeerId, peerId(1));
  assert.equal(point?.privateNode, true);
  assert.equal(point?.peerSharing, false);
  pool.disconnected(pt(1));
  assert.equal(pool.peer(peerId(1))?.connections, 0);
  assert.equal(pool.point(pt(1))?.lastPeerId, peerId(1));
});

test('ban reports the points in use that it covers', () => {
  const { pool } = makePool();
  pool.addPoint(pt(1), 'bootstrap');
  pool.addPoint(pt(2), 'bootstrap');
  pool.dialStarted(pt(1));
  pool.connected(pt(1), peerId(1));
  pool.dialStarted(pt(2));
  pool.connected(pt(2), peerId(2));
  const byPeer = pool.ban({ kind: 'peer', peerId: peerId(2) });
  assert.ok(byPeer.ok);
  assert.deepEqual(byPeer.affectedPoints, [key(2)]);
  const byIp = pool.ban({ kind: 'ip', ip: pt(1).host }, 3_600_000);
  assert.ok(byIp.ok);
  assert.deepEqual(byIp.affectedPoints, [key(1)]);
  assert.equal(pool.point(pt(1))?.blocked?.reason, 'banned');
  assert.ok(pool.unban({ kind: 'ip', ip: pt(1).host }));
  assert.equal(pool.point(pt(1))?.blocked, undefined);
});

test('a point is blocked by the ban of its pinned or last peer', () => {
  const { pool } = makePool();
  pool.addPoint({ ...pt(1), peerId: peerId(1) }, 'admin');
  pool.addPoint(pt(2), 'bootstrap');
  pool.dialStarted(pt(2));
  pool.connected(pt(2), peerId(2));
  pool.disconnected(pt(2));
  pool.ban({ kind: 'peer', peerId: peerId(1) });
  pool.ban({ kind: 'peer', peerId: peerId(2) });
  assert.deepEqual(pool.point(pt(1))?.blocked, { reason: 'banned', by: 'peer_id' });
  assert.deepEqual(pool.point(pt(2))?.blocked, { reason: 'banned', by: 'peer_id' });
});

test('the snapshot is immutable and does not change with the pool', () => {
  const { pool } = makePool();
  pool.addPoint(pt(1), 'bootstrap');
  pool.addPoint(pt(2), 'bootstrap');
  const snap = pool.snapshot();
  // Its lists are readonly by type, not frozen: V8 reads a frozen array ~5× slower.
  assert.ok(Object.isFrozen(snap) && Object.isFrozen(snap.points[0]));
  const lists = [snap.points, snap.pointsByDialRank, snap.pointsByNextDialAt];
  const before = lists.map((list) => [...list]);
  pool.dialStarted(pt(1));
  pool.forget(pt(2));
  pool.addPoint(pt(3), 'bootstrap');
  assert.deepEqual(
    lists.map((list) => [...list]),
    before,
    'a new snapshot gets new lists',
  );
  assert.equal(snap.points[0]?.state, 'disconnected');
  assert.deepEqual(snap.counts, { requested: 0, accepted: 0, running: 0, disconnected: 2 });
  assert.equal(pool.snapshot().points[0]?.state, 'requested');
  assert.deepEqual(
    pool.snapshot().points.map((p) => p.key),
    [key(1), key(3)],
  );
});

test('the snapshot carries what the planner needs', async () => {
  const { pool, clock } = makePool({ rng: constantRng(0.5) });
  pool.trustPoint(pt(1));
  pool.dialStarted(pt(1));
  pool.dialFailed(pt(1), 'connect_timeout');
  await clock.advance(5);
  const p = pool.snapshot().points[0];
  assert.ok(p);
  assert.equal(p.key, key(1));
  assert.equal(p.state, 'disconnected');
  assert.equal(p.trusted, true);
  assert.equal(p.consecutiveFailures, 1);
  assert.equal(p.lastFailureAt, clock.now() - 5);
  assert.equal(p.nextDialAt, clock.now() - 5 + 1000);
  assert.equal(p.lastSuccessAt, undefined);
  assert.equal(p.blocked, undefined);
});

test('events announce new points and peers, state changes and removals', () => {
  const { pool } = makePool({ config: { maxKnownPoints: { high: 2, low: 1 } } });
  const events: PoolEvent[] = [];
  const stop = pool.onChange((e) => events.push(e));
  pool.addPoint(pt(1), 'bootstrap');
  pool.dialStarted(pt(1));
  pool.connected(pt(1), peerId(1));
  pool.addPoint(pt(2), 'peer_sharing');
  pool.addPoint(pt(3), 'peer_sharing');
  assert.deepEqual(
    events.map((e) => e.type),
    [
      'point_added',
      'point_state',
      'point_state',
      'peer_added',
      'point_added',
      // pt(3) makes 3 > 2: the idle points go, newest first, down to 1; pt(3) itself was
      // never announced, so only pt(2)'s removal is.
      'point_removed',
    ],
  );
  stop();
  pool.addPoint(pt(4), 'peer_sharing');
  assert.equal(events.length, 6, 'unsubscribed');
});

test('a point evicted at once by GC is reported as not added', async () => {
  const { pool, metrics } = makePool({ config: { maxKnownPoints: { high: 1, low: 1 } } });
  pool.addPoint(pt(1), 'bootstrap');
  pool.dialStarted(pt(1));
  assert.deepEqual(pool.addPoint(pt(2), 'peer_sharing'), {
    added: false,
    point: key(2),
    reason: 'full',
  });
  assert.equal(await counterValue(metrics.pointsDiscovered, { source: 'peer_sharing' }), 0);
});

test('a throwing listener neither breaks the pool nor starves other listeners', async () => {
  const { pool } = makePool();
  let seen = 0;
  pool.onChange(() => {
    throw new Error('listener bug');
  });
  pool.onChange(() => seen++);
  const uncaught: unknown[] = [];
  const original = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  process.on('uncaughtException', (e) => uncaught.push(e));
  try {
    assert.ok(pool.addPoint(pt(1), 'bootstrap').added);
    await new Promise((r) => setImmediate(r));
  } finally {
    process.removeAllListeners('uncaughtException');
    for (const l of original) process.on('uncaughtException', l);
  }
  assert.equal(seen, 1);
  assert.equal(uncaught.length, 1);
  assert.equal(pool.pointCount, 1);
});

test('an inbound point is kept even when the pool is full of points in use', () => {
  const { pool } = makePool({ config: { maxKnownPoints: { high: 2, low: 1 } } });
  for (const n of [1, 2]) {
    pool.addPoint(pt(n), 'bootstrap');
    pool.dialStarted(pt(n));
  }
  assert.ok(pool.inboundAccepted(pt(3)).ok);
  assert.equal(pool.point(pt(3))?.state, 'accepted');
});

test('an inbound connection from our own address is refused', () => {
  const { pool } = makePool();
  pool.addOwnAddress(pt(1));
  assert.deepEqual(pool.inboundAccepted(pt(1)), {
    ok: false,
    error: { code: 'own_address', point: key(1) },
  });
  assert.equal(pool.pointCount, 0);
});

test('restore brings back trusted points even without their history', () => {
  const { pool } = makePool();
  pool.restore({
    points: [],
    peers: [],
    acl: { bans: [], ipGreylist: [], peerGreylist: [], trustedPoints: [key(1)], trustedPeers: [] },
  });
  assert.equal(pool.point(pt(1))?.trusted, true);
  assert.deepEqual(pool.point(pt(1))?.sources, ['trusted']);
});

test('nothing in a snapshot can be changed, not even a point source list', () => {
  const { pool } = makePool();
  pool.addPoint(pt(1), 'bootstrap');
  pool.addPoint(pt(1), 'admin');
  const sources = pool.snapshot().points[0]?.sources as unknown as string[];
  assert.throws(() => sources.push('inbound'));
  assert.deepEqual(pool.point(pt(1))?.sources, ['bootstrap', 'admin']);
});

test('churned: marks the point for the dial order only, no backoff and no greylist', async () => {
  const { pool, clock } = makePool();
  pool.addPoint(pt(1), 'bootstrap');
  pool.dialStarted(pt(1));
  pool.connected(pt(1), peerId(1));
  await clock.advance(minute);
  pool.disconnected(pt(1));
  const before = pool.point(pt(1));
  assert.deepEqual(pool.churned(pt(1)), { ok: true });
  const after = pool.point(pt(1));
  assert.equal(after?.churnedAt, clock.now());
  assert.equal(after?.nextDialAt, before?.nextDialAt);
  assert.equal(after?.consecutiveFailures, 0);
  assert.equal(after?.blocked, undefined);
  assert.equal(pool.churned(pt(2)).ok, false, 'an unknown point');
});
