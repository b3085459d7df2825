/**
 * The governor (DESIGN §7): which established peers are hot. Pure picks here; the driver
 * applies them through PeerStateActions.
 */
export {
  churnCount,
  churnDelayMs,
  churnFraction,
  churnFuzzMs,
  churnMinAgeMs,
  fuzzMs,
  nextPromotionAt,
  pickChurn,
  pickDemotions,
  pickPromotions,
  promotionBackoffBaseMs,
  promotionBackoffMaxExponent,
  promotionBackoffMs,
  promotionHold,
  repromoteBaseMs,
  repromoteDelayMs,
} from './picks.ts';
export type {
  ChurnPicks,
  GovernorDecision,
  GovernorInput,
  GovernorPeer,
  GovernorReason,
  PromotionHold,
} from './types.ts';
