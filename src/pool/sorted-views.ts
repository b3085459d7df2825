/**
 * A list of views kept in `compare` order across changes. The views made since the last list
 * are sorted alone and put in place, and the views replaced since are taken out: by binary
 * search and one copy for a few changes (`patched`), by one merge for many (`merged`) — where
 * sorting a 100,000-point pool again took tens of ms (bench/maintenance). A list handed out
 * does not change: a snapshot keeps it.
 */
export class SortedViews<V> {
  readonly #compare: (a: V, b: V) => number;
  #list: readonly V[] = [];
  /** Views made since `#list`, in no order. */
  #made: V[] = [];
  /** Views of `#list` (or `#made`) replaced since. */
  #dropped = new Set<V>();

  constructor(compare: (a: V, b: V) => number) {
    this.#compare = compare;
  }

  /** A view was made: it belongs in the next list. */
  made(view: V): void {
    this.#made.push(view);
  }

  /** A view was replaced, or its record removed: it leaves the next list. */
  dropped(view: V): void {
    this.#dropped.add(view);
  }

  /** Every view was dropped. */
  clear(): void {
    this.#list = [];
    this.#made = [];
    this.#dropped = new Set();
  }

  /**
   * Every view made and not dropped, in order. The same list until something changes; a list
   * handed out is never changed after (a new one is made), but not frozen either: V8 reads
   * and copies a frozen array of 100,000 items ~5× slower (bench/maintenance).
   */
  list(): readonly V[] {
    if (this.#made.length === 0 && this.#dropped.size === 0) return this.#list;
    const dropped = this.#dropped;
    const made = this.#made.filter((v) => !dropped.has(v)).sort(this.#compare);
    this.#list =
      made.length + dropped.size <= fewChanges
        ? patched(this.#list, dropped, made, this.#compare)
        : merged(this.#list, dropped, made, this.#compare);
    this.#made = [];
    this.#dropped = new Set();
    return this.#list;
  }
}

/** Up to this many changes, a list is copied and patched; past it, merged again. */
const fewChanges = 64;

/**
 * `list` without `dropped`, with `made` (sorted) inserted after the items they tie with. Views
 * keep their rank after they are replaced, so each change is found by binary search: O(log n)
 * compares a change, and one native copy of the list.
 */
function patched<V>(
  list: readonly V[],
  dropped: ReadonlySet<V>,
  made: readonly V[],
  compare: (a: V, b: V) => number,
): V[] {
  const cuts: { at: number; view?: V; order: number }[] = [];
  for (const view of dropped) {
    const at = indexOf(list, view, compare);
    if (at !== undefined) cuts.push({ at, order: -1 });
  }
  made.forEach((view, order) => {
    cuts.push({ at: upperBound(list, view, compare), view, order });
  });
  // From the end, so that indexes still hold; at one index, the removal first, then the
  // insertions last made first (each goes in front of the one before).
  const atOneIndex = (cut: { order: number }): number =>
    cut.order < 0 ? 0 : made.length - cut.order;
  cuts.sort((a, b) => b.at - a.at || atOneIndex(a) - atOneIndex(b));
  const out = list.slice();
  for (const cut of cuts) {
    if (cut.view === undefined) out.splice(cut.at, 1);
    else out.splice(cut.at, 0, cut.view);
  }
  return out;
}

/** The same as `patched`, reading every item once: for many changes. */
function merged<V>(
  list: readonly V[],
  dropped: ReadonlySet<V>,
  made: readonly V[],
  compare: (a: V, b: V) => number,
): V[] {
  const kept = dropped.size === 0 ? list : list.filter((v) => !dropped.has(v));
  if (kept.length === 0) return [...made];
  const out: V[] = [];
  let j = 0;
  for (const view of kept) {
    while (j < made.length && compare(made[j] as V, view) < 0) out.push(made[j++] as V);
    out.push(view);
  }
  while (j < made.length) out.push(made[j++] as V);
  return out;
}

/**
 * The first index of `list` whose item `isPast` (false for every item before it, true from it
 * on), by binary search.
 */
export function partitionPoint<V>(list: readonly V[], isPast: (item: V) => boolean): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (isPast(list[mid] as V)) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** The first index whose item comes after `item`. */
function upperBound<V>(list: readonly V[], item: V, compare: (a: V, b: V) => number): number {
  return partitionPoint(list, (x) => compare(x, item) > 0);
}

/** Where `item` itself is in `list`: among the items it ties with, found by identity. */
function indexOf<V>(
  list: readonly V[],
  item: V,
  compare: (a: V, b: V) => number,
): number | undefined {
  const end = upperBound(list, item, compare);
  for (let i = partitionPoint(list, (x) => compare(x, item) >= 0); i < end; i++)
    if (list[i] === item) return i;
  return undefined;
}
