import type { PointSpec } from '../config/types.ts';
import type { PointKey, PointView, PoolSnapshot } from '../pool/index.ts';
import type { Rng } from '../rng.ts';
import { Smallest } from './smallest.ts';
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
 * The points that may be dialed now, in dial order: trusted first (Octez gives them no
 * priority); then points whose last attempt succeeded, most recent first; then never-tried
 * points; then points whose connection the governor's churn closed, oldest churn first (churn
 * explores: re-dialing them first would undo it); then failed points, oldest failure first
 * (Octez' rule); equal keys in an order drawn
 * from `rng`, so a seed replays the same order. Also counts what each exclusion kept out.
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
  // One pass, keeping only the first `limit`: a cycle dials a few hundred points at most, and
  // ordering all of a 100,000-point pool cost ~70 ms a cycle (bench/maintenance).
  const kept = new Smallest<Ranked>(opts.limit ?? Number.POSITIVE_INFINITY, before);
  const points = opts.trustedOnly === true ? pointsIndex(snapshot.points).trusted : snapshot.points;
  for (const point of points) {
    const why = exclusionOf(point, own, exclusions, now);
    if (why !== undefined) excluded[why]++;
    // A random draw per point breaks ties: equal keys come in a uniformly random order.
    else kept.offer({ point, tier: tierOf(point), time: timeOf(point), tie: rng.next() });
  }
  return { candidates: kept.sorted().map((r) => candidateOf(r.point)), excluded };
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
  const points = which === 'trusted' ? pointsIndex(snapshot.points).trusted : snapshot.points;
  for (const point of points) {
    if (exclusionOf(point, own, exclusions, now) !== 'backoff') continue;
    if (earliest === undefined || point.nextDialAt < earliest) earliest = point.nextDialAt;
  }
  return earliest;
}

/** What the planner looks up in a snapshot without reading every point again. */
export interface PointsIndex {
  readonly trusted: readonly PointView[];
  /** Points being dialed (by anyone: the worker, an admin Connect). */
  readonly requested: readonly PointKey[];
}

/**
 * Indexes of a frozen `points` list are kept as long as the list lives: the pool hands out the
 * same list until a point changes, and reading 100,000 points costs ~3 ms, several times per
 * cycle (bench/maintenance). A list that may still change is read every time.
 */
const indexes = new WeakMap<readonly PointView[], PointsIndex>();

/** The trusted points and the points being dialed, in `points` order. */
export function pointsIndex(points: readonly PointView[]): PointsIndex {
  const known = indexes.get(points);
  if (known !== undefined) return known;
  const trusted: PointView[] = [];
  const requested: PointKey[] = [];
  for (const point of points) {
    if (point.trusted) trusted.push(point);
    if (point.state === 'requested') requested.push(point.key);
  }
  const index = { trusted, requested };
  if (Object.isFrozen(points)) indexes.set(points, index);
  return index;
}

/** The outcome class of a point's history (trust aside). */
export function outcomeOf(point: PointView): Exclude<CandidateReason, 'trusted'> {
  const success = point.lastSuccessAt;
  const failure = point.lastFailureAt;
  if (success !== undefined && (failure === undefined || failure < success)) {
    const churned = point.churnedAt;
    return churned !== undefined && churned >= success ? 'churned' : 'last_succeeded';
  }
  return failure === undefined ? 'never_tried' : 'oldest_failure';
}

const outcomeTier: Readonly<Record<Exclude<CandidateReason, 'trusted'>, number>> = {
  last_succeeded: 0,
  never_tried: 1,
  churned: 2,
  oldest_failure: 3,
};

interface Ranked {
  readonly point: PointView;
  /** Smaller dials first. */
  readonly tier: number;
  /** Within a tier, smaller dials first. */
  readonly time: number;
  /** Within equal times, smaller dials first (a random draw). */
  readonly tie: number;
}

function before(a: Ranked, b: Ranked): boolean {
  if (a.tier !== b.tier) return a.tier < b.tier;
  if (a.time !== b.time) return a.time < b.time;
  return a.tie < b.tie;
}

/** Trusted points keep the outcome order among themselves, ahead of every other point. */
function tierOf(point: PointView): number {
  return (point.trusted ? 0 : outcomeTiers) + outcomeTier[outcomeOf(point)];
}

const outcomeTiers = Object.keys(outcomeTier).length;

/** Most recent success first, oldest churn first, oldest failure first. */
function timeOf(point: PointView): number {
  switch (outcomeOf(point)) {
    case 'last_succeeded':
      return -(point.lastSuccessAt ?? 0);
    case 'churned':
      return point.churnedAt ?? 0;
    case 'oldest_failure':
      return point.lastFailureAt ?? 0;
    case 'never_tried':
      return 0;
  }
}

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
