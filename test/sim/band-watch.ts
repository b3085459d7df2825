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
  readonly #outside = new Set<string>();
  /** When the last node entered the band, while all still are in it; undefined otherwise. */
  allInSince: number | undefined;
  /** The most nodes outside the band at once since the last `resetPeak`. */
  peakOutside = 0;

  /** Every node of `names` starts outside (no connection yet). */
  constructor(band: Band, now: () => number, names: Iterable<string>) {
    this.#band = band;
    this.#now = now;
    for (const name of names) this.#outside.add(name);
    this.#settle();
  }

  statusChanged(node: SimNode, _handle: PeerHandle, from: PeerStatus, to: PeerStatus): void {
    if (isEstablished(from) === isEstablished(to)) return;
    const count = node.worker.count();
    if (count >= this.#band.minThreshold && count <= this.#band.maxThreshold) {
      this.#outside.delete(node.name);
    } else {
      this.#outside.add(node.name);
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

  #settle(): void {
    if (this.#outside.size === 0) {
      this.allInSince ??= this.#now();
      return;
    }
    this.allInSince = undefined;
    this.peakOutside = Math.max(this.peakOutside, this.#outside.size);
  }
}
