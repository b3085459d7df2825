/**
 * The first `limit` items offered, under the strict total order `before`: what sorting them
 * all and keeping `limit` gives, in O(n log limit) time and O(limit) memory. A cycle dials a
 * few hundred points out of a pool that may hold 100,000 (bench/maintenance).
 */
export class Smallest<T> {
  readonly #limit: number;
  readonly #before: (a: T, b: T) => boolean;
  /** A max-heap: its root is the item a better one replaces. */
  readonly #heap: T[] = [];

  constructor(limit: number, before: (a: T, b: T) => boolean) {
    this.#limit = Math.max(0, Math.floor(limit));
    this.#before = before;
  }

  /** Keeps `item` if it is among the first `limit` offered so far. */
  offer(item: T): void {
    const heap = this.#heap;
    if (heap.length < this.#limit) {
      heap.push(item);
      this.#siftUp(heap.length - 1);
    } else if (heap.length > 0 && this.#before(item, heap[0] as T)) {
      heap[0] = item;
      this.#siftDown(0);
    }
  }

  /** The items kept, first first. */
  sorted(): T[] {
    const before = this.#before;
    return [...this.#heap].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
  }

  #siftUp(from: number): void {
    const heap = this.#heap;
    let i = from;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(heap[parent] as T, heap[i] as T)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #siftDown(from: number): void {
    const heap = this.#heap;
    let i = from;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let last = i;
      if (left < heap.length && this.#before(heap[last] as T, heap[left] as T)) last = left;
      if (right < heap.length && this.#before(heap[last] as T, heap[right] as T)) last = right;
      if (last === i) return;
      this.#swap(i, last);
      i = last;
    }
  }

  #swap(a: number, b: number): void {
    const heap = this.#heap;
    const t = heap[a] as T;
    heap[a] = heap[b] as T;
    heap[b] = t;
  }
}
