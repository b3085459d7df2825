import type { ConnectionBounds, Watermarks } from './types.ts';

/**
 * The maintenance band inside the connection bounds (Octez `make_maintenance_bounds`,
 * DESIGN §6). Triggers fire outside [minThreshold, maxThreshold]; a cycle then dials up to
 * minTarget or closes down to maxTarget, so the count lands well inside the band instead of
 * on its edge and does not flap.
 */
export interface Band {
  minThreshold: number;
  minTarget: number;
  maxTarget: number;
  maxThreshold: number;
}

/** The band of valid bounds; 10/50/100 → 23/36/68/84. */
export function makeBand(bounds: ConnectionBounds): Band {
  const stepMin = Math.floor((bounds.expected - bounds.min) / 3);
  const stepMax = Math.floor((bounds.max - bounds.expected) / 3);
  return {
    minThreshold: bounds.min + stepMin,
    minTarget: bounds.min + 2 * stepMin,
    maxTarget: bounds.max - 2 * stepMax,
    maxThreshold: bounds.max - stepMax,
  };
}

export type BoundsProblemCode =
  | 'not_an_integer'
  | 'min_below_one'
  | 'min_above_expected'
  | 'expected_above_max'
  | 'max_above_known_points'
  | 'max_above_known_peer_ids';

export interface BoundsProblem {
  code: BoundsProblemCode;
  /** The config key the problem is about, e.g. `connections.min`. */
  key: string;
  message: string;
}

/** The pool caps the bounds must fit under; omitted caps are not checked. */
export interface BoundsLimits {
  maxKnownPoints?: Watermarks;
  maxKnownPeerIds?: Watermarks;
}

const KEYS = ['min', 'expected', 'max'] as const;

/**
 * Every problem of `bounds`, all at once (empty when valid). Used at config load and by the
 * admin `SetBounds` handler, so both refuse the same things:
 * - each bound is a safe integer;
 * - min ≥ 1: a node that wants no connection is what private mode with no trusted point is for,
 *   and `/readyz` (established ≥ min) would be meaningless;
 * - min ≤ expected ≤ max, so that the band is ordered;
 * - max ≤ the low watermark of the known-points and known-peer-ids caps: the pool never evicts
 *   what is in use, so a max above the low watermark would make its GC unable to reach it.
 */
export function validateBounds(
  bounds: ConnectionBounds,
  limits: BoundsLimits = {},
): BoundsProblem[] {
  const notIntegers = KEYS.filter((key) => !Number.isSafeInteger(bounds[key]));
  if (notIntegers.length > 0) {
    return notIntegers.map((key) => ({
      code: 'not_an_integer',
      key: `connections.${key}`,
      message: `must be an integer, got ${String(bounds[key])}`,
    }));
  }
  const problems: BoundsProblem[] = [];
  const { min, expected, max } = bounds;
  if (min < 1) {
    problems.push({
      code: 'min_below_one',
      key: 'connections.min',
      message: `must be at least 1, got ${min}`,
    });
  }
  if (min > expected) {
    problems.push({
      code: 'min_above_expected',
      key: 'connections.min',
      message: `min (${min}) must not exceed expected (${expected})`,
    });
  }
  if (expected > max) {
    problems.push({
      code: 'expected_above_max',
      key: 'connections.expected',
      message: `expected (${expected}) must not exceed max (${max})`,
    });
  }
  checkCap(problems, max, limits.maxKnownPoints, 'max_above_known_points', 'pool.maxKnownPoints');
  checkCap(
    problems,
    max,
    limits.maxKnownPeerIds,
    'max_above_known_peer_ids',
    'pool.maxKnownPeerIds',
  );
  return problems;
}

function checkCap(
  problems: BoundsProblem[],
  max: number,
  cap: Watermarks | undefined,
  code: BoundsProblemCode,
  capKey: string,
): void {
  if (cap === undefined || max <= cap.low) return;
  problems.push({
    code,
    key: 'connections.max',
    message: `max (${max}) must not exceed the low watermark of ${capKey} (${cap.low})`,
  });
}
