/**
 * Frozen views of a map's records (a record plus what the ACL says about it), in the map's
 * order, made once per record change instead of once per snapshot: a node with 100,000 known
 * points rebuilt every view at every snapshot, ~280 ms, twice per maintenance cycle
 * (bench/maintenance). Records are immutable, so a view stays right until its record changes,
 * the ACL changes (`invalidate`), or a block it shows ends (`expiresAt`).
 *
 * The owner calls `set` / `delete` right after changing its map, so that both keep one order.
 */
export class ViewCache<K, R, V> {
  /** Every key of the map, in its order; undefined: the view is to be made. */
  readonly #views = new Map<K, V | undefined>();
  readonly #make: (record: R) => V;
  readonly #expiresAt: (view: V) => number | undefined;
  #list: readonly V[] | undefined;
  #stale = false;
  /** Keys whose view shows something that ends, and the first such end. */
  #expiring = new Set<K>();
  #validUntil = Number.POSITIVE_INFINITY;

  constructor(make: (record: R) => V, expiresAt: (view: V) => number | undefined) {
    this.#make = make;
    this.#expiresAt = expiresAt;
  }

  /** The record of `key` was added or replaced. */
  set(key: K): void {
    this.#views.set(key, undefined);
    this.#list = undefined;
  }

  /** The record of `key` was removed. */
  delete(key: K): void {
    this.#views.delete(key);
    this.#list = undefined;
  }

  /** Every view is to be made again (what the views add to the records changed). */
  invalidate(): void {
    this.#stale = true;
    this.#list = undefined;
  }

  /** The view of one record of `records`, or undefined when it has none. */
  get(records: ReadonlyMap<K, R>, key: K, nowMs: number): V | undefined {
    this.#refresh(nowMs);
    const record = records.get(key);
    if (record === undefined) return undefined;
    return this.#views.get(key) ?? this.#remake(key, record);
  }

  /** Every view, in the map's order (the same frozen list until something changes). */
  list(records: ReadonlyMap<K, R>, nowMs: number): readonly V[] {
    this.#refresh(nowMs);
    if (this.#list !== undefined) return this.#list;
    const list: V[] = [];
    for (const [key, view] of this.#views) {
      if (view !== undefined) list.push(view);
      else {
        const record = records.get(key);
        if (record !== undefined) list.push(this.#remake(key, record));
      }
    }
    this.#list = Object.freeze(list);
    return this.#list;
  }

  #refresh(nowMs: number): void {
    if (this.#stale) {
      this.#stale = false;
      for (const key of this.#views.keys()) this.#views.set(key, undefined);
      this.#forgetExpiring();
    } else if (nowMs >= this.#validUntil) {
      for (const key of this.#expiring) if (this.#views.has(key)) this.#views.set(key, undefined);
      this.#forgetExpiring();
    }
  }

  #forgetExpiring(): void {
    this.#expiring = new Set();
    this.#validUntil = Number.POSITIVE_INFINITY;
    this.#list = undefined;
  }

  #remake(key: K, record: R): V {
    const view = this.#make(record);
    this.#views.set(key, view);
    const until = this.#expiresAt(view);
    if (until !== undefined) {
      this.#expiring.add(key);
      if (until < this.#validUntil) this.#validUntil = until;
    }
    return view;
  }
}
