import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseVictims, type LiveConnection } from '../../../src/maintenance/plan.ts';
import { seededRng } from '../../../src/rng.ts';
import { conn, minute, now } from './helpers.ts';

/** Victim rules: connections (in this input order), how many to close, who goes, in order. */
const cases: { name: string; connections: LiveConnection[]; count: number; expected: string[] }[] =
  [
    {
      name: 'never a trusted connection, even the youngest warm inbound one',
      connections: [
        conn('trusted', { trusted: true, direction: 'inbound', establishedAt: now }),
        conn('a', { status: 'hot', establishedAt: now - 60 * minute }),
      ],
      count: 2,
      expected: ['a'],
    },
    {
      name: 'warm before hot',
      connections: [
        conn('hot', { status: 'hot', direction: 'inbound', establishedAt: now }),
        conn('warm', { status: 'warm', direction: 'outbound', establishedAt: now - 60 * minute }),
      ],
      count: 1,
      expected: ['warm'],
    },
    {
      name: 'inbound before outbound (same status)',
      connections: [
        conn('out', { direction: 'outbound', establishedAt: now }),
        conn('in', { direction: 'inbound', establishedAt: now - 60 * minute }),
      ],
      count: 1,
      expected: ['in'],
    },
    {
      name: 'youngest connection first (same status and direction)',
      connections: [
        conn('old', { establishedAt: now - 60 * minute }),
        conn('young', { establishedAt: now - minute }),
        conn('middle', { establishedAt: now - 10 * minute }),
      ],
      count: 3,
      expected: ['young', 'middle', 'old'],
    },
    {
      name: 'the full order: warm in, warm out, hot in, hot out',
      connections: [
        conn('hot-out', { status: 'hot', direction: 'outbound' }),
        conn('hot-in', { status: 'hot', direction: 'inbound' }),
        conn('warm-out', { status: 'warm', direction: 'outbound' }),
        conn('warm-in', { status: 'warm', direction: 'inbound' }),
      ],
      count: 4,
      expected: ['warm-in', 'warm-out', 'hot-in', 'hot-out'],
    },
    {
      name: 'a peer that dialed us while below its band goes after every other',
      connections: [
        conn('wanted', { status: 'warm', direction: 'inbound', establishedAt: now, wanted: true }),
        conn('hot-out', { status: 'hot', direction: 'outbound', establishedAt: now - 60 * minute }),
      ],
      count: 2,
      expected: ['hot-out', 'wanted'],
    },
    {
      name: 'fewer victims than asked when only trusted connections remain',
      connections: [conn('t1', { trusted: true }), conn('t2', { trusted: true }), conn('a')],
      count: 3,
      expected: ['a'],
    },
    { name: 'nothing to close', connections: [conn('a')], count: 0, expected: [] },
  ];

for (const c of cases) {
  test(`victims: ${c.name}`, () => {
    for (const seed of [1, 2, 3]) {
      const got = chooseVictims(c.connections, c.count, seededRng(seed)).map((v) => v.peerId);
      assert.deepEqual(got, c.expected, `seed ${seed}`);
    }
  });
}

test('victims carry their tier as the reason, and their point', () => {
  const got = chooseVictims(
    [
      conn('a', { status: 'hot', direction: 'inbound', point: '10.0.0.9:9740' }),
      conn('b', { direction: 'outbound' }),
    ],
    2,
    seededRng(1),
  );
  assert.deepEqual(got, [
    { peerId: 'b', reason: 'warm_outbound' },
    { peerId: 'a', point: '10.0.0.9:9740', reason: 'hot_inbound' },
  ]);
});

test('tie-break: equal connections in a seeded random order', () => {
  const same = Array.from({ length: 10 }, (_, i) => conn(`p${i}`));
  const pick = (seed: number) => chooseVictims(same, 3, seededRng(seed)).map((v) => v.peerId);
  assert.deepEqual(pick(5), pick(5));
  assert.ok(new Set([1, 2, 3, 4, 5, 6].map((s) => pick(s).join())).size > 1);
});
