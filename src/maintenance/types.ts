import type { Band } from '../config/band.ts';
import type { PointSpec } from '../config/types.ts';
import type { PointKey, PointOutcome, PoolSnapshot } from '../pool/index.ts';
import type { Rng } from '../rng.ts';

/**
 * Why a maintenance cycle runs (DESIGN §6). `too_few` / `too_many` are raised by count changes
 * against the same thresholds the cycle acts on (see `triggerFor`).
 */
export type CycleMotive =
  | 'idle'
  | 'maintain_request'
  | 'too_few'
  | 'too_many'
  | 'bounds_changed'
  | 'trusted_missing';

export const cycleMotives: readonly CycleMotive[] = [
  'idle',
  'maintain_request',
  'too_few',
  'too_many',
  'bounds_changed',
  'trusted_missing',
];

/** One established (warm or hot) connection, as the worker hands it to the planner. */
export interface LiveConnection {
  readonly peerId: string;
  /** The point the peer is reached at (dialed or advertised), when known. */
  readonly point?: PointKey;
  readonly direction: 'inbound' | 'outbound';
  readonly status: 'warm' | 'hot';
  /** The peer or its point is trusted: never a victim. */
  readonly trusted: boolean;
  /** Epoch ms of the handshake. */
  readonly establishedAt: number;
  /**
   * It dialed us while below its band, admitted above our maxTarget for it: closed last, or
   * shedding would undo the admission.
   */
  readonly wanted?: boolean;
}

/** Everything a cycle's plan depends on; the plan is a pure function of it. */
export interface PlanInput {
  readonly band: Band;
  readonly snapshot: PoolSnapshot;
  /** Established peers now (warm + hot): their number is the count the band bounds. */
  readonly connections: readonly LiveConnection[];
  /** Points being dialed now (by this cycle or anyone else): not candidates, and counted as to come. */
  readonly dialing: ReadonlySet<PointKey>;
  /** Points whose dial failed during this cycle: not retried in it (Octez' `seen_points`). */
  readonly failedThisCycle: ReadonlySet<PointKey>;
  readonly privateMode: boolean;
  /** Why the cycle runs; carried into the plan for the cycle's log line and span. */
  readonly motive?: CycleMotive;
  readonly now: number;
  readonly rng: Rng;
  /** `maintenance.maxParallelDials`: reported in the plan, enforced by the worker. */
  readonly maxParallelDials: number;
}

/** What keeps a point out of the candidates (checked in this order; the first one counts). */
export type ExclusionReason =
  | 'own_address'
  | 'banned'
  | 'greylisted'
  | 'not_trusted'
  | 'in_use'
  | 'dialing'
  | 'peer_connected'
  | 'failed_this_cycle'
  | 'backoff';

export const exclusionReasons: readonly ExclusionReason[] = [
  'own_address',
  'banned',
  'greylisted',
  'not_trusted',
  'in_use',
  'dialing',
  'peer_connected',
  'failed_this_cycle',
  'backoff',
];

/** What, besides the pool's own view of each point, rules a point out. */
export interface Exclusions {
  /** Points of established connections (the pool may not have marked them running yet). */
  readonly connectedPoints?: ReadonlySet<PointKey>;
  /** Peer ids of established connections: a point pinned to or last seen with one is not dialed. */
  readonly connectedPeers?: ReadonlySet<string>;
  readonly dialing?: ReadonlySet<PointKey>;
  readonly failedThisCycle?: ReadonlySet<PointKey>;
  /** Only trusted points are candidates. */
  readonly privateMode: boolean;
}

/**
 * Why a candidate sits where it does in the dial order: trusted first, then points whose last
 * attempt succeeded (most recent first), then never-tried points, then points whose connection
 * the governor's churn closed (oldest churn first), then failed points (oldest failure first).
 */
export type CandidateReason = 'trusted' | PointOutcome;

/** A point to dial, with the reason it was chosen (for the dial's log line, span and metric). */
export interface Candidate {
  readonly key: PointKey;
  readonly spec: PointSpec;
  readonly trusted: boolean;
  readonly reason: CandidateReason;
}

/**
 * The candidates in dial order, and how many of the points looked at each exclusion kept out:
 * every point when candidates ran short, else those read before the last candidate was found.
 */
export interface CandidateSelection {
  readonly candidates: readonly Candidate[];
  readonly excluded: Readonly<Record<ExclusionReason, number>>;
}

/**
 * Why a connection was chosen to close before the others: its tier (warm before hot, inbound
 * before outbound). Within a tier the youngest connection goes first.
 */
export type VictimReason = 'warm_inbound' | 'warm_outbound' | 'hot_inbound' | 'hot_outbound';

export interface Victim {
  readonly peerId: string;
  readonly point?: PointKey;
  readonly reason: VictimReason;
}

/** Why a dial plan dials. */
export type DialPlanReason = 'too_few' | 'trusted_missing';

/** Why a cycle does nothing. */
export type NonePlanReason =
  /** The count is inside [minThreshold, maxThreshold] and no trusted point waits. */
  | 'in_band'
  /**
   * A trusted point waits but the count is at or above maxTarget: dialing it would leave the
   * band's target, so it waits for room.
   */
  | 'trusted_missing_no_room';

/** The decision of one cycle (DESIGN §6 "Plan"), with the reason it was taken. */
export type CyclePlan =
  | {
      readonly kind: 'dial';
      readonly reason: DialPlanReason;
      readonly motive?: CycleMotive;
      /** Established peers when the plan was made. */
      readonly count: number;
      /** In dial order; never more than `maxTarget − count` (dials in flight included). */
      readonly dials: readonly Candidate[];
      /** How many dials may be in flight at once (the worker's business to respect). */
      readonly maxParallel: number;
      /** How many more connections minTarget wanted than there were candidates (0: none). */
      readonly shortfall: number;
      /** Ask the network for more points: candidates ran out before minTarget (never in private mode). */
      readonly askForMore: boolean;
      /** Wait for a new point/peer before trying again: candidates ran out (private mode too). */
      readonly waitForMore: boolean;
      /**
       * How many of the points looked at each exclusion kept out (`CandidateSelection`; only
       * trusted points are looked at for trusted_missing).
       */
      readonly excluded: Readonly<Record<ExclusionReason, number>>;
    }
  | {
      readonly kind: 'close';
      readonly reason: 'too_many';
      readonly motive?: CycleMotive;
      readonly count: number;
      /** `count − maxTarget` victims, or fewer when only trusted connections are left. */
      readonly victims: readonly Victim[];
    }
  | {
      readonly kind: 'none';
      readonly reason: NonePlanReason;
      readonly motive?: CycleMotive;
      readonly count: number;
    };
