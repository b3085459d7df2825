import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sinkCounter } from '../../../bench/wire/endpoint.ts';
import { blockSizes } from '../../../bench/wire/measure.ts';

test('blockSizes: whole numbers that add up to the total, at most one apart', () => {
  assert.deepEqual(blockSizes(500, 10), Array(10).fill(50));
  assert.deepEqual(blockSizes(23, 5), [5, 5, 5, 4, 4]);
  assert.deepEqual(blockSizes(3, 10), [1, 1, 1]);
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
