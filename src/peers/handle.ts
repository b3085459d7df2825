import type { Direction } from '../telemetry/metrics.ts';
import type { Connection } from '../wire/connection.ts';
import type { MiniProtocolRun, PeerContext, Temperature } from './bundles.ts';
import type { PeerStatus } from './status.ts';

/** The first mini-protocol to finish on its own, as `monitor` reports it (FirstToFinishResult). */
export interface FirstToFinishResult {
  temperature: Temperature;
  protocol: string;
  outcome: 'returned' | 'error';
  error?: unknown;
}

export interface RunningProtocol {
  readonly name: string;
  readonly temperature: Temperature;
  readonly run: MiniProtocolRun;
  /** Set when we asked it to stop: its ending is then expected, not a monitoring event. */
  stopRequested: boolean;
  /** Settles (never rejects) when the run has finished either way. */
  readonly finished: Promise<void>;
}

/** Smoothing of keep-alive RTT, as TCP's SRTT (RFC 6298: α = 1/8). */
const RTT_ALPHA = 0.125;

/**
 * One connection as a peer (Cardano's PeerConnectionHandle): its status, its running
 * mini-protocol clients and what monitoring saw. Mutated only by PeerStateActions.
 */
export class PeerHandle implements PeerContext {
  readonly connection: Connection;
  status: PeerStatus = 'cold';
  /** An action in flight; `close` may overtake the others, nothing overtakes `close`. */
  busy: 'activating' | 'deactivating' | 'closing' | undefined;
  readonly running = new Map<string, RunningProtocol>();
  lastResult: FirstToFinishResult | undefined;
  #rttSeconds: number | undefined;
  /** Resolves when the peer is cold again. */
  readonly cold: Promise<void>;
  markCold: () => void = () => {};
  readonly #onRtt: (rttSeconds: number) => void;

  constructor(connection: Connection, onRtt: (rttSeconds: number) => void = () => {}) {
    this.connection = connection;
    this.#onRtt = onRtt;
    this.cold = new Promise((resolve) => {
      this.markCold = resolve;
    });
  }

  get peerId(): string {
    return this.connection.peerId;
  }

  get direction(): Direction {
    return this.connection.direction;
  }

  get establishedAt(): number {
    return this.connection.establishedAt;
  }

  /** Smoothed keep-alive round trip, undefined until the first pong. */
  get rttSeconds(): number | undefined {
    return this.#rttSeconds;
  }

  observeRtt(rttSeconds: number): void {
    this.#onRtt(rttSeconds);
    this.#rttSeconds =
      this.#rttSeconds === undefined
        ? rttSeconds
        : this.#rttSeconds + RTT_ALPHA * (rttSeconds - this.#rttSeconds);
  }

  protocols(temperature?: Temperature): RunningProtocol[] {
    return [...this.running.values()].filter(
      (p) => temperature === undefined || p.temperature === temperature,
    );
  }
}
