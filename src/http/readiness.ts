import { exclusionOf } from '../maintenance/candidates.ts';
import type { PointView, PoolSnapshot } from '../pool/index.ts';

export interface Readiness {
  ready: boolean;
  /** One line for the `/readyz` body: why, with the numbers behind it. */
  reason: string;
}

export interface ReadinessInput {
  nowMs: number;
  startedAtMs: number;
  /** `http.readyGrace`: how long a starting node is ready on listening alone. */
  graceMs: number;
  /** Established peers (warm + hot): what `connections.min` counts. */
  established: number;
  min: number;
  snapshot: PoolSnapshot;
  /** Peer ids of the established connections. */
  connectedPeers: ReadonlySet<string>;
}

/**
 * `/readyz` (DESIGN §8). The caller is listening with its identity loaded (the HTTP server starts
 * after both). Within the start-up grace that is enough: nodes that bootstrap from each other
 * through a Service must be reachable before they have peers. After it, ready means established ≥
 * `connections.min`, or no usable point left — a node that knows nobody more to dial (the first
 * node of a network, or a network smaller than min) is waiting, not failing.
 */
export function readiness(input: ReadinessInput): Readiness {
  const { established, min } = input;
  const count = `${established} established, min ${min}`;
  const graceLeftMs = input.startedAtMs + input.graceMs - input.nowMs;
  if (graceLeftMs > 0) {
    return {
      ready: true,
      reason: `listening, identity loaded; start-up grace (${seconds(graceLeftMs)} left); ${count}`,
    };
  }
  if (established >= min) return { ready: true, reason: `${count}: min reached` };
  const usable = usablePoints(input.snapshot, input.connectedPeers, input.nowMs);
  if (usable === 0) {
    return {
      ready: true,
      reason: `${count}: below min, but no usable point known (waiting to be dialed)`,
    };
  }
  return {
    ready: false,
    reason: `${count}: below min after the start-up grace; ${usable} usable point${usable === 1 ? '' : 's'} known`,
  };
}

/**
 * Points that may still yield a new connection: dialable now, in backoff (dialed later), or being
 * dialed or accepted. Not: our own addresses, banned or greylisted points, untrusted points in
 * private mode, points already connected or whose peer is connected through another address.
 */
export function usablePoints(
  snapshot: PoolSnapshot,
  connectedPeers: ReadonlySet<string>,
  nowMs: number,
): number {
  const own = new Set(snapshot.ownAddresses);
  const exclusions = { connectedPeers, privateMode: snapshot.privateMode };
  let n = 0;
  for (const point of snapshot.points) if (isUsable(point, own, exclusions, nowMs)) n++;
  return n;
}

function isUsable(
  point: PointView,
  own: ReadonlySet<string>,
  exclusions: { connectedPeers: ReadonlySet<string>; privateMode: boolean },
  nowMs: number,
): boolean {
  const why = exclusionOf(point, own, exclusions, nowMs);
  switch (why) {
    case undefined:
    case 'backoff':
      return true;
    case 'in_use':
      // requested or accepted: a connection under way; running: already counted.
      return point.state !== 'running';
    default:
      return false;
  }
}

function seconds(ms: number): string {
  return `${Math.ceil(ms / 1000)} s`;
}
