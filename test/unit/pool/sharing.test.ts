import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maxAlternatives, maxSharedPoints, sharingSalt } from '../../../src/pool/index.ts';
import { key, makePool, minute, peerId, pt } from './helpers.ts';

type Fixture = ReturnType<typeof makePool>;

/** Connects point n to peer n (with its announcement) and, unless `stay`, disconnects it. */
function connect(
  f: Fixture,
  n: number,
  opts: { privateNode?: boolean; peerSharing?: boolean; stay?: boolean } = {},
): void {
  f.pool.addPoint(pt(n), 'bootstrap');
  f.pool.dialStarted(pt(n));
  f.pool.connected(pt(n), peerId(n), {
    privateNode: opts.privateNode ?? false,
    peerSharing: opts.peerSharing ?? true,
  });
  if (opts.stay !== true) f.pool.disconnected(pt(n));
}

const all = { amount: 100, salt: 's' };

test('shares only points we have been connected to', () => {
  const f = makePool();
  connect(f, 1);
  f.pool.addPoint(pt(2), 'peer_sharing');
  f.pool.addPoint(pt(3), 'bootstrap');
  f.pool.dialStarted(pt(3));
  f.pool.dialFailed(pt(3), 'connect_timeout');
  assert.deepEqual(f.pool.shareablePoints(all), [key(1)]);
});

test('never shares a private peer', () => {
  const f = makePool();
  connect(f, 1);
  connect(f, 2, { privateNode: true });
  assert.deepEqual(f.pool.shareablePoints(all), [key(1)]);
});

test('never shares a peer that asked not to be shared', () => {
  const f = makePool();
  connect(f, 1);
  connect(f, 2, { peerSharing: false });
  assert.deepEqual(f.pool.shareablePoints(all), [key(1)]);
});

test("follows the peer's latest announcement, made at another point", () => {
  const f = makePool();
  connect(f, 1);
  // The same peer comes back from another address and now says it is private.
  f.pool.addPoint(pt(2), 'bootstrap');
  f.pool.inboundAccepted(pt(2));
  f.pool.connected(pt(2), peerId(1), { privateNode: true, peerSharing: true });
  assert.deepEqual(f.pool.shareablePoints(all), []);
});

test('never shares our trusted points when we are private', () => {
  const priv = makePool({ privateMode: true });
  priv.pool.trustPoint(pt(1));
  connect(priv, 1);
  connect(priv, 2);
  assert.deepEqual(priv.pool.shareablePoints(all), [key(2)]);

  const pub = makePool();
  pub.pool.trustPoint(pt(1));
  connect(pub, 1);
  assert.deepEqual(pub.pool.shareablePoints(all), [key(1)], 'a public node may share them');
});

test('never shares the requester, by point or by peer id', () => {
  const f = makePool();
  for (const n of [1, 2, 3]) connect(f, n);
  assert.deepEqual(f.pool.shareablePoints({ ...all, exclude: { points: [key(1)] } }).sort(), [
    key(2),
    key(3),
  ]);
  assert.deepEqual(f.pool.shareablePoints({ ...all, exclude: { peerIds: [peerId(2)] } }).sort(), [
    key(1),
    key(3),
  ]);
});

test('never shares a banned or greylisted point, nor our own address', () => {
  const f = makePool();
  for (const n of [1, 2, 3, 4]) connect(f, n);
  f.pool.ban({ kind: 'point', point: key(1) });
  f.pool.greylistIp(pt(2).host, 'test');
  f.pool.greylistPeer(peerId(3), 'test');
  connect(f, 5, { stay: true });
  f.pool.addOwnAddress(pt(5)); // in use, so still known, but ours
  assert.deepEqual(f.pool.shareablePoints(all), [key(4)]);
});

test('at most min(amount, 30) points', () => {
  const f = makePool();
  for (let n = 0; n < 60; n++) connect(f, n);
  assert.equal(f.pool.shareablePoints({ amount: 100, salt: 's' }).length, maxSharedPoints);
  assert.equal(f.pool.shareablePoints({ amount: 31, salt: 's' }).length, 30);
  assert.equal(f.pool.shareablePoints({ amount: 7, salt: 's' }).length, 7);
  assert.equal(f.pool.shareablePoints({ amount: 0, salt: 's' }).length, 0);
  assert.equal(f.pool.shareablePoints({ amount: -5, salt: 's' }).length, 0);
  assert.equal(f.pool.shareablePoints({ amount: Number.NaN, salt: 's' }).length, 0);
});

test('the salt fixes the pick: same salt same answer, a new period a different one', () => {
  const f = makePool();
  for (let n = 0; n < 60; n++) connect(f, n);
  const t = f.clock.now();
  const salt = sharingSalt('node-secret', t);
  assert.equal(sharingSalt('node-secret', t + 1), salt, 'stable within the period');
  const later = sharingSalt('node-secret', t + 15 * minute);
  assert.notEqual(later, salt);
  const a = f.pool.shareablePoints({ amount: 10, salt });
  assert.deepEqual(f.pool.shareablePoints({ amount: 10, salt }), a);
  assert.notDeepEqual(f.pool.shareablePoints({ amount: 10, salt: later }), a);
  assert.notDeepEqual(
    f.pool.shareablePoints({ amount: 10, salt: sharingSalt('other-node', t) }),
    a,
  );
});

test('alternatives: at most 50, same publicity rules, connected ones first', () => {
  const f = makePool();
  for (let n = 0; n < 80; n++) connect(f, n);
  connect(f, 80, { stay: true });
  connect(f, 81, { privateNode: true, stay: true });
  const alts = f.pool.alternatives();
  assert.equal(alts.length, maxAlternatives);
  assert.equal(alts[0], key(80));
  assert.ok(!alts.includes(key(81)));
  assert.equal(f.pool.alternatives({ max: 500 }).length, 50);
  assert.equal(f.pool.alternatives({ max: 3 }).length, 3);
  assert.ok(!f.pool.alternatives({ exclude: { peerIds: [peerId(80)] } }).includes(key(80)));
});
