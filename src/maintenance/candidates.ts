import type { PointSpec } from '../config/types.ts';
import type { PointView, PoolSnapshot } from '../pool/index.ts';
import { type Rng, shuffled } from '../rng.ts';
import type {
  Candidate,
  CandidateReason,
  CandidateSelection,
  ExclusionReason,
  Exclusions,
} from './types.ts';

/**
 * Why `point` may not be dialed at `now`, or undefined when it may. A trusted point obeys its
 * own backoff like any other; a ban beats trust (the operator said so).
 */
export function exclusionOf(
  point: PointView,
  ownAddresses: ReadonlySet<string>,
  exclusions: Exclusions,
  now: number,
): ExclusionReason | undefined {
  if (ownAddresses.has(point.key)) return 'own_address';
  if (point.blocked !== undefined) return point.blocked.reason;
  if (exclusions.privateMode && !point.trusted) return 'not_trusted';
  if (point.state !== 'disconnected' || exclusions.connectedPoints?.has(point.key) === true) {
    return 'in_use';
  }
  if (exclusions.dialing?.has(point.key) === true) return 'dialing';
  if (isPeerConnected(point, exclusions.connectedPeers)) return 'peer_connected';
  if (exclusions.failedThisCycle?.has(point.key) === true) return 'failed_this_cycle';
  if (now < point.nextDialAt) return 'backoff';
  return undefined;
}

/**
 * The points that may be dialed now, in dial order: trusted first (Octez gives them no
 * priority); then points whose last attempt succeeded, most recent first; then never-tried
 * points; then failed points, oldest failure first (Octez' rule); equal keys in an order drawn
 * from `rng`, so a seed replays the same order. Also counts what each exclusion kept out.
 */
export function selectCandidates(
  snapshot: PoolSnapshot,
  exclusions: Exclusions,
  now: number,
  rng: Rng,
): CandidateSelection {
  const own = new Set(snapshot.ownAddresses);
  const excluded = emptyExclusionCounts();
  const eligible: PointView[] = [];
  for (const point of snapshot.points) {
    const why = exclusionOf(point, own, exclusions, now);
    if (why === undefined) eligible.push(point);
    else excluded[why]++;
  }
  // Shuffle, then a stable sort: equal keys keep the shuffled order (the random tie-break).
  const ranked = shuffled(rng, eligible).map(rank);
  ranked.sort(compareRanked);
  return { candidates: ranked.map((r) => r.candidate), excluded };
}

/** The candidates of `selectCandidates`, without the exclusion counts. */
export function orderCandidates(
  snapshot: PoolSnapshot,
  exclusions: Exclusions,
  now: number,
  rng: Rng,
): Candidate[] {
  return [...selectCandidates(snapshot, exclusions, now, rng).candidates];
}

/**
 * When the next point now held back only by its backoff may be dialed (trusted points only, for
 * the worker's `trusted_missing` timer, or any point, for its retry after a short cycle), or
 * undefined when none is. Points excluded for any other reason (connected, its peer connected
 * elsewhere, banned, failed this cycle) are left out: waiting does not make them dialable, so a
 * timer on them would only spin.
 */
export function nextDialAt(
  snapshot: PoolSnapshot,
  exclusions: Exclusions,
  now: number,
  which: 'trusted' | 'any',
): number | undefined {
  const own = new Set(snapshot.ownAddresses);
  let earliest: number | undefined;
  for (const point of snapshot.points) {
    if (which === 'trusted' && !point.trusted) continue;
    if (exclusionOf(point, own, exclusions, now) !== 'backoff') continue;
    if (earliest === undefined || point.nextDialAt < earliest) earliest = point.nextDialAt;
  }
  return earliest;
}

/** The outcome class of a point's history (trust aside). */
export function outcomeOf(point: PointView): Exclude<CandidateReason, 'trusted'> {
  const success = point.lastSuccessAt;
  const failure = point.lastFailureAt;
  if (success !== undefined && (failure === undefined || failure < success)) {
    return 'last_succeeded';
  }
  return failure === undefined ? 'never_tried' : 'oldest_failure';
}

interface Ranked {
  readonly candidate: Candidate;
  readonly tier: number;
  /** Smaller dials first. */
  readonly time: number;
}

const outcomeTier: Readonly<Record<Exclude<CandidateReason, 'trusted'>, number>> = {
  last_succeeded: 0,
  never_tried: 1,
  oldest_failure: 2,
};

function rank(point: PointView): Ranked {
  const outcome = outcomeOf(point);
  // Trusted points keep the outcome order among themselves, ahead of every other point.
  const tier = (point.trusted ? 0 : 3) + outcomeTier[outcome];
  const time =
    outcome === 'last_succeeded'
      ? -(point.lastSuccessAt ?? 0)
      : outcome === 'oldest_failure'
        ? (point.lastFailureAt ?? 0)
        : 0;
  return {
    candidate: {
      key: point.key,
      spec: specOf(point),
      trusted: point.trusted,
      reason: point.trusted ? 'trusted' : outcome,
    },
    tier,
    time,
  };
}

function compareRanked(a: Ranked, b: Ranked): number {
  return a.tier - b.tier || a.time - b.time;
}

function specOf(point: PointView): PointSpec {
  return point.expectedPeerId === undefined
    ? { host: point.host, port: point.port }
    : { host: point.host, port: point.port, peerId: point.expectedPeerId };
}

/** A dial to a peer we already have would only be refused with `already_connected`. */
function isPeerConnected(point: PointView, peers: ReadonlySet<string> | undefined): boolean {
  if (peers === undefined || peers.size === 0) return false;
  const pinned = point.expectedPeerId;
  const last = point.lastPeerId;
  return (pinned !== undefined && peers.has(pinned)) || (last !== undefined && peers.has(last));
}

export function emptyExclusionCounts(): Record<ExclusionReason, number> {
  return {
    own_address: 0,
    banned: 0,
    greylisted: 0,
    not_trusted: 0,
    in_use: 0,
    dialing: 0,
    peer_connected: 0,
    failed_this_cycle: 0,
    backoff: 0,
  };
}
