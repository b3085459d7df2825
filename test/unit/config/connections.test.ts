import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeBand } from '../../../src/config/band.ts';
import { deriveConnections } from '../../../src/config/connections.ts';

// N → bounds min/expected/max, band, caps (DESIGN §6).
const TABLE: ReadonlyArray<{
  n: number;
  bounds: [number, number, number];
  band: [number, number, number, number];
  caps: [number, number];
}> = [
  { n: 1, bounds: [1, 1, 1], band: [1, 1, 1, 1], caps: [8, 6] },
  { n: 2, bounds: [1, 2, 3], band: [1, 1, 3, 3], caps: [16, 12] },
  { n: 6, bounds: [3, 6, 9], band: [4, 5, 7, 8], caps: [48, 36] },
  { n: 50, bounds: [25, 50, 75], band: [33, 41, 59, 67], caps: [400, 300] },
  { n: 100, bounds: [50, 100, 150], band: [66, 82, 118, 134], caps: [800, 600] },
];

for (const { n, bounds, band, caps } of TABLE) {
  test(`--connections ${n} → ${bounds.join('/')}, band ${band.join('/')}, caps (${caps.join(', ')})`, () => {
    const derived = deriveConnections(n);
    assert.equal(derived.ok, true);
    if (!derived.ok) return;
    const [min, expected, max] = bounds;
    assert.deepEqual(derived.value.bounds, { min, expected, max });
    const [minThreshold, minTarget, maxTarget, maxThreshold] = band;
    assert.deepEqual(makeBand(derived.value.bounds), {
      minThreshold,
      minTarget,
      maxTarget,
      maxThreshold,
    });
    assert.deepEqual(derived.value.maxKnownPoints, { high: caps[0], low: caps[1] });
    assert.deepEqual(derived.value.maxKnownPeerIds, { high: caps[0], low: caps[1] });
  });
}

test('--connections accepts a decimal string, as a flag or variable gives it', () => {
  const derived = deriveConnections('6');
  assert.ok(derived.ok);
  if (derived.ok) assert.deepEqual(derived.value.bounds, { min: 3, expected: 6, max: 9 });
});

test('--connections 1000 is the largest allowed', () => {
  const derived = deriveConnections(1000);
  assert.ok(derived.ok);
  if (derived.ok) assert.deepEqual(derived.value.bounds, { min: 500, expected: 1000, max: 1500 });
});

const REFUSED: ReadonlyArray<[unknown, string]> = [
  [0, 'out_of_range'],
  ['0', 'out_of_range'],
  [-5, 'out_of_range'],
  [1001, 'out_of_range'],
  ['1001', 'out_of_range'],
  [2.5, 'not_an_integer'],
  ['2.5', 'not_an_integer'],
  ['six', 'not_an_integer'],
  ['', 'not_an_integer'],
  ['1e2', 'not_an_integer'],
  [Number.NaN, 'not_an_integer'],
  [null, 'not_an_integer'],
];

for (const [input, code] of REFUSED) {
  test(`--connections ${JSON.stringify(input)} is refused (${code})`, () => {
    const derived = deriveConnections(input);
    assert.equal(derived.ok, false);
    if (!derived.ok) assert.equal(derived.error.code, code);
  });
}
