import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FakeClock } from '../../../src/clock.ts';
import {
  compareDialOrder,
  compareNextDialAt,
  type PointState,
  type PointView,
  Pool,
  pointStates,
} from '../../../src/pool/index.ts';
import { seededRng } from '../../../src/rng.ts';
import { createMetrics } from '../../../src/telemetry/metrics.ts';
import { peerId, poolConfig, pt } from '../../unit/pool/helpers.ts';

const pointsCap = { high: 8, low: 5 };
const peersCap = { high: 6, low: 4 };
const nPoints = 20;
const nPeers = 10;

type Op =
  | { op: 'add'; i: number; source: 'bootstrap' | 'peer_sharing' | 'admin' | 'inbound' }
  | { op: 'trust' | 'untrust' | 'dial' | 'inbound' | 'forget'; i: number }
  | { op: 'connected'; i: number; peer: number; privateNode: boolean }
  | { op: 'dialFailed'; i: number; reason: string; peer: number }
  | { op: 'disconnected'; i: number; reason: string | undefined }
  | { op: 'advance'; ms: number }
  | { op: 'banPeer' | 'greylistPeer'; peer: number }
  | { op: 'banIp'; i: number; durationMs: number | undefined };

const point = fc.nat({ max: nPoints - 1 });
const peer = fc.nat({ max: nPeers - 1 });
const reasons = [
  'connect_timeout',
  'too_many_connections',
  'network_mismatch',
  'self_connection',
  'decode_error',
  'protocol_violation',
  'unexpected_peer_id',
];

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('add' as const),
      i: point,
      source: fc.constantFrom('bootstrap', 'peer_sharing', 'admin', 'inbound'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constantFrom('trust' as const, 'untrust' as const, 'forget' as const),
      i: point,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constantFrom('dial' as const, 'inbound' as const), i: point }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('connected' as const),
      i: point,
      peer,
      privateNode: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('dialFailed' as const),
      i: point,
      reason: fc.constantFrom(...reasons),
      peer,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('disconnected' as const),
      i: point,
      reason: fc.option(fc.constantFrom(...reasons), { nil: undefined }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('advance' as const),
      ms: fc.integer({ min: 0, max: 2 * 86_400_000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constantFrom('banPeer' as const, 'greylistPeer' as const),
      peer,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('banIp' as const),
      i: point,
      durationMs: fc.option(fc.integer({ min: 1, max: 86_400_000 }), { nil: undefined }),
    }),
  },
);

async function apply(pool: Pool, clock: FakeClock, o: Op): Promise<void> {
  switch (o.op) {
    case 'add':
      pool.addPoint(pt(o.i), o.source);
      return;
    case 'trust':
      pool.trustPoint(pt(o.i));
      return;
    case 'untrust':
      pool.untrustPoint(pt(o.i));
      return;
    case 'forget':
      pool.forget(pt(o.i));
      return;
    case 'dial':
      pool.dialStarted(pt(o.i));
      return;
    case 'inbound':
      pool.inboundAccepted(pt(o.i));
      return;
    case 'connected':
      pool.connected(pt(o.i), peerId(o.peer), { privateNode: o.privateNode, peerSharing: true });
      return;
    case 'dialFailed':
      pool.dialFailed(pt(o.i), o.reason, { peerId: peerId(o.peer) });
      return;
    case 'disconnected':
      pool.disconnected(pt(o.i), o.reason);
      return;
    case 'advance':
      await clock.advance(o.ms);
      return;
    case 'banPeer':
      pool.ban({ kind: 'peer', peerId: peerId(o.peer) });
      return;
    case 'greylistPeer':
      pool.greylistPeer(peerId(o.peer), 'test');
      return;
    case 'banIp':
      pool.ban({ kind: 'ip', ip: pt(o.i).host }, o.durationMs);
      return;
  }
}

test('property: gauges, caps, trust and states stay consistent under any operations', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(opArb, { minLength: 20, maxLength: 200, size: 'medium' }),
      async (ops) => {
        const clock = new FakeClock();
        const metrics = createMetrics({ version: 'test', defaultMetrics: false });
        const pool = new Pool({
          clock,
          rng: seededRng(3),
          config: poolConfig({ maxKnownPoints: pointsCap, maxKnownPeerIds: peersCap }),
          metrics,
        });
        // Whatever GC removes must have been idle and untrusted at that moment.
        const states = new Map<string, PointState>();
        const violations: string[] = [];
        pool.onChange((e) => {
          if (e.type === 'point_added') states.set(e.point, 'disconnected');
          if (e.type === 'point_state') states.set(e.point, e.to);
          if (e.type === 'point_removed') {
            if (e.cause === 'gc' && pool.acl.isTrustedPoint(e.point))
              violations.push(`trusted ${e.point} evicted`);
            if (e.cause === 'gc' && states.get(e.point) !== 'disconnected')
              violations.push(`in-use ${e.point} evicted`);
            states.delete(e.point);
          }
        });

        for (const o of ops) {
          await apply(pool, clock, o);
          const snap = pool.snapshot();

          // No point in two states: keys are unique and the counts add up.
          const keys = snap.points.map((p) => p.key);
          assert.equal(new Set(keys).size, keys.length);

          // Views are made again only for what an ACL change touched: each still shows what
          // a pool reading the same contents from scratch shows.
          const fresh = new Pool({ clock, rng: seededRng(3), config: poolConfig({}) });
          fresh.restore(pool.exportContents());
          for (const p of snap.points) {
            const q = fresh.point(p.key);
            assert.equal(p.trusted, q?.trusted, `trust of ${p.key} after ${JSON.stringify(o)}`);
            assert.deepEqual(p.blocked, q?.blocked, `block of ${p.key} after ${JSON.stringify(o)}`);
          }
          for (const p of snap.peers) {
            const q = fresh.peer(p.peerId);
            assert.equal(p.trusted, q?.trusted);
            assert.deepEqual(
              p.blocked,
              q?.blocked,
              `block of ${p.peerId} after ${JSON.stringify(o)}`,
            );
          }

          // The kept orders hold exactly the current views, in order.
          for (const [sorted, compare] of [
            [snap.pointsByDialRank, compareDialOrder],
            [snap.pointsByNextDialAt, compareNextDialAt],
          ] as const) {
            const current = new Set(snap.points);
            assert.equal(new Set(sorted).size, snap.points.length, `after ${JSON.stringify(o)}`);
            for (const view of sorted) assert.ok(current.has(view), 'a current view');
            for (let i = 1; i < sorted.length; i++)
              assert.ok(compare(sorted[i - 1] as PointView, sorted[i] as PointView) <= 0);
          }
          const truth: Record<PointState, number> = {
            requested: 0,
            accepted: 0,
            running: 0,
            disconnected: 0,
          };
          for (const p of snap.points) {
            assert.ok(pointStates.includes(p.state));
            truth[p.state]++;
          }
          assert.deepEqual(snap.counts, truth);

          // Gauges equal the truth.
          const gauges: Record<PointState, number> = {
            requested: 0,
            accepted: 0,
            running: 0,
            disconnected: 0,
          };
          for (const v of (await metrics.points.get()).values)
            gauges[v.labels.state as PointState] = v.value;
          assert.deepEqual(gauges, truth, `after ${JSON.stringify(o)}`);

          // Caps hold after GC, unless nothing left is evictable.
          const evictablePoints = snap.points.filter(
            (p) => p.state === 'disconnected' && !p.trusted,
          );
          assert.ok(snap.points.length <= pointsCap.high || evictablePoints.length === 0);
          const evictablePeers = snap.peers.filter((p) => p.connections === 0 && !p.trusted);
          assert.ok(snap.peers.length <= peersCap.high || evictablePeers.length === 0);

          // Trusted points are known; peers of running points are known and counted right.
          for (const p of snap.points) {
            if (p.state === 'running') {
              assert.ok(p.currentPeerId !== undefined);
              const running = snap.points.filter(
                (q) => q.state === 'running' && q.currentPeerId === p.currentPeerId,
              );
              assert.equal(pool.peer(p.currentPeerId)?.connections, running.length);
            } else {
              assert.equal(p.currentPeerId, undefined);
            }
          }
          assert.deepEqual(violations, []);
        }
      },
    ),
    { numRuns: 300, seed: 20261123 },
  );
});
