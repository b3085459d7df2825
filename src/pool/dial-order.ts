import type { PointView } from './pool.ts';

/**
 * The orders in which the maintenance planner reads known points (DESIGN §6 "candidate
 * order"), kept by the pool across changes (`SortedViews`) so that a plan reads the first few
 * hundred points instead of all of them.
 */

/** The class of a point's dial history, trust aside. */
export type PointOutcome = 'last_succeeded' | 'never_tried' | 'churned' | 'oldest_failure';

export function outcomeOf(point: PointView): PointOutcome {
  const success = point.lastSuccessAt;
  const failure = point.lastFailureAt;
  if (success !== undefined && (failure === undefined || failure < success)) {
    const churned = point.churnedAt;
    return churned !== undefined && churned >= success ? 'churned' : 'last_succeeded';
  }
  return failure === undefined ? 'never_tried' : 'oldest_failure';
}

const outcomeTier: Readonly<Record<PointOutcome, number>> = {
  last_succeeded: 0,
  never_tried: 1,
  churned: 2,
  oldest_failure: 3,
};

const outcomeTiers = Object.keys(outcomeTier).length;

/**
 * The rank of a point in dial order: trusted points first, keeping the outcome order among
 * themselves; then points whose last attempt succeeded, most recent first; never-tried
 * points; points whose connection the governor's churn closed, oldest churn first (churn
 * explores: re-dialing them first would undo it); failed points, oldest failure first (Octez'
 * rule). Points of equal rank are in no order: the planner draws theirs.
 */
export function dialRank(point: PointView): { tier: number; time: number } {
  const outcome = outcomeOf(point);
  return { tier: tierOf(point, outcome), time: timeOf(point, outcome) };
}

/** Whether `tier` holds trusted points (they come first). */
export function isTrustedTier(tier: number): boolean {
  return tier < outcomeTiers;
}

/** Dial order (`dialRank`): negative when `a` comes first, 0 for equal ranks. */
export function compareDialRank(a: PointView, b: PointView): number {
  // No `dialRank` objects: a sort of the whole pool compares ~2 million times.
  const oa = outcomeOf(a);
  const ob = outcomeOf(b);
  return tierOf(a, oa) - tierOf(b, ob) || timeOf(a, oa) - timeOf(b, ob);
}

/**
 * `compareDialRank`, equal ranks by key: a total order, so that the pool finds a point in a
 * sorted list by binary search alone (a fresh node's never-tried points all tie).
 */
export function compareDialOrder(a: PointView, b: PointView): number {
  return compareDialRank(a, b) || byKey(a, b);
}

/** Backoff order: the point that may be dialed first, first; equal times by key. */
export function compareNextDialAt(a: PointView, b: PointView): number {
  return a.nextDialAt - b.nextDialAt || byKey(a, b);
}

function byKey(a: PointView, b: PointView): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function tierOf(point: PointView, outcome: PointOutcome): number {
  return (point.trusted ? 0 : outcomeTiers) + outcomeTier[outcome];
}

function timeOf(point: PointView, outcome: PointOutcome): number {
  switch (outcome) {
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
