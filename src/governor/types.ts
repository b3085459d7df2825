import type { Rng } from '../rng.ts';

/** One established peer as the governor sees it (DESIGN §7). Times are epoch ms. */
export interface GovernorPeer {
  readonly peerId: string;
  readonly status: 'warm' | 'hot';
  /** Smoothed keep-alive RTT; absent until the first pong. */
  readonly rttSeconds?: number;
  /** Never demoted by the governor, never closed by churn. */
  readonly trusted: boolean;
  /** When the connection was established (churn spares young ones). */
  readonly establishedAt: number;
  /** After an error demotion: not promoted before this time (DESIGN §5). */
  readonly repromoteAt?: number;
  /** After a failed promotion: not promoted before this time. */
  readonly promotionBackoffUntil?: number;
  /** Demoted by churn: promoted only when no other warm peer can be, until this time. */
  readonly churnedUntil?: number;
}

/** What every pick is a function of. */
export interface GovernorInput {
  readonly peers: readonly GovernorPeer[];
  /** `peers.hotTarget`. */
  readonly hotTarget: number;
  readonly now: number;
  readonly rng: Rng;
}

/** Why a pick was made: a small fixed set (a metric label, a log field, a span attribute). */
export type GovernorReason = 'below_target' | 'above_target' | 'churn';

/** One action for the driver to apply through PeerStateActions. */
export interface GovernorDecision {
  readonly peerId: string;
  /** promote: warm → hot; demote: hot → warm; close: warm → cold. */
  readonly action: 'promote' | 'demote' | 'close';
  readonly reason: GovernorReason;
  /** The RTT the pick was ordered by, when known (for the log line). */
  readonly rttSeconds?: number;
}

/** A churn round: hot peers to demote and warm peers to close. */
export interface ChurnPicks {
  readonly demotions: readonly GovernorDecision[];
  readonly closes: readonly GovernorDecision[];
}

/** Why a warm peer may not be promoted now. */
export type PromotionHold = 'repromote_delay' | 'promotion_backoff';
