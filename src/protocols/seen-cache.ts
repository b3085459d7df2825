import type { Clock } from '../clock.ts';

/**
 * Recently seen things, bounded in entries, in age and (optionally) in weight (DESIGN §3 Gossip:
 * the seen-cache that makes each message delivered once per node, and the payload store that
 * answers requests). Entries leave in insertion order — the oldest when a bound is hit, every
 * entry whose age reached `ttlMs` on the next operation — so each operation is O(1) amortised.
 *
 * An entry added at time `t` is present while `now < t + ttlMs` and gone from `t + ttlMs` on.
 * Re-adding a present key changes nothing (its age still counts from the first add): an echo
 * cannot keep a message alive forever.
 */
export interface AgedMapOptions<V> {
  clock: Clock;
  /** Most entries held; adding to a full map evicts the oldest. */
  maxEntries: number;
  /** Age at which an entry is forgotten, in milliseconds. */
  ttlMs: number;
  /** Most total weight held (default: unbounded); adding over it evicts the oldest entries. */
  maxWeight?: number;
  /** Weight of one value (default 0). */
  weight?: (value: V) => number;
}

interface Entry<V> {
  value: V;
  addedAt: number;
  weight: number;
}

/** A FIFO: an array with a moving head, compacted when the head passes half of it (O(1) amortised). */
export class Fifo<T> {
  #items: T[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  peek(): T | undefined {
    return this.length === 0 ? undefined : this.#items[this.#head];
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.#items[this.#head] as T;
    this.#head += 1;
    if (this.#head === this.#items.length) {
      this.clear();
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Empties the queue; returns how many items it held. */
  clear(): number {
    const length = this.length;
    this.#items = [];
    this.#head = 0;
    return length;
  }
}

/** A map whose entries expire by age and are evicted oldest first (see the module comment). */
export class AgedMap<V> {
  readonly #clock: Clock;
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #maxWeight: number;
  readonly #weightOf: (value: V) => number;
  readonly #entries = new Map<string, Entry<V>>();
  /** Every key of `#entries` exactly once, oldest first. */
  readonly #order = new Fifo<string>();
  #weight = 0;

  constructor(opts: AgedMapOptions<V>) {
    if (!Number.isInteger(opts.maxEntries) || opts.maxEntries < 1) {
      throw new RangeError(`maxEntries ${opts.maxEntries} must be a positive integer`);
    }
    if (!(opts.ttlMs > 0)) throw new RangeError(`ttlMs ${opts.ttlMs} must be positive`);
    this.#clock = opts.clock;
    this.#maxEntries = opts.maxEntries;
    this.#ttlMs = opts.ttlMs;
    this.#maxWeight = opts.maxWeight ?? Number.POSITIVE_INFINITY;
    this.#weightOf = opts.weight ?? (() => 0);
  }

  /** Entries present now. */
  get size(): number {
    this.#expire();
    return this.#entries.size;
  }

  /** Total weight of the entries present now. */
  get weight(): number {
    this.#expire();
    return this.#weight;
  }

  has(key: string): boolean {
    this.#expire();
    return this.#entries.has(key);
  }

  get(key: string): V | undefined {
    this.#expire();
    return this.#entries.get(key)?.value;
  }

  /**
   * Adds `key` unless it is present; true if it was added. A value heavier than `maxWeight` on
   * its own is not kept (false).
   */
  add(key: string, value: V): boolean {
    this.#expire();
    if (this.#entries.has(key)) return false;
    const weight = this.#weightOf(value);
    if (weight > this.#maxWeight) return false;
    while (
      this.#entries.size >= this.#maxEntries ||
      (this.#entries.size > 0 && this.#weight + weight > this.#maxWeight)
    ) {
      this.#evictOldest();
    }
    this.#entries.set(key, { value, addedAt: this.#clock.now(), weight });
    this.#order.push(key);
    this.#weight += weight;
    return true;
  }

  /** Forgets every entry whose age reached the TTL. */
  #expire(): void {
    const now = this.#clock.now();
    for (;;) {
      const key = this.#order.peek();
      if (key === undefined) return;
      const entry = this.#entries.get(key);
      if (entry !== undefined && now - entry.addedAt < this.#ttlMs) return;
      this.#evictOldest();
    }
  }

  #evictOldest(): void {
    const key = this.#order.shift();
    if (key === undefined) return;
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#weight -= entry.weight;
  }
}

export interface SeenCacheOptions {
  clock: Clock;
  /** Most keys remembered (`gossip.seenCacheSize`). */
  capacity: number;
  /** How long a key is remembered (`gossip.seenTtl`), in milliseconds. */
  ttlMs: number;
}

/** The set of message ids seen recently: bounded in entries and age, oldest forgotten first. */
export class SeenCache {
  readonly #map: AgedMap<true>;

  constructor(opts: SeenCacheOptions) {
    this.#map = new AgedMap({ clock: opts.clock, maxEntries: opts.capacity, ttlMs: opts.ttlMs });
  }

  /** Keys remembered now. */
  get size(): number {
    return this.#map.size;
  }

  /** True while `key` is remembered. */
  has(key: string): boolean {
    return this.#map.has(key);
  }

  /** Remembers `key`; true if it was not remembered (first sighting), false for a repeat. */
  add(key: string): boolean {
    return this.#map.add(key, true);
  }
}
