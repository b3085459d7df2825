import type { PointSpec } from '../config/types.ts';
import {
  compareDialRank,
  dialRank,
  isTrustedTier,
  outcomeOf,
  type PointKey,
  type PointView,
  type PoolSnapshot,
  partitionPoint,
} from '../pool/index.ts';
import type { Rng } from '../rng.ts';
import type { Candidate, CandidateSelection, ExclusionReason, Exclusions } from './types.ts';

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
  if (has(ownAddresses, point.key)) return 'own_address';
  if (point.blocked !== undefined) return point.blocked.reason;
  if (exclusions.privateMode && !point.trusted) return 'not_trusted';
  if (point.state !== 'disconnected' || has(exclusions.connectedPoints, point.key)) return 'in_use';
  if (has(exclusions.dialing, point.key)) return 'dialing';
  if (isPeerConnected(point, exclusions.connectedPeers)) return 'peer_connected';
  if (has(exclusions.failedThisCycle, point.key)) return 'failed_this_cycle';
  if (now < point.nextDialAt) return 'backoff';
  return undefined;
}

/** An empty set is not asked: asking reads the key, for every known point, every cycle. */
function has(set: ReadonlySet<string> | undefined, key: string): boolean {
  return set !== undefined && set.size > 0 && set.has(key);
}

/** What `selectCandidates` looks at and returns. */
export interface SelectOptions {
  /** Only the first `limit` candidates (all by default): the same as the first of the whole order. */
  readonly limit?: number;
  /** Only trusted points are looked at (and counted in the exclusions). */
  readonly trustedOnly?: boolean;
}

/**
 * The points that may be dialed now, in dial order (`dialRank`: trusted first, then last
 * succeeded, never tried, churned, failed), points of equal rank in an order drawn from `rng`
 * (uniformly random, so a seed replays it). Also counts what each exclusion kept out of the
 * points looked at: all of them when candidates ran short of `limit`.
 *
 * The snapshot's points come ranked (the pool keeps the order across changes), so a plan reads
 * about `limit` points: reading all of a 100,000-point pool cost ~25 ms a cycle
 * (bench/maintenance).
 */
export function selectCandidates(
  snapshot: PoolSnapshot,
  exclusions: Exclusions,
  now: number,
  rng: Rng,
  opts: SelectOptions = {},
): CandidateSelection {
  const own = new Set(snapshot.ownAddresses);
  const excluded = emptyExclusionCounts();
  const dialable = (point: PointView): boolean => {
    const why = exclusionOf(point, own, exclusions, now);
    if (why !== undefined) excluded[why]++;
    return why === undefined;
  };
  const limit = opts.limit ?? Number.POSITIVE_INFINITY;
  const ranked = snapshot.pointsByDialRank;
  const chosen: PointView[] = [];
  for (let start = 0; start < ranked.length && chosen.length < limit; ) {
    const first = ranked[start] as PointView;
    if (opts.trustedOnly === true && !isTrustedTier(dialRank(first).tier)) break;
    const end = endOfRank(ranked, start);
    drawInto(chosen, ranked, start, end, limit - chosen.length, dialable, rng);
    start = end;
  }
  return { candidates: chosen.map(candidateOf), excluded };
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

/** The index after the last point of `ranked` ranked as `ranked[start]` (exponential search). */
function endOfRank(ranked: readonly PointView[], start: number): number {
  const first = ranked[start] as PointView;
  const same = (i: number): boolean => compareDialRank(first, ranked[i] as PointView) === 0;
  let low = start; // ranked[low] is of the rank
  let step = 1;
  while (low + step < ranked.length && same(low + step)) {
    low += step;
    step *= 2;
  }
  let high = Math.min(ranked.length, low + step); // ranked[high] is not, or the end
  while (high - low > 1) {
    const mid = (low + high) >>> 1;
    if (same(mid)) low = mid;
    else high = mid;
  }
  return high;
}

/**
 * Appends to `out`, in a uniformly random order, up to `wanted` points of `ranked[start, end)`
 * that are `dialable`. A group much larger than `wanted` (a fresh node's never-tried points) is
 * sampled: a draw hits a point not drawn before, kept if dialable, and each kept point is
 * uniform among the dialable ones left. Draws that keep missing (most of the group excluded)
 * give way to reading the rest of the group.
 */
function drawInto(
  out: PointView[],
  ranked: readonly PointView[],
  start: number,
  end: number,
  wanted: number,
  dialable: (point: PointView) => boolean,
  rng: Rng,
): void {
  const size = end - start;
  const drawn = new Set<number>();
  let need = wanted;
  if (size > 4 * wanted) {
    for (let tries = 4 * wanted + 16; tries > 0 && need > 0; tries--) {
      const i = start + Math.floor(rng.next() * size);
      if (drawn.has(i)) continue;
      drawn.add(i);
      const point = ranked[i] as PointView;
      if (dialable(point)) {
        out.push(point);
        need--;
      }
    }
    if (need === 0) return;
  }
  const rest: PointView[] = [];
  for (let i = start; i < end; i++) {
    const point = ranked[i] as PointView;
    if (!drawn.has(i) && dialable(point)) rest.push(point);
  }
  // The first `need` of a Fisher–Yates shuffle.
  for (let k = 0; k < rest.length && need > 0; k++, need--) {
    const j = k + Math.floor(rng.next() * (rest.length - k));
    const picked = rest[j] as PointView;
    rest[j] = rest[k] as PointView;
    out.push(picked);
  }
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
  const inBackoff = (point: PointView): boolean =>
    exclusionOf(point, own, exclusions, now) === 'backoff';
  if (which === 'trusted') {
    let earliest: number | undefined;
    for (const point of snapshot.pointsByDialRank) {
      if (!isTrustedTier(dialRank(point).tier)) break;
      if (inBackoff(point) && (earliest === undefined || point.nextDialAt < earliest))
        earliest = point.nextDialAt;
    }
    return earliest;
  }
  // Earliest first: the first in backoff, past the points whose backoff is over, is the answer.
  const byTime = snapshot.pointsByNextDialAt;
  for (let i = partitionPoint(byTime, (p) => p.nextDialAt > now); i < byTime.length; i++) {
    const point = byTime[i] as PointView;
    if (inBackoff(point)) return point.nextDialAt;
  }
  return undefined;
}

/**
 * The points being dialed (by anyone: the worker, an admin Connect), in `points` order. Kept as
 * long as the snapshot's list lives (a list handed out never changes, and the pool hands out
 * the same one until a point changes): reading 100,000 points costs ~3 ms (bench/maintenance).
 */
export function requestedPoints(snapshot: PoolSnapshot): readonly PointKey[] {
  if (snapshot.counts.requested === 0) return [];
  const { points } = snapshot;
  const known = requested.get(points);
  if (known !== undefined) return known;
  const keys = points.filter((p) => p.state === 'requested').map((p) => p.key);
  requested.set(points, keys);
  return keys;
}

const requested = new WeakMap<readonly PointView[], readonly PointKey[]>();

function candidateOf(point: PointView): Candidate {
  return {
    key: point.key,
    spec: specOf(point),
    trusted: point.trusted,
    reason: point.trusted ? 'trusted' : outcomeOf(point),
  };
}

function specOf(point: PointView): PointSpec {
  return point.expectedPeerId === undefined
    ? { host: point.host, port: point.port }
    : { host: point.host, port: point.port, peerId: point.expectedPeerId };
}

/** A dial to a peer we already have would only be refused with `already_connected`. */
function isPeerConnected(point: PointView, peers: ReadonlySet<string> | undefined): boolean {
  const pinned = point.expectedPeerId;
  const last = point.lastPeerId;
  return (pinned !== undefined && has(peers, pinned)) || (last !== undefined && has(peers, last));
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
