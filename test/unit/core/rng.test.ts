import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jitter, randomInt, seededRng, shuffled } from '../../../src/rng.ts';

test('seededRng replays the same sequence for the same seed', () => {
  const a = seededRng(42);
  const b = seededRng(42);
  const c = seededRng(43);
  const seqA = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(
    seqA,
    Array.from({ length: 5 }, () => b.next()),
  );
  assert.notDeepEqual(
    seqA,
    Array.from({ length: 5 }, () => c.next()),
  );
  for (const x of seqA) assert.ok(x >= 0 && x < 1);
});

test('randomInt stays in [0, n) and covers it', () => {
  const rng = seededRng(1);
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) {
    const v = randomInt(rng, 7);
    assert.ok(Number.isInteger(v) && v >= 0 && v < 7);
    seen.add(v);
  }
  assert.equal(seen.size, 7);
});

test('jitter stays within ±fraction', () => {
  const rng = seededRng(7);
  for (let i = 0; i < 1000; i++) {
    const v = jitter(rng, 1000, 0.1);
    assert.ok(v >= 900 && v <= 1100, String(v));
  }
});

test('shuffled is a permutation and leaves its input alone', () => {
  const input = [1, 2, 3, 4, 5, 6];
  const out = shuffled(seededRng(3), input);
  assert.deepEqual(input, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...out].sort(), input);
});
