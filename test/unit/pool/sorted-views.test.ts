import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SortedViews } from '../../../src/pool/sorted-views.ts';

interface Item {
  readonly rank: number;
}

const byRank = (a: Item, b: Item): number => a.rank - b.rank;

type Op = { op: 'make'; rank: number } | { op: 'drop'; index: number } | { op: 'list' | 'clear' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('make' as const), rank: fc.nat(20) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('drop' as const), index: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('list' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('clear' as const) }) },
);

test('property: the list is every view made and not dropped, sorted, ties in the order made', () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 200 }), (ops) => {
      const sorted = new SortedViews(byRank);
      let live: Item[] = []; // the model, in the order made
      for (const o of ops) {
        if (o.op === 'make') {
          const item = { rank: o.rank };
          sorted.made(item);
          live.push(item);
        } else if (o.op === 'drop' && live.length > 0) {
          const [item] = live.splice(o.index % live.length, 1);
          sorted.dropped(item as Item);
        } else if (o.op === 'clear') {
          sorted.clear();
          live = [];
        }
        if (o.op === 'list' || o.op === 'clear') {
          const list = sorted.list();
          // Array.prototype.sort is stable: equal ranks stay in the order made.
          assert.deepEqual(
            list.map((i) => live.indexOf(i)),
            [...live].sort(byRank).map((i) => live.indexOf(i)),
          );
        }
      }
    }),
  );
});

test('the same list is handed out until something changes, and a list handed out stays', () => {
  const sorted = new SortedViews(byRank);
  const a = { rank: 2 };
  sorted.made(a);
  sorted.made({ rank: 1 });
  const first = sorted.list();
  assert.equal(sorted.list(), first);
  sorted.dropped(a);
  const second = sorted.list();
  assert.notEqual(second, first);
  assert.deepEqual(first, [{ rank: 1 }, { rank: 2 }], 'a list handed out does not change');
  assert.deepEqual(second, [{ rank: 1 }]);
});
