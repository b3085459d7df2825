import type { Band } from '../../src/config/band.ts';
import type { PeerHandle } from '../../src/peers/handle.ts';
import { isEstablished, type PeerStatus } from '../../src/peers/status.ts';
import type { NodeObserver, SimNode } from './sim-node.ts';

/**
 * Whether every watched node has its established count inside the band
 * [minThreshold, maxThreshold], and since when — to the event, not to a polling step.
 */
export class BandWatch implements NodeObserver {
  readonly #band: Band;
  readonly #now: () => number;
  /** Nodes outside the band, with when they left it. */
  readonly #outside = new Map<string, number>();
  /** When the last node entered the band, while all still are in it; undefined otherwise. */
  allInSince: number | undefined;
  /** The most nodes outside the band at once since the last `resetPeak`. */
  peakOutside = 0;
  /** Nodes that left the band since the last `resetExcursions`, and the longest stay outside. */
  excursions = 0;
  #longestExcursionMs = 0;
  #excursionsSince = Number.POSITIVE_INFINITY;

  /** Every node of `names` starts outside (no connection yet). */
  constructor(band: Band, now: () => number, names: Iterable<string>) {
    this.#band = band;
    this.#now = now;
    for (const name of names) this.#outside.set(name, now());
    this.#settle();
  }

  statusChanged(node: SimNode, _handle: PeerHandle, from: PeerStatus, to: PeerStatus): void {
    if (isEstablished(from) === isEstablished(to)) return;
    const count = node.worker.count();
    const now = this.#now();
    const leftAt = this.#outside.get(node.name);
    if (count >= this.#band.minThreshold && count <= this.#band.maxThreshold) {
      if (leftAt === undefined) return;
      this.#outside.delete(node.name);
      this.#ended(leftAt, now);
    } else if (leftAt === undefined) {
      this.#outside.set(node.name, now);
      if (now >= this.#excursionsSince) this.excursions++;
    }
    this.#settle();
  }

  /** A killed node is no longer watched. */
  forget(name: string): void {
    this.#outside.delete(name);
    this.#settle();
  }

  resetPeak(): void {
    this.peakOutside = this.#outside.size;
  }

  /** Counts excursions out of the band from now on (nodes outside now are not counted). */
  resetExcursions(): void {
    this.excursions = 0;
    this.#longestExcursionMs = 0;
    this.#excursionsSince = this.#now();
  }

  /** The longest time a node spent outside the band since `resetExcursions`, to this instant. */
  longestExcursionMs(): number {
    const now = this.#now();
    let longest = this.#longestExcursionMs;
    for (const leftAt of this.#outside.values()) {
      if (leftAt >= this.#excursionsSince) longest = Math.max(longest, now - leftAt);
    }
    return longest;
  }

  #ended(leftAt: number, now: number): void {
    if (leftAt >= this.#excursionsSince) {
      this.#longestExcursionMs = Math.max(this.#longestExcursionMs, now - leftAt);
    }
  }

  #settle(): void {
    if (this.#outside.size === 0) {
      this.allInSince ??= this.#now();
      return;
    }
    this.allInSince = undefined;
    this.peakOutside = Math.max(this.peakOutside, this.#outside.size);
  }
}
