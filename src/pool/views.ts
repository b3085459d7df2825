import { SortedViews } from './sorted-views.ts';

/**
 * Frozen views of a map's records (a record plus what the ACL says about it), in the map's
 * order, made once per record change instead of once per snapshot: a node with 100,000 known
 * points rebuilt every view at every snapshot, ~280 ms, twice per maintenance cycle
 * (bench/maintenance). Records are immutable, so a view stays right until its record changes,
 * the ACL changes (`invalidate`), or a block it shows ends (`expiresAt`).
 *
 * The list, and the named `orders` (`sorted`), are updated with the views that changed rather
 * than read again from the map (`SortedViews`): walking 100,000 map entries after each point
 * change cost ~7 ms. The owner calls `set` / `delete` right after changing its map.
 */
export class ViewCache<K, R, V extends object, O extends string = never> {
  /** The view of every key of the map; undefined: to be made. */
  readonly #views = new Map<K, V | undefined>();
  /** The keys whose view is to be made. */
  #unmade = new Set<K>();
  /** Each key's place in the map's order: a key added again goes last, as in a Map. */
  readonly #places = new Map<K, number>();
  #nextPlace = 0;
  readonly #placeOfView = new WeakMap<V, number>();
  readonly #make: (record: R) => V;
  readonly #expiresAt: (view: V) => number | undefined;
  #stale = false;
  /** Keys whose view shows something that ends, and the first such end. */
  #expiring = new Set<K>();
  #validUntil = Number.POSITIVE_INFINITY;
  readonly #inMapOrder: SortedViews<V>;
  readonly #sorted: Readonly<Record<O, SortedViews<V>>>;
  /** Every `SortedViews` above, updated together. */
  readonly #all: readonly SortedViews<V>[];

  constructor(
    make: (record: R) => V,
    expiresAt: (view: V) => number | undefined,
    orders: Readonly<Record<O, (a: V, b: V) => number>>,
  ) {
    this.#make = make;
    this.#expiresAt = expiresAt;
    this.#inMapOrder = new SortedViews((a, b) => this.#placeOf(a) - this.#placeOf(b));
    const sorted = {} as Record<O, SortedViews<V>>;
    for (const name of Object.keys(orders) as O[]) sorted[name] = new SortedViews(orders[name]);
    this.#sorted = sorted;
    this.#all = [this.#inMapOrder, ...Object.values<SortedViews<V>>(sorted)];
  }

  /** The record of `key` was added or replaced. */
  set(key: K): void {
    this.#drop(key);
    this.#views.set(key, undefined);
    this.#unmade.add(key);
    if (!this.#places.has(key)) this.#places.set(key, this.#nextPlace++);
  }

  /** The record of `key` was removed. */
  delete(key: K): void {
    this.#drop(key);
    this.#views.delete(key);
    this.#unmade.delete(key);
    this.#places.delete(key);
  }

  /** Every view is to be made again (what the views add to the records changed). */
  invalidate(): void {
    this.#stale = true;
  }

  /** The view of one record of `records`, or undefined when it has none. */
  get(records: ReadonlyMap<K, R>, key: K, nowMs: number): V | undefined {
    this.#refresh(nowMs);
    const record = records.get(key);
    if (record === undefined) return undefined;
    return this.#views.get(key) ?? this.#remake(key, record);
  }

  /** Every view, in the map's order (the same list until something changes). */
  list(records: ReadonlyMap<K, R>, nowMs: number): readonly V[] {
    this.#makeAll(records, nowMs);
    return this.#inMapOrder.list();
  }

  /** Every view, in order `name` (the same list until something changes). */
  sorted(records: ReadonlyMap<K, R>, nowMs: number, name: O): readonly V[] {
    this.#makeAll(records, nowMs);
    return this.#sorted[name].list();
  }

  #makeAll(records: ReadonlyMap<K, R>, nowMs: number): void {
    this.#refresh(nowMs);
    for (const key of this.#unmade) {
      const record = records.get(key);
      if (record !== undefined) this.#remake(key, record);
    }
    this.#unmade.clear();
  }

  #refresh(nowMs: number): void {
    if (this.#stale) {
      this.#stale = false;
      for (const key of this.#views.keys()) this.#views.set(key, undefined);
      this.#unmade = new Set(this.#views.keys());
      for (const sorted of this.#all) sorted.clear();
      this.#forgetExpiring();
    } else if (nowMs >= this.#validUntil) {
      for (const key of this.#expiring) {
        if (!this.#views.has(key)) continue;
        this.#drop(key);
        this.#views.set(key, undefined);
        this.#unmade.add(key);
      }
      this.#forgetExpiring();
    }
  }

  #forgetExpiring(): void {
    this.#expiring = new Set();
    this.#validUntil = Number.POSITIVE_INFINITY;
  }

  /** The view of `key`, if made, leaves every order. */
  #drop(key: K): void {
    const view = this.#views.get(key);
    if (view !== undefined) for (const sorted of this.#all) sorted.dropped(view);
  }

  #placeOf(view: V): number {
    return this.#placeOfView.get(view) ?? 0;
  }

  #remake(key: K, record: R): V {
    const view = this.#make(record);
    this.#views.set(key, view);
    this.#unmade.delete(key);
    this.#placeOfView.set(view, this.#places.get(key) ?? 0);
    for (const sorted of this.#all) sorted.made(view);
    const until = this.#expiresAt(view);
    if (until !== undefined) {
      this.#expiring.add(key);
      if (until < this.#validUntil) this.#validUntil = until;
    }
    return view;
  }
}
