import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sinkCounter } from '../../../bench/wire/endpoint.ts';
import { blockSizes, turnOrder } from '../../../bench/wire/measure.ts';

test('blockSizes: whole numbers that add up to the total, at most one apart', () => {
  assert.deepEqual(blockSizes(500, 10), Array(10).fill(50));
  assert.deepEqual(blockSizes(23, 5), [5, 5, 5, 4, 4]);
  assert.deepEqual(blockSizes(3, 10), [1, 1, 1]);
  assert.deepEqual(blockSizes(0, 10), []);
  for (const [total, blocks] of [
    [2000, 10],
    [531, 7],
    [1, 1],
  ] as const) {
    const sizes = blockSizes(total, blocks);
    assert.equal(
      sizes.reduce((a, b) => a + b, 0),
      total,
    );
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
  }
});

test('sinkCounter: one acknowledgement per block, whatever the chunking', () => {
  let acks = 0;
  const count = sinkCounter(10, () => acks++);
  count(4);
  count(5);
  assert.equal(acks, 0);
  count(1);
  assert.equal(acks, 1);
  count(25);
  assert.equal(acks, 3);
  count(5);
  assert.equal(acks, 4);
});

test('sinkCounter: a block size that is not a positive integer is refused', () => {
  for (const bad of [0, -1, 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => sinkCounter(bad, () => {}), RangeError);
  }
});

test('turnOrder: for two or three implementations, every round is a permutation, each goes first as often, and follows each other one as often', () => {
  for (const n of [2, 3]) {
    const rounds = 2 * n;
    const first = new Map<number, number>();
    const follows = new Map<string, number>();
    for (let round = 0; round < rounds; round++) {
      const order = Array.from({ length: n }, (_, turn) => turnOrder(round, turn, n));
      assert.deepEqual(
        [...order].sort((a, b) => a - b),
        Array.from({ length: n }, (_, i) => i),
      );
      first.set(order[0] as number, (first.get(order[0] as number) ?? 0) + 1);
      for (let t = 1; t < n; t++) {
        const pair = `${order[t - 1]}>${order[t]}`;
        follows.set(pair, (follows.get(pair) ?? 0) + 1);
      }
    }
    assert.deepEqual(new Set(first.values()), new Set([2]), `n=${n}: each first twice`);
    const counts = new Set(follows.values());
    assert.equal(follows.size, n * (n - 1), `n=${n}: every ordered pair occurs`);
    assert.equal(counts.size, 1, `n=${n}: every ordered pair occurs as often`);
  }
});
