import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, MAX_DURATION_MS, parseDuration } from '../../../src/config/duration.ts';

const VALID: ReadonlyArray<[unknown, number]> = [
  ['500ms', 500],
  ['120s', 120_000],
  ['5m', 300_000],
  ['24h', 86_400_000],
  ['2d', 172_800_000],
  ['1.5s', 1_500],
  ['1.1s', 1_100],
  ['0.25m', 15_000],
  ['0s', 0],
  ['1500', 1_500],
  [' 10s ', 10_000],
  [0, 0],
  [2500, 2_500],
  [MAX_DURATION_MS, MAX_DURATION_MS],
];

const INVALID: ReadonlyArray<[unknown, string]> = [
  ['', 'empty'],
  ['   ', 'empty'],
  ['-5s', 'negative'],
  [-1, 'negative'],
  [Number.NaN, 'not_finite'],
  [Number.POSITIVE_INFINITY, 'not_finite'],
  ['NaN', 'syntax'],
  ['Infinity', 'syntax'],
  ['5x', 'unknown_unit'],
  ['5min', 'unknown_unit'],
  ['5S', 'unknown_unit'],
  ['5us', 'unknown_unit'],
  ['5 s', 'syntax'],
  ['s', 'syntax'],
  ['.5s', 'syntax'],
  ['5.s', 'syntax'],
  ['+5s', 'syntax'],
  ['1e3', 'syntax'],
  ['1h30m', 'syntax'],
  ['0.5ms', 'fractional_ms'],
  [1.5, 'fractional_ms'],
  ['25d', 'too_large'],
  [MAX_DURATION_MS + 1, 'too_large'],
  ['99999999999999999999999s', 'too_large'],
  ['9'.repeat(10_000), 'syntax'],
  [null, 'not_a_duration'],
  [true, 'not_a_duration'],
  [{}, 'not_a_duration'],
  [['5s'], 'not_a_duration'],
];

for (const [input, expected] of VALID) {
  test(`parseDuration(${JSON.stringify(input)}) = ${expected} ms`, () => {
    assert.deepEqual(parseDuration(input), { ok: true, value: expected });
  });
}

for (const [input, code] of INVALID) {
  const label =
    typeof input === 'string' && input.length > 30 ? `${input.slice(0, 30)}…` : String(input);
  test(`parseDuration(${JSON.stringify(label)}) fails with ${code}`, () => {
    const result = parseDuration(input);
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(result.error.code, code);
      assert.ok(result.error.message.length > 0);
      assert.ok(result.error.message.length < 200, 'the message never echoes a huge input');
    }
  });
}

test('formatDuration picks the largest exact unit and parseDuration reads it back', () => {
  for (const ms of [0, 1, 999, 1_000, 1_500, 60_000, 90_000, 3_600_000, 86_400_000, 172_800_000]) {
    assert.deepEqual(parseDuration(formatDuration(ms)), { ok: true, value: ms });
  }
  assert.equal(formatDuration(120_000), '2m');
  assert.equal(formatDuration(1_500), '1500ms');
});
