import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { makeBand } from '../../../src/config/band.ts';
import {
  type CycleMotive,
  chooseVictims,
  cycleMotives,
  type LiveConnection,
  orderCandidates,
  type PlanInput,
  planCycle,
} from '../../../src/maintenance/plan.ts';
import type { PointView } from '../../../src/pool/index.ts';
import { seededRng } from '../../../src/rng.ts';
import { key, minute, now, point, snapshot } from '../../unit/maintenance/helpers.ts';

const runs = { numRuns: Number(process.env.PROPERTY_RUNS ?? 300) };
const nPoints = 40;
const peerIds = Array.from({ length: 12 }, (_, i) => `mkpeer${i}`);

function weighted<T>(choices: [number, T][]): fc.Arbitrary<T> {
  return fc.oneof(...choices.map(([weight, v]) => ({ weight, arbitrary: fc.constant(v) })));
}

const maybeTime = fc.option(fc.integer({ min: now - 600 * minute, max: now }), { nil: undefined });

const pointArb = (n: number): fc.Arbitrary<PointView> =>
  fc
    .record({
      state: weighted<PointView['state']>([
        [8, 'disconnected'],
        [1, 'requested'],
        [1, 'accepted'],
        [1, 'running'],
      ]),
      trusted: weighted([
        [3, false],
        [1, true],
      ]),
      blocked: weighted<'banned' | 'greylisted' | undefined>([
        [10, undefined],
        [1, 'banned'],
        [1, 'greylisted'],
      ]),
      nextDialAt: fc.oneof(
        { weight: 3, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: now - minute, max: now + minute }) },
      ),
      lastSuccessAt: maybeTime,
      lastFailureAt: maybeTime,
      expectedPeerId: fc.option(fc.constantFrom(...peerIds), { nil: undefined }),
      lastPeerId: fc.option(fc.constantFrom(...peerIds), { nil: undefined }),
    })
    .map((r) => {
      const { blocked, expectedPeerId, lastPeerId, lastSuccessAt, lastFailureAt, ...rest } = r;
      return point(n, {
        ...rest,
        ...(blocked === undefined ? {} : { blocked: { reason: blocked, by: 'point' as const } }),
        ...(expectedPeerId === undefined ? {} : { expectedPeerId }),
        ...(lastPeerId === undefined ? {} : { lastPeerId }),
        ...(lastSuccessAt === undefined ? {} : { lastSuccessAt }),
        ...(lastFailureAt === undefined ? {} : { lastFailureAt }),
      });
    });

const pointsArb = fc
  .uniqueArray(fc.nat({ max: nPoints - 1 }), { maxLength: nPoints })
  .chain((ns) => fc.tuple(...ns.map(pointArb)));

const keyArb = fc.nat({ max: nPoints - 1 }).map(key);

const connectionArb = (i: number): fc.Arbitrary<LiveConnection> =>
  fc
    .record({
      direction: fc.constantFrom('inbound' as const, 'outbound' as const),
      status: fc.constantFrom('warm' as const, 'hot' as const),
      trusted: fc.boolean(),
      establishedAt: fc.integer({ min: now - 600 * minute, max: now }),
      point: fc.option(keyArb, { nil: undefined }),
      knownPeer: fc.boolean(),
    })
    .map(({ point: p, knownPeer, ...rest }) => ({
      ...rest,
      // Some connections are with peers the pool has seen at a point (for peer_connected).
      peerId: knownPeer && i < peerIds.length ? (peerIds[i] as string) : `conn${i}`,
      ...(p === undefined ? {} : { point: p }),
    }));

const boundsArb = fc
  .tuple(fc.integer({ min: 1, max: 40 }), fc.nat({ max: 60 }), fc.nat({ max: 60 }))
  .map(([min, a, b]) => ({ min, expected: min + a, max: min + a + b }));

const inputArb: fc.Arbitrary<{ input: Omit<PlanInput, 'rng'>; seed: number }> = fc
  .record({
    bounds: boundsArb,
    points: pointsArb,
    nConnections: fc.oneof(fc.nat({ max: 40 }), fc.nat({ max: 170 })),
    dialing: fc.uniqueArray(keyArb, { maxLength: 5 }),
    failed: fc.uniqueArray(keyArb, { maxLength: 5 }),
    own: fc.uniqueArray(keyArb, { maxLength: 3 }),
    privateMode: weighted([
      [4, false],
      [1, true],
    ]),
    motive: fc.option(fc.constantFrom<CycleMotive>(...cycleMotives), { nil: undefined }),
    seed: fc.integer(),
  })
  .chain((r) =>
    fc
      .tuple(...Array.from({ length: r.nConnections }, (_, i) => connectionArb(i)))
      .map((connections) => ({
        input: {
          band: makeBand(r.bounds),
          snapshot: snapshot(r.points, { ownAddresses: r.own, privateMode: r.privateMode }),
          connections,
          dialing: new Set(r.dialing),
          failedThisCycle: new Set(r.failed),
          privateMode: r.privateMode,
          ...(r.motive === undefined ? {} : { motive: r.motive }),
          now,
          maxParallelDials: 10,
        },
        seed: r.seed,
      })),
  );

function withRng(input: Omit<PlanInput, 'rng'>, seed: number): PlanInput {
  return { ...input, rng: seededRng(seed) };
}

/** An oracle written apart from the planner: may this point be dialed now? */
function dialable(p: PointView, input: Omit<PlanInput, 'rng'>): boolean {
  const connectedPeers = new Set(input.connections.map((c) => c.peerId));
  const connectedPoints = new Set(input.connections.flatMap((c) => (c.point ? [c.point] : [])));
  return (
    !input.snapshot.ownAddresses.includes(p.key) &&
    p.blocked === undefined &&
    (!input.privateMode || p.trusted) &&
    p.state === 'disconnected' &&
    !connectedPoints.has(p.key) &&
    !input.dialing.has(p.key) &&
    !input.failedThisCycle.has(p.key) &&
    !(p.expectedPeerId !== undefined && connectedPeers.has(p.expectedPeerId)) &&
    !(p.lastPeerId !== undefined && connectedPeers.has(p.lastPeerId)) &&
    input.now >= p.nextDialAt
  );
}

test('the plan never dials more than maxTarget − count, nor an excluded point', () => {
  fc.assert(
    fc.property(inputArb, ({ input, seed }) => {
      const plan = planCycle(withRng(input, seed));
      if (plan.kind !== 'dial') return;
      const count = input.connections.length;
      assert.ok(plan.dials.length <= Math.max(0, input.band.maxTarget - count));
      if (plan.reason === 'too_few') {
        assert.ok(plan.dials.length <= Math.max(0, input.band.minTarget - count));
      } else {
        assert.ok(plan.dials.every((d) => d.trusted));
      }
      assert.equal(new Set(plan.dials.map((d) => d.key)).size, plan.dials.length);
      const byKey = new Map(input.snapshot.points.map((p) => [p.key, p]));
      for (const d of plan.dials) {
        const p = byKey.get(d.key);
        assert.ok(p !== undefined && dialable(p, input), `dialed an excluded point ${d.key}`);
      }
      if (input.privateMode) assert.equal(plan.askForMore, false);
    }),
    runs,
  );
});

test('the plan never closes a trusted peer; victims = min(count − maxTarget, non-trusted)', () => {
  fc.assert(
    fc.property(inputArb, ({ input, seed }) => {
      const plan = planCycle(withRng(input, seed));
      const count = input.connections.length;
      const above =
        count > input.band.maxThreshold ||
        (input.motive === 'too_many' && count > input.band.maxTarget);
      assert.equal(plan.kind === 'close', above);
      if (plan.kind !== 'close') return;
      const trusted = new Set(input.connections.filter((c) => c.trusted).map((c) => c.peerId));
      const nonTrusted = count - trusted.size;
      assert.equal(plan.victims.length, Math.min(count - input.band.maxTarget, nonTrusted));
      assert.ok(plan.victims.every((v) => !trusted.has(v.peerId)));
      assert.equal(new Set(plan.victims.map((v) => v.peerId)).size, plan.victims.length);
    }),
    runs,
  );
});

test('the plan acts below the band, and only dials trusted points inside it', () => {
  fc.assert(
    fc.property(inputArb, ({ input, seed }) => {
      const plan = planCycle(withRng(input, seed));
      const count = input.connections.length;
      if (count < input.band.minThreshold) assert.equal(plan.kind, 'dial');
      if (plan.kind === 'dial' && plan.reason === 'too_few') {
        // Below the threshold, or a too_few cycle going on to its target (hysteresis).
        assert.ok(
          count < input.band.minThreshold ||
            (input.motive === 'too_few' && count < input.band.minTarget),
        );
      }
      if (plan.kind === 'dial') {
        // Dials plus shortfall make up what minTarget wanted (too_few) or 0 (trusted_missing).
        assert.ok(plan.shortfall >= 0);
        assert.equal(plan.waitForMore, plan.shortfall > 0);
        assert.equal(plan.askForMore, plan.shortfall > 0 && !input.privateMode);
      }
    }),
    runs,
  );
});

test('the plan is deterministic for a given seed', () => {
  fc.assert(
    fc.property(inputArb, ({ input, seed }) => {
      assert.deepEqual(planCycle(withRng(input, seed)), planCycle(withRng(input, seed)));
    }),
    runs,
  );
});

test('candidate order: exactly the dialable points, trusted first, rules monotonic', () => {
  fc.assert(
    fc.property(inputArb, ({ input, seed }) => {
      const exclusions = {
        connectedPoints: new Set(input.connections.flatMap((c) => (c.point ? [c.point] : []))),
        connectedPeers: new Set(input.connections.map((c) => c.peerId)),
        dialing: input.dialing,
        failedThisCycle: input.failedThisCycle,
        privateMode: input.privateMode,
      };
      const got = orderCandidates(input.snapshot, exclusions, now, seededRng(seed));
      const expected = input.snapshot.points.filter((p) => dialable(p, input)).map((p) => p.key);
      assert.deepEqual(got.map((c) => c.key).sort(), expected.sort());
      const byKey = new Map(input.snapshot.points.map((p) => [p.key, p]));
      const tier = {
        trusted: 0,
        last_succeeded: 1,
        never_tried: 2,
        churned: 3,
        oldest_failure: 4,
      } as const;
      for (let i = 1; i < got.length; i++) {
        const a = got[i - 1];
        const b = got[i];
        if (a === undefined || b === undefined) continue;
        assert.ok(!(b.trusted && !a.trusted), 'trusted first');
        if (a.trusted !== b.trusted) continue;
        const [pa, pb] = [byKey.get(a.key), byKey.get(b.key)];
        if (a.reason === b.reason && a.reason === 'last_succeeded') {
          assert.ok(
            (pa?.lastSuccessAt ?? 0) >= (pb?.lastSuccessAt ?? 0),
            'most recent success first',
          );
        }
        if (a.reason === b.reason && a.reason === 'oldest_failure') {
          assert.ok((pa?.lastFailureAt ?? 0) <= (pb?.lastFailureAt ?? 0), 'oldest failure first');
        }
        if (!a.trusted)
          assert.ok(tier[a.reason] <= tier[b.reason], `${a.reason} before ${b.reason}`);
      }
    }),
    runs,
  );
});

test('victims: min(count, non-trusted), never trusted, in tier then age order', () => {
  const tierOf = (c: LiveConnection) =>
    (c.status === 'warm' ? 0 : 2) + (c.direction === 'inbound' ? 0 : 1);
  fc.assert(
    fc.property(
      fc
        .nat({ max: 60 })
        .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => connectionArb(i)))),
      fc.integer({ min: -5, max: 70 }),
      fc.integer(),
      (connections, count, seed) => {
        const victims = chooseVictims(connections, count, seededRng(seed));
        const nonTrusted = connections.filter((c) => !c.trusted).length;
        assert.equal(victims.length, Math.max(0, Math.min(count, nonTrusted)));
        const byId = new Map(connections.map((c) => [c.peerId, c]));
        const chosen = victims.map((v) => byId.get(v.peerId) as LiveConnection);
        assert.ok(chosen.every((c) => !c.trusted));
        for (let i = 1; i < chosen.length; i++) {
          const [a, b] = [chosen[i - 1] as LiveConnection, chosen[i] as LiveConnection];
          assert.ok(
            tierOf(a) < tierOf(b) ||
              (tierOf(a) === tierOf(b) && a.establishedAt >= b.establishedAt),
          );
        }
        // No connection left behind is a better victim than the last one chosen.
        const last = chosen.at(-1);
        if (last !== undefined) {
          const chosenIds = new Set(victims.map((v) => v.peerId));
          for (const c of connections) {
            if (c.trusted || chosenIds.has(c.peerId)) continue;
            assert.ok(
              tierOf(c) > tierOf(last) ||
                (tierOf(c) === tierOf(last) && c.establishedAt <= last.establishedAt),
            );
          }
        }
        assert.deepEqual(chooseVictims(connections, count, seededRng(seed)), victims);
      },
    ),
    runs,
  );
});
