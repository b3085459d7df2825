import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  failureDelayMs,
  inBackoff,
  nextDialAfterDisconnect,
  nextDialAfterFailure,
} from '../../../src/pool/index.ts';
import { seededRng } from '../../../src/rng.ts';
import { constantRng, day, minute, poolConfig, second } from './helpers.ts';

const reconnect = poolConfig().reconnect;

test('failure delays without jitter: 1 s × 1.2 per consecutive failure', () => {
  const rng = constantRng(0.5);
  const delays = [1, 2, 3, 4, 5, 6].map((n) => failureDelayMs(reconnect, n, rng));
  assert.deepEqual(delays, [1000, 1200, 1440, 1728, 2074, 2488]);
});

test('failure delays with a seeded rng: exact, reproducible values', () => {
  const delays = (seed: number) => {
    const rng = seededRng(seed);
    return [1, 2, 3, 4, 5].map((n) => failureDelayMs(reconnect, n, rng));
  };
  // Reference: the same formula applied to the same rng draws.
  const ref = seededRng(42);
  const expected = [1, 2, 3, 4, 5].map((n) => {
    const base = 1000 * 1.2 ** (n - 1);
    return Math.round(base * (1 + 0.1 * (2 * ref.next() - 1)));
  });
  assert.deepEqual(delays(42), expected);
  assert.deepEqual(delays(42), delays(42));
  assert.notDeepEqual(delays(42), delays(43));
});

test('jitter stays within ±10 % of the nominal delay', () => {
  const rng = seededRng(7);
  for (let n = 1; n <= 60; n++) {
    const nominal = Math.min(1000 * 1.2 ** (n - 1), reconnect.capMs);
    for (let i = 0; i < 50; i++) {
      const d = failureDelayMs(reconnect, n, rng);
      assert.ok(d >= Math.floor(nominal * 0.9) && d <= Math.ceil(nominal * 1.1), `n=${n} d=${d}`);
    }
  }
  assert.equal(failureDelayMs(reconnect, 1, constantRng(0)), 900);
  assert.equal(failureDelayMs(reconnect, 1, constantRng(0.999999)), 1100);
});

test('the delay is capped at 2 days, jitter included', () => {
  for (const n of [120, 500, 10_000, 1e9, Number.MAX_SAFE_INTEGER]) {
    assert.equal(failureDelayMs(reconnect, n, constantRng(0.5)), 2 * day);
    assert.equal(failureDelayMs(reconnect, n, constantRng(0.999999)), 2 * day);
    assert.equal(failureDelayMs(reconnect, n, constantRng(0)), 0.9 * 2 * day);
  }
});

test('the first failure count below 1 is treated as the first failure', () => {
  assert.equal(failureDelayMs(reconnect, 0, constantRng(0.5)), 1000);
});

test('next dial after a failure is now + the delay', () => {
  assert.equal(nextDialAfterFailure(reconnect, 3, 5_000, constantRng(0.5)), 5_000 + 1440);
});

test('a running connection that ends waits exactly 60 s', () => {
  assert.equal(nextDialAfterDisconnect(reconnect, 10 * second), 10 * second + minute);
});

test('inBackoff: blocked before nextDialAt, free from it on', () => {
  assert.equal(inBackoff({ nextDialAt: 1000 }, 999), true);
  assert.equal(inBackoff({ nextDialAt: 1000 }, 1000), false);
  assert.equal(inBackoff({ nextDialAt: 0 }, 0), false);
});
