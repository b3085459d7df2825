import type { Clock } from '../clock.ts';
import type { Band } from '../config/band.ts';
import type { ConnectionBounds, Watermarks } from '../config/types.ts';
import type { CycleSummary } from '../maintenance/worker.ts';
import type { PeerHandle } from '../peers/handle.ts';
import type { PeerStatus } from '../peers/status.ts';
import type { BanTarget } from '../pool/index.ts';
import type { PointKey } from '../pool/point-key.ts';
import type { Direction } from '../telemetry/metrics.ts';

/** What the governor and the pool keep, as SetTargets changes them. */
export interface NodeTargets {
  hotTarget: number;
  maxKnownPoints: Watermarks;
  maxKnownPeerIds: Watermarks;
}

export type TrustTarget =
  | { readonly kind: 'peer'; readonly peerId: string }
  | { readonly kind: 'point'; readonly point: PointKey };

/** What WatchEvents streams, before it becomes a protobuf message. */
export type NodeEventBody =
  | {
      readonly kind: 'status_change';
      readonly peerId: string;
      readonly from: PeerStatus;
      readonly to: PeerStatus;
      readonly direction: Direction;
      readonly address?: string;
    }
  | { readonly kind: 'cycle'; readonly summary: CycleSummary }
  | { readonly kind: 'bounds_change'; readonly bounds: ConnectionBounds; readonly band: Band }
  | {
      readonly kind: 'ban';
      readonly action: 'ban' | 'unban' | 'greylist';
      readonly target: BanTarget;
      readonly untilMs?: number;
      readonly reason?: string;
    }
  | { readonly kind: 'trust'; readonly trusted: boolean; readonly target: TrustTarget }
  | { readonly kind: 'targets_change'; readonly targets: NodeTargets };

export type NodeEvent = NodeEventBody & { readonly atMs: number };
export type NodeEventKind = NodeEvent['kind'];

export const nodeEventKinds: readonly NodeEventKind[] = [
  'status_change',
  'cycle',
  'bounds_change',
  'ban',
  'trust',
  'targets_change',
];

export type NodeEventListener = (event: NodeEvent) => void;

/**
 * The node's event hub: components report, watchers (the admin WatchEvents streams) listen.
 * `emit` is synchronous and cheap, and a listener's failure never reaches the reporter: the
 * node is never slowed or broken by whoever watches it.
 */
export class NodeEvents {
  readonly #clock: Clock;
  readonly #listeners = new Set<NodeEventListener>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  /** Subscribes; returns the unsubscribe function. */
  on(listener: NodeEventListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  emit(body: NodeEventBody): void {
    if (this.#listeners.size === 0) return;
    const event: NodeEvent = { ...body, atMs: this.#clock.now() };
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // A watcher's bug must not break the component reporting the event.
      }
    }
  }

  /** For PeerStateActions' `onStatusChange`. */
  statusChanged(handle: PeerHandle, from: PeerStatus, to: PeerStatus): void {
    if (this.#listeners.size === 0) return;
    const address = handle.connection.point;
    this.emit({
      kind: 'status_change',
      peerId: handle.peerId,
      from,
      to,
      direction: handle.direction,
      ...(address === undefined ? {} : { address }),
    });
  }

  /** For the maintenance worker's `onCycle`. */
  cycle(summary: CycleSummary): void {
    this.emit({ kind: 'cycle', summary });
  }
}
