import type { Band } from '../config/band.ts';
import type { Config } from '../config/types.ts';
import { jitter, type Rng } from '../rng.ts';
import { requestedPoints, selectCandidates } from './candidates.ts';
import type {
  Candidate,
  CyclePlan,
  DialPlanReason,
  ExclusionReason,
  Exclusions,
  NonePlanReason,
  PlanInput,
} from './types.ts';
import { chooseVictims } from './victims.ts';

export {
  emptyExclusionCounts,
  exclusionOf,
  nextDialAt,
  orderCandidates,
  selectCandidates,
} from './candidates.ts';
export type {
  Candidate,
  CandidateReason,
  CandidateSelection,
  CycleMotive,
  CyclePlan,
  DialPlanReason,
  ExclusionReason,
  Exclusions,
  LiveConnection,
  NonePlanReason,
  PlanInput,
  Victim,
  VictimReason,
} from './types.ts';
export { cycleMotives, exclusionReasons } from './types.ts';
export { chooseVictims, victimTier } from './victims.ts';

/**
 * The decision of one maintenance cycle (DESIGN §6 "Plan"), pure:
 * - above `maxThreshold`: close `count − maxTarget` connections (`chooseVictims`), never a
 *   trusted one;
 * - below `minThreshold`: dial up to `minTarget − count` candidates (`selectCandidates`, trusted
 *   first), never more than `maxTarget − count`; dials in flight count as connections to come.
 *   When candidates run out before `minTarget`, wait for more, and ask the network unless
 *   private (a private node asks nobody);
 * - otherwise, when a trusted point may be dialed (not connected, its backoff over), dial the
 *   trusted points, within `maxTarget − count` (DESIGN's fix: Octez only re-dials them below
 *   the band);
 * - otherwise nothing.
 * A cycle woken by too_few (or too_many) goes on to its target even once past the threshold:
 * the thresholds start the work, the targets end it. Otherwise a node would settle at
 * minThreshold because a few dials were refused, or at maxThreshold after racing inbounds.
 */
export function planCycle(input: PlanInput): CyclePlan {
  const { band, connections, rng } = input;
  const count = connections.length;
  const motive = input.motive === undefined ? {} : { motive: input.motive };
  if (count > band.maxThreshold || (input.motive === 'too_many' && count > band.maxTarget)) {
    const victims = chooseVictims(connections, count - band.maxTarget, rng);
    return { kind: 'close', reason: 'too_many', ...motive, count, victims };
  }
  const inFlight = dialsInFlight(input);
  const room = Math.max(0, band.maxTarget - count - inFlight);
  const below = count < band.minThreshold || (input.motive === 'too_few' && count < band.minTarget);
  const wanted = Math.max(0, band.minTarget - count - inFlight);
  // Only the candidates a plan may dial are ordered; in band only trusted points are.
  const { candidates, excluded } = selectCandidates(
    input.snapshot,
    exclusionsFor(input),
    input.now,
    rng,
    below ? { limit: Math.min(wanted, room) } : { limit: Math.max(1, room), trustedOnly: true },
  );
  if (below) {
    const shortfall = wanted - candidates.length;
    return dialPlan(input, 'too_few', count, candidates, shortfall, excluded);
  }
  if (candidates.length === 0) return nonePlan(input, 'in_band', count);
  if (room === 0) return nonePlan(input, 'trusted_missing_no_room', count);
  return dialPlan(input, 'trusted_missing', count, candidates, 0, excluded);
}

/**
 * The motive a change of the established count from `previousCount` to `count` raises:
 * `too_few` when it dropped below `minThreshold`, `too_many` when it rose above `maxThreshold`
 * — the thresholds the cycle acts on (Octez triggers on min/max_connections, so a drop to
 * between `min` and `minThreshold` waits for the 120 s idle timer). A rise while below the band
 * or a drop while above it is progress and raises nothing. Without `previousCount`, any count
 * outside the band raises its motive.
 */
export function triggerFor(
  count: number,
  band: Band,
  previousCount?: number,
): 'too_few' | 'too_many' | undefined {
  if (count < band.minThreshold && (previousCount === undefined || count < previousCount)) {
    return 'too_few';
  }
  if (count > band.maxThreshold && (previousCount === undefined || count > previousCount)) {
    return 'too_many';
  }
  return undefined;
}

/** ±10 %: nodes that ran out of points together do not ask together again. */
export const askForMoreJitterFraction = 0.1;

/**
 * How long to wait for a new point or peer after asking for more: the initial delay (5 s) the
 * first time (`previousDelayMs` undefined), then twice the previous step, up to the cap (5 min),
 * jittered by ±10 % and never above the cap (Octez waits a fixed 5 s, its issue #4602). The
 * previous delay may be a jittered one: it is snapped back to its nominal step first, so jitter
 * never accumulates. The caller resets to undefined when something new arrives.
 */
export function askForMoreDelay(
  previousDelayMs: number | undefined,
  config: Pick<Config['maintenance'], 'timeBetweenLookingForPeersMs'>,
  rng: Rng,
): number {
  const { initial, cap } = config.timeBetweenLookingForPeersMs;
  const first = Math.min(initial, cap);
  const nominal =
    previousDelayMs === undefined || !(previousDelayMs > 0) || !(first > 0)
      ? first
      : Math.min(cap, 2 * nominalStep(previousDelayMs, first, cap));
  return Math.max(0, Math.min(cap, Math.round(jitter(rng, nominal, askForMoreJitterFraction))));
}

/** The step `initial · 2^k` (capped) that a possibly jittered delay came from. */
function nominalStep(delayMs: number, initial: number, cap: number): number {
  // Steps are a factor 2 apart and jitter moves them by 10 %, so the nearest power is exact.
  const k = Math.max(0, Math.round(Math.log2(delayMs / initial)));
  return Math.min(cap, initial * 2 ** k);
}

/**
 * The exclusions a plan applies, from its input: the points and peers of live connections, the
 * dials in flight, the points failed this cycle, private mode. (For `nextDialAt`, so
 * that the worker's timer agrees with the planner.)
 */
export function exclusionsFor(
  input: Pick<PlanInput, 'connections' | 'dialing' | 'failedThisCycle' | 'privateMode'>,
): Exclusions {
  const connectedPoints = new Set<string>();
  const connectedPeers = new Set<string>();
  for (const c of input.connections) {
    connectedPeers.add(c.peerId);
    if (c.point !== undefined) connectedPoints.add(c.point);
  }
  return {
    connectedPoints,
    connectedPeers,
    dialing: input.dialing,
    failedThisCycle: input.failedThisCycle,
    privateMode: input.privateMode,
  };
}

/** Dials under way: the worker's own and any the pool shows as requested (e.g. an admin Connect). */
function dialsInFlight(input: PlanInput): number {
  const keys = new Set(input.dialing);
  for (const key of requestedPoints(input.snapshot)) keys.add(key);
  return keys.size;
}

function dialPlan(
  input: PlanInput,
  reason: DialPlanReason,
  count: number,
  dials: readonly Candidate[],
  shortfall: number,
  excluded: Readonly<Record<ExclusionReason, number>>,
): CyclePlan {
  const waitForMore = shortfall > 0;
  return {
    kind: 'dial',
    reason,
    ...(input.motive === undefined ? {} : { motive: input.motive }),
    count,
    dials,
    maxParallel: Math.max(1, Math.floor(input.maxParallelDials)),
    shortfall,
    askForMore: waitForMore && !input.privateMode,
    waitForMore,
    excluded,
  };
}

function nonePlan(input: PlanInput, reason: NonePlanReason, count: number): CyclePlan {
  return input.motive === undefined
    ? { kind: 'none', reason, count }
    : { kind: 'none', reason, motive: input.motive, count };
}
