import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../../src/clock.ts';
import { AgedMap, Fifo, SeenCache } from '../../../src/protocols/seen-cache.ts';

const TTL_MS = 600_000;

function cache(capacity = 3, clock = new FakeClock()) {
  return { clock, seen: new SeenCache({ clock, capacity, ttlMs: TTL_MS }) };
}

test('seen-cache: the first add is a first sighting, a repeat is not', () => {
  const { seen } = cache();
  assert.equal(seen.add('a'), true);
  assert.equal(seen.add('a'), false);
  assert.equal(seen.has('a'), true);
  assert.equal(seen.has('b'), false);
  assert.equal(seen.size, 1);
});

test('seen-cache: full at capacity, the next add evicts exactly the oldest', () => {
  const { seen } = cache(3);
  for (const key of ['a', 'b', 'c']) seen.add(key);
  assert.equal(seen.size, 3);
  assert.equal(seen.add('d'), true);
  assert.equal(seen.size, 3);
  assert.deepEqual(
    ['a', 'b', 'c', 'd'].map((k) => seen.has(k)),
    [false, true, true, true],
  );
  assert.equal(seen.add('a'), true, 'an evicted key is new again');
  assert.equal(seen.has('b'), false, 'and that evicted the next oldest');
});

test('seen-cache: a repeat does not refresh the entry, so it is still evicted in first-seen order', () => {
  const { seen } = cache(2);
  seen.add('a');
  seen.add('b');
  seen.add('a');
  seen.add('c');
  assert.equal(seen.has('a'), false);
  assert.equal(seen.has('b'), true);
});

test('seen-cache: an entry lives exactly ttlMs: present at ttl − 1 ms, gone at ttl', async () => {
  const { clock, seen } = cache();
  seen.add('a');
  await clock.advance(TTL_MS - 1);
  assert.equal(seen.has('a'), true);
  assert.equal(seen.add('a'), false, 'a repeat just before expiry is still a repeat');
  await clock.advance(1);
  assert.equal(seen.has('a'), false);
  assert.equal(seen.size, 0);
  assert.equal(seen.add('a'), true, 'after expiry the key is new again');
});

test('seen-cache: expiry is by each entry’s own age', async () => {
  const { clock, seen } = cache(10);
  seen.add('a');
  await clock.advance(1000);
  seen.add('b');
  await clock.advance(TTL_MS - 1000);
  assert.equal(seen.has('a'), false);
  assert.equal(seen.has('b'), true);
  await clock.advance(999);
  assert.equal(seen.has('b'), true);
  await clock.advance(1);
  assert.equal(seen.has('b'), false);
});

test('seen-cache: 100 000 entries at the default size stay bounded and fast', () => {
  const clock = new FakeClock();
  const seen = new SeenCache({ clock, capacity: 100_000, ttlMs: TTL_MS });
  const started = performance.now();
  for (let i = 0; i < 400_000; i++) seen.add(`k${i}`);
  const elapsedMs = performance.now() - started;
  assert.equal(seen.size, 100_000);
  assert.equal(seen.has('k299999'), false);
  assert.equal(seen.has('k300000'), true);
  assert.ok(elapsedMs < 2000, `400 000 adds took ${elapsedMs} ms`);
});

test('aged map: a weight bound evicts the oldest until the new value fits', () => {
  const clock = new FakeClock();
  const map = new AgedMap<string>({
    clock,
    maxEntries: 100,
    ttlMs: TTL_MS,
    maxWeight: 10,
    weight: (v) => v.length,
  });
  map.add('a', 'xxxx');
  map.add('b', 'xxxx');
  assert.equal(map.weight, 8);
  map.add('c', 'xxxx');
  assert.equal(map.get('a'), undefined);
  assert.equal(map.get('b'), 'xxxx');
  assert.equal(map.weight, 8);
  assert.equal(map.add('big', 'x'.repeat(11)), false, 'heavier than the bound alone: not kept');
  assert.equal(map.size, 2);
});

test('aged map: rejects bounds that cannot hold anything', () => {
  const clock = new FakeClock();
  assert.throws(() => new AgedMap({ clock, maxEntries: 0, ttlMs: 1 }), RangeError);
  assert.throws(() => new AgedMap({ clock, maxEntries: 1, ttlMs: 0 }), RangeError);
});

test('fifo: keeps order across compactions', () => {
  const fifo = new Fifo<number>();
  const out: number[] = [];
  for (let i = 0; i < 5000; i++) {
    fifo.push(i);
    if (i % 3 !== 0) out.push(fifo.shift() as number);
  }
  while (fifo.length > 0) out.push(fifo.shift() as number);
  assert.deepEqual(
    out,
    Array.from({ length: 5000 }, (_, i) => i),
  );
  assert.equal(fifo.shift(), undefined);
});
