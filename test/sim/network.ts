import type { PointSpec } from '../../src/config/types.ts';
import { pointKeyOf } from '../../src/pool/index.ts';
import type { Rng } from '../../src/rng.ts';
import type { SimTransport, Switchboard } from './sim-transport.ts';

/** The shortest round trip (same rack) and how much a full span of the map adds. */
const BASE_RTT_MS = 4;
const SPAN_RTT_MS = 160;

/**
 * The simulated internet: who listens at which address, and how far apart hosts are. Each host
 * gets a place on a unit square; a link's round trip grows with the distance, so the governor
 * has real differences to rank peers by (from 4 ms up to ~230 ms).
 */
export class SimNetwork implements Switchboard {
  readonly #listeners = new Map<string, SimTransport>();
  readonly #places = new Map<string, { x: number; y: number }>();
  readonly #rng: Rng;
  /** Handshake outcomes: `accepted`, each refusal reason, each dial failure code. */
  readonly outcomes = new Map<string, number>();

  constructor(rng: Rng) {
    this.#rng = rng;
  }

  /** `transport` answers at its address from now on (a restarted node replaces its old self). */
  attach(transport: SimTransport): void {
    this.#listeners.set(`${transport.host}:${transport.port}`, transport);
    if (!this.#places.has(transport.host)) {
      this.#places.set(transport.host, { x: this.#rng.next(), y: this.#rng.next() });
    }
  }

  listener(point: PointSpec): SimTransport | undefined {
    const key = pointKeyOf(point);
    return key === undefined ? undefined : this.#listeners.get(key);
  }

  rttMs(a: SimTransport, b: SimTransport): number {
    const p = this.#places.get(a.host);
    const q = this.#places.get(b.host);
    if (p === undefined || q === undefined) return BASE_RTT_MS;
    return BASE_RTT_MS + SPAN_RTT_MS * Math.hypot(p.x - q.x, p.y - q.y);
  }

  record(outcome: string): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
  }
}
