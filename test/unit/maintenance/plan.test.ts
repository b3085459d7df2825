import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeBand } from '../../../src/config/band.ts';
import {
  askForMoreDelay,
  type CyclePlan,
  planCycle,
  triggerFor,
} from '../../../src/maintenance/plan.ts';
import { type Rng, seededRng } from '../../../src/rng.ts';
import {
  conn,
  conns,
  defaultBand,
  failed,
  key,
  minute,
  now,
  planInput,
  point,
  points,
  snapshot,
} from './helpers.ts';

function constantRng(u: number): Rng {
  return { next: () => u };
}

function dialPlan(plan: CyclePlan): Extract<CyclePlan, { kind: 'dial' }> {
  assert.equal(plan.kind, 'dial', `expected a dial plan, got ${JSON.stringify(plan)}`);
  return plan as Extract<CyclePlan, { kind: 'dial' }>;
}

function closePlan(plan: CyclePlan): Extract<CyclePlan, { kind: 'close' }> {
  assert.equal(plan.kind, 'close', `expected a close plan, got ${JSON.stringify(plan)}`);
  return plan as Extract<CyclePlan, { kind: 'close' }>;
}

test('band: the defaults 10/50/100 give 23/36/68/84', () => {
  assert.deepEqual(makeBand({ min: 10, expected: 50, max: 100 }), defaultBand);
});

test('too_few: below minThreshold with enough candidates dials minTarget − count', () => {
  const plan = dialPlan(
    planCycle(planInput({ connections: conns(10), snapshot: snapshot(points(100)) })),
  );
  assert.equal(plan.reason, 'too_few');
  assert.equal(plan.dials.length, 36 - 10);
  assert.equal(plan.shortfall, 0);
  assert.equal(plan.askForMore, false);
  assert.equal(plan.waitForMore, false);
  assert.equal(plan.maxParallel, 10);
  assert.equal(plan.count, 10);
});

test('hysteresis: a too_few cycle past minThreshold goes on to minTarget', () => {
  const input = { connections: conns(30), snapshot: snapshot(points(100)) };
  assert.equal(planCycle(planInput(input)).kind, 'none', 'an idle cycle at 30 is in band');
  const plan = dialPlan(planCycle(planInput({ ...input, motive: 'too_few' })));
  assert.equal(plan.reason, 'too_few');
  assert.equal(plan.dials.length, 36 - 30);
});

test('hysteresis: a too_many cycle below maxThreshold goes on down to maxTarget', () => {
  assert.equal(planCycle(planInput({ connections: conns(80) })).kind, 'none');
  const plan = closePlan(planCycle(planInput({ connections: conns(80), motive: 'too_many' })));
  assert.equal(plan.victims.length, 80 - 68);
});

test('too_few: never dials more than maxTarget − count', () => {
  // --connections 1: the band is 1/1/1/1.
  const band = makeBand({ min: 1, expected: 1, max: 1 });
  const plan = dialPlan(planCycle(planInput({ band, snapshot: snapshot(points(5)) })));
  assert.equal(plan.dials.length, 1);
});

test('too_few: dials in flight count as connections to come', () => {
  const pts = [...points(40), point(1, { state: 'requested' }), point(2, { state: 'requested' })];
  const plan = dialPlan(
    planCycle(
      planInput({
        connections: conns(10),
        snapshot: snapshot(pts),
        dialing: new Set([key(2), key(3)]),
      }),
    ),
  );
  // Three distinct points in flight (two requested in the pool, one more in the worker's set).
  assert.equal(plan.dials.length, 36 - 10 - 3);
  assert.ok(!plan.dials.some((d) => [key(1), key(2), key(3)].includes(d.key)));
});

test('too_few: candidates run out before minTarget → ask for more', () => {
  const plan = dialPlan(
    planCycle(planInput({ connections: conns(10), snapshot: snapshot(points(5)) })),
  );
  assert.equal(plan.dials.length, 5);
  assert.equal(plan.shortfall, 36 - 10 - 5);
  assert.equal(plan.askForMore, true);
  assert.equal(plan.waitForMore, true);
});

test('too_few: no candidate at all still plans to ask for more', () => {
  const plan = dialPlan(planCycle(planInput({ connections: conns(3) })));
  assert.deepEqual(plan.dials, []);
  assert.equal(plan.askForMore, true);
});

test('private mode: only trusted points, and never ask for more (it only waits)', () => {
  const pts = [...points(20), point(1, { trusted: true }), point(2, { trusted: true })];
  const plan = dialPlan(
    planCycle(planInput({ privateMode: true, connections: conns(5), snapshot: snapshot(pts) })),
  );
  assert.deepEqual(plan.dials.map((d) => d.key).sort(), [key(1), key(2)].sort());
  assert.equal(plan.askForMore, false);
  assert.equal(plan.waitForMore, true);
  assert.equal(plan.excluded.not_trusted, 20);
});

test('too_few: trusted points come first among the dials', () => {
  const pts = [...points(50), point(1, { trusted: true })];
  const plan = dialPlan(planCycle(planInput({ connections: conns(10), snapshot: snapshot(pts) })));
  assert.equal(plan.dials[0]?.key, key(1));
  assert.equal(plan.dials[0]?.reason, 'trusted');
});

test('trusted_missing: inside the band, the trusted points (and only them) are re-dialed', () => {
  const pts = [...points(30), point(1, { trusted: true }), point(2, { trusted: true })];
  const plan = dialPlan(
    planCycle(
      planInput({ connections: conns(40), snapshot: snapshot(pts), motive: 'trusted_missing' }),
    ),
  );
  assert.equal(plan.reason, 'trusted_missing');
  assert.equal(plan.motive, 'trusted_missing');
  assert.deepEqual(plan.dials.map((d) => d.key).sort(), [key(1), key(2)].sort());
  assert.equal(plan.askForMore, false);
  assert.equal(plan.waitForMore, false);
});

test('trusted_missing: a trusted point still in its backoff waits (in band → none)', () => {
  const pts = [...points(30), failed(1, 0, { trusted: true, nextDialAt: now + minute })];
  const plan = planCycle(planInput({ connections: conns(40), snapshot: snapshot(pts) }));
  assert.deepEqual(plan, { kind: 'none', reason: 'in_band', count: 40 });
});

test('trusted_missing: no room below maxTarget → none, saying why', () => {
  const plan = planCycle(
    planInput({ connections: conns(70), snapshot: snapshot([point(1, { trusted: true })]) }),
  );
  assert.deepEqual(plan, { kind: 'none', reason: 'trusted_missing_no_room', count: 70 });
});

test('trusted_missing: a connected trusted point is not missing', () => {
  const plan = planCycle(
    planInput({
      connections: [...conns(39), conn('t', { trusted: true, point: key(1) })],
      snapshot: snapshot([point(1, { trusted: true })]),
    }),
  );
  assert.equal(plan.kind, 'none');
});

test('too_many: above maxThreshold closes exactly count − maxTarget', () => {
  const plan = closePlan(planCycle(planInput({ connections: conns(90) })));
  assert.equal(plan.reason, 'too_many');
  assert.equal(plan.victims.length, 90 - 68);
  assert.equal(new Set(plan.victims.map((v) => v.peerId)).size, 90 - 68);
});

test('too_many: never closes a trusted peer', () => {
  const connections = [
    ...conns(80),
    ...conns(10, { trusted: true }).map((c, i) => ({ ...c, peerId: `t${i}` })),
  ];
  const plan = closePlan(planCycle(planInput({ connections })));
  assert.equal(plan.victims.length, 22);
  assert.ok(plan.victims.every((v) => !v.peerId.startsWith('t')));
});

test('too_many: with only trusted peers left, fewer victims (none)', () => {
  const plan = closePlan(planCycle(planInput({ connections: conns(90, { trusted: true }) })));
  assert.deepEqual(plan.victims, []);
});

const inBandCases = [23, 30, 36, 50, 68, 84];
for (const count of inBandCases) {
  test(`in band: ${count} connections → none`, () => {
    const plan = planCycle(
      planInput({ connections: conns(count), snapshot: snapshot(points(50)) }),
    );
    assert.deepEqual(plan, { kind: 'none', reason: 'in_band', count });
  });
}

test('the band edges: 22 dials, 85 closes', () => {
  assert.equal(planCycle(planInput({ connections: conns(22) })).kind, 'dial');
  assert.equal(planCycle(planInput({ connections: conns(85) })).kind, 'close');
});

test('the plan is deterministic for a seed', () => {
  const input = (seed: number) =>
    planInput({ connections: conns(10), snapshot: snapshot(points(60)) }, seededRng(seed));
  assert.deepEqual(planCycle(input(3)), planCycle(input(3)));
  const close = (seed: number) => planInput({ connections: conns(95) }, seededRng(seed));
  assert.deepEqual(planCycle(close(3)), planCycle(close(3)));
});

/** triggerFor: (previous → count) and the motive it raises, with the default band 23/36/68/84. */
const triggerCases: { prev: number | undefined; count: number; motive: string | undefined }[] = [
  // The fix of Octez: a drop between min (10) and minThreshold (23) triggers at once.
  { prev: 25, count: 22, motive: 'too_few' },
  { prev: 23, count: 22, motive: 'too_few' },
  { prev: 15, count: 14, motive: 'too_few' },
  { prev: 10, count: 9, motive: 'too_few' },
  { prev: 30, count: 23, motive: undefined },
  { prev: 20, count: 21, motive: undefined },
  { prev: 84, count: 85, motive: 'too_many' },
  { prev: 70, count: 84, motive: undefined },
  { prev: 90, count: 89, motive: undefined },
  { prev: 40, count: 40, motive: undefined },
  { prev: undefined, count: 22, motive: 'too_few' },
  { prev: undefined, count: 85, motive: 'too_many' },
  { prev: undefined, count: 50, motive: undefined },
];

for (const c of triggerCases) {
  test(`triggerFor: ${c.prev ?? '?'} → ${c.count} raises ${c.motive ?? 'nothing'}`, () => {
    assert.equal(triggerFor(c.count, defaultBand, c.prev), c.motive);
  });
}

const lookingConfig = { timeBetweenLookingForPeersMs: { initial: 5_000, cap: 300_000 } };

test('askForMoreDelay: 5 s, doubling up to the 5 min cap (no jitter at u = 0.5)', () => {
  const rng = constantRng(0.5);
  const delays: number[] = [];
  let delay: number | undefined;
  for (let i = 0; i < 9; i++) {
    delay = askForMoreDelay(delay, lookingConfig, rng);
    delays.push(delay);
  }
  assert.deepEqual(
    delays,
    [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000],
  );
});

test('askForMoreDelay: jittered ±10 %, without drift when fed its own jittered values', () => {
  const nominal = [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000];
  for (let seed = 0; seed < 50; seed++) {
    const rng = seededRng(seed);
    let delay: number | undefined;
    for (const n of nominal) {
      delay = askForMoreDelay(delay, lookingConfig, rng);
      assert.ok(
        delay >= n * 0.9 && delay <= Math.min(n * 1.1, 300_000),
        `seed ${seed}: ${delay} vs ${n}`,
      );
    }
  }
});

test('askForMoreDelay: never above the cap, even at the top of the jitter', () => {
  assert.equal(askForMoreDelay(300_000, lookingConfig, constantRng(0.999999)), 300_000);
  assert.equal(askForMoreDelay(160_000, lookingConfig, constantRng(0.999999)), 300_000);
  assert.equal(askForMoreDelay(undefined, lookingConfig, constantRng(0)), 4_500);
});

test('askForMoreDelay: back to the initial delay after a reset (undefined)', () => {
  assert.equal(askForMoreDelay(undefined, lookingConfig, constantRng(0.5)), 5_000);
});
