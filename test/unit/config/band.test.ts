import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeBand, validateBounds } from '../../../src/config/band.ts';

const BANDS: ReadonlyArray<[[number, number, number], [number, number, number, number]]> = [
  [
    [10, 50, 100],
    [23, 36, 68, 84],
  ],
  [
    [25, 50, 75],
    [33, 41, 59, 67],
  ],
  [
    [3, 6, 9],
    [4, 5, 7, 8],
  ],
  [
    [1, 1, 1],
    [1, 1, 1, 1],
  ],
  [
    [1, 2, 3],
    [1, 1, 3, 3],
  ],
  [
    [50, 100, 150],
    [66, 82, 118, 134],
  ],
  [
    [5, 5, 5],
    [5, 5, 5, 5],
  ],
];

for (const [[min, expected, max], [minThreshold, minTarget, maxTarget, maxThreshold]] of BANDS) {
  test(`band of ${min}/${expected}/${max} is ${minThreshold}/${minTarget}/${maxTarget}/${maxThreshold}`, () => {
    assert.deepEqual(makeBand({ min, expected, max }), {
      minThreshold,
      minTarget,
      maxTarget,
      maxThreshold,
    });
  });
}

test('the band is ordered inside the bounds for every valid bounds up to 60', () => {
  for (let min = 1; min <= 60; min++) {
    for (let expected = min; expected <= 60; expected++) {
      for (let max = expected; max <= 60; max += 7) {
        const band = makeBand({ min, expected, max });
        assert.ok(min <= band.minThreshold && band.minThreshold <= band.minTarget);
        assert.ok(band.minTarget <= expected && expected <= band.maxTarget);
        assert.ok(band.maxTarget <= band.maxThreshold && band.maxThreshold <= max);
      }
    }
  }
});

test('validateBounds: valid bounds have no problem', () => {
  assert.deepEqual(validateBounds({ min: 10, expected: 50, max: 100 }), []);
  assert.deepEqual(
    validateBounds({ min: 1, expected: 1, max: 300 }, { maxKnownPoints: { high: 400, low: 300 } }),
    [],
  );
});

test('validateBounds: not_an_integer, for each bound at once', () => {
  const problems = validateBounds({ min: 1.5, expected: Number.NaN, max: 10 });
  assert.deepEqual(
    problems.map((p) => [p.code, p.key]),
    [
      ['not_an_integer', 'connections.min'],
      ['not_an_integer', 'connections.expected'],
    ],
  );
});

test('validateBounds: min_below_one', () => {
  const [problem] = validateBounds({ min: 0, expected: 5, max: 10 });
  assert.equal(problem?.code, 'min_below_one');
  assert.equal(problem?.key, 'connections.min');
  assert.match(problem?.message ?? '', /at least 1/);
});

test('validateBounds: min_above_expected', () => {
  const [problem] = validateBounds({ min: 20, expected: 10, max: 30 });
  assert.equal(problem?.code, 'min_above_expected');
  assert.equal(problem?.key, 'connections.min');
  assert.match(problem?.message ?? '', /min \(20\) must not exceed expected \(10\)/);
});

test('validateBounds: expected_above_max', () => {
  const [problem] = validateBounds({ min: 1, expected: 40, max: 30 });
  assert.equal(problem?.code, 'expected_above_max');
  assert.equal(problem?.key, 'connections.expected');
});

test('validateBounds: max_above_known_points', () => {
  const [problem] = validateBounds(
    { min: 1, expected: 2, max: 301 },
    { maxKnownPoints: { high: 400, low: 300 } },
  );
  assert.equal(problem?.code, 'max_above_known_points');
  assert.equal(problem?.key, 'connections.max');
  assert.match(problem?.message ?? '', /pool\.maxKnownPoints \(300\)/);
});

test('validateBounds: max_above_known_peer_ids', () => {
  const [problem] = validateBounds(
    { min: 1, expected: 2, max: 301 },
    { maxKnownPeerIds: { high: 400, low: 300 } },
  );
  assert.equal(problem?.code, 'max_above_known_peer_ids');
});

test('validateBounds: every problem is reported together', () => {
  const problems = validateBounds(
    { min: 0, expected: 500, max: 400 },
    { maxKnownPoints: { high: 10, low: 5 }, maxKnownPeerIds: { high: 10, low: 5 } },
  );
  assert.deepEqual(
    problems.map((p) => p.code),
    ['min_below_one', 'expected_above_max', 'max_above_known_points', 'max_above_known_peer_ids'],
  );
});
