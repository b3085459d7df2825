import { type Rng, shuffled } from '../rng.ts';
import type {
  ChurnPicks,
  GovernorDecision,
  GovernorInput,
  GovernorPeer,
  GovernorReason,
  PromotionHold,
} from './types.ts';

/** Churn replaces this share of each set per round (Cardano: 20 %, at least one). */
export const churnFraction = 0.2;
/** Churn never touches a connection younger than this: it has not had time to prove itself. */
export const churnMinAgeMs = 10 * 60_000;
/** Cardano's bulk-sync churn fuzz: up to 60 s on top of the interval. */
export const churnFuzzMs = 60_000;
/** Cardano's failed-connection curve: 5 s, doubling, at most 2^5 times. */
export const promotionBackoffBaseMs = 5_000;
export const promotionBackoffMaxExponent = 5;
/** ±2 s on promotion backoffs and repromote delays (Cardano's `randomR (-2, 2)`). */
export const fuzzMs = 2_000;
/** Cardano's repromote delay after an error. */
export const repromoteBaseMs = 10_000;

/** Why `peer` may not be promoted at `now`, or undefined when it may. */
export function promotionHold(peer: GovernorPeer, now: number): PromotionHold | undefined {
  if (peer.repromoteAt !== undefined && now < peer.repromoteAt) return 'repromote_delay';
  if (peer.promotionBackoffUntil !== undefined && now < peer.promotionBackoffUntil) {
    return 'promotion_backoff';
  }
  return undefined;
}

/**
 * Warm peers to make hot when fewer than `hotTarget` are: at most `hotTarget − hot`, best
 * smoothed RTT first, unknown RTT last, equal RTTs in an order drawn from `rng` (Cardano picks
 * at random; we use the RTT we measure). A peer in its repromote delay or promotion backoff is
 * skipped. A peer churn demoted comes after every other one until its `churnedUntil`: its RTT is
 * usually still the best, so it would otherwise be promoted again at once and churn would
 * replace nothing (Cardano also keeps a demoted peer out of the hot set for a while). It is
 * not skipped outright, so that the hot target is still met when it is all there is.
 */
export function pickPromotions(input: GovernorInput): GovernorDecision[] {
  const need = Math.floor(input.hotTarget) - countHot(input.peers);
  if (need <= 0) return [];
  const ready = input.peers.filter(
    (p) => p.status === 'warm' && promotionHold(p, input.now) === undefined,
  );
  const churned = (p: GovernorPeer) => p.churnedUntil !== undefined && input.now < p.churnedUntil;
  const fresh = ready.filter((p) => !churned(p));
  const held = ready.filter(churned);
  return [...byRtt(fresh, 'best', input.rng), ...byRtt(held, 'best', input.rng)]
    .slice(0, need)
    .map((p) => decision(p, 'promote', 'below_target'));
}

/**
 * Hot peers to make warm when more than `hotTarget` are: `hot − hotTarget` at most, worst RTT
 * first (an unknown RTT counts as the worst: nothing says the peer is good), never a trusted one.
 */
export function pickDemotions(input: GovernorInput): GovernorDecision[] {
  const excess = countHot(input.peers) - Math.max(0, Math.floor(input.hotTarget));
  if (excess <= 0) return [];
  const candidates = input.peers.filter((p) => p.status === 'hot' && !p.trusted);
  return byRtt(candidates, 'worst', input.rng)
    .slice(0, excess)
    .map((p) => decision(p, 'demote', 'above_target'));
}

/**
 * One churn round (DESIGN §7), so the node keeps exploring: demote 20 % of the hot peers (at
 * least one) and close 20 % of the non-trusted warm peers (at least one), both in an order
 * drawn from `rng`, as Cardano's warm → cold policy. Not worst RTT first: promotion is best RTT
 * first, so demoting the worst would only ever rotate the last hot slot and the best peers would
 * stay hot for ever; random picks also keep churn from always dropping the far-away peers and
 * pulling the overlay into regional clusters. Never a trusted peer, never one connected for less
 * than 10 min; maintenance refills the band and the governor the hot set afterwards (the
 * demoted peers last: `churnedUntil`).
 */
export function pickChurn(input: GovernorInput): ChurnPicks {
  const { peers, now, rng } = input;
  const seasoned = (p: GovernorPeer) => !p.trusted && now - p.establishedAt >= churnMinAgeMs;
  const pick = (set: GovernorPeer[], action: 'demote' | 'close') =>
    shuffled(rng, set.filter(seasoned))
      .slice(0, churnCount(set.length))
      .map((p) => decision(p, action, 'churn'));
  const hot = peers.filter((p) => p.status === 'hot');
  const warmUntrusted = peers.filter((p) => p.status === 'warm' && !p.trusted);
  return { demotions: pick(hot, 'demote'), closes: pick(warmUntrusted, 'close') };
}

/** 20 % of `n`, at least one when there is one (Cardano's `decrease`). */
export function churnCount(n: number): number {
  return n <= 0 ? 0 : Math.max(1, Math.floor(n * churnFraction));
}

/**
 * How long a peer whose warm → hot promotion failed for the `failures`-th time in a row waits
 * before it is tried again: `5 s · 2^min(n−1, 5)` ± 2 s (5, 10, 20, 40, 80, 160 s, then 160 s).
 */
export function promotionBackoffMs(failures: number, rng: Rng): number {
  const n = Number.isFinite(failures) ? Math.max(1, Math.floor(failures)) : 1;
  const base = promotionBackoffBaseMs * 2 ** Math.min(n - 1, promotionBackoffMaxExponent);
  return Math.round(base + fuzz(rng));
}

/**
 * The wait before the next churn round: the interval plus up to 60 s (Cardano's bulk-sync
 * fuzz), so that nodes started together do not churn together. Undefined when churn is off
 * (`intervalMs` 0).
 */
export function churnDelayMs(intervalMs: number, rng: Rng): number | undefined {
  if (!(intervalMs > 0)) return undefined;
  return Math.round(intervalMs + rng.next() * churnFuzzMs);
}

/** The delay before a peer demoted by an error may be promoted again: 10 s ± 2 s. */
export function repromoteDelayMs(rng: Rng, baseMs: number = repromoteBaseMs): number {
  return Math.max(0, Math.round(baseMs + fuzz(rng)));
}

/**
 * The earliest time a warm peer now held back may be promoted (for the driver's next wake-up),
 * or undefined when none is held.
 */
export function nextPromotionAt(peers: readonly GovernorPeer[], now: number): number | undefined {
  let earliest: number | undefined;
  for (const p of peers) {
    if (p.status !== 'warm' || promotionHold(p, now) === undefined) continue;
    const at = Math.max(p.repromoteAt ?? now, p.promotionBackoffUntil ?? now);
    if (earliest === undefined || at < earliest) earliest = at;
  }
  return earliest;
}

function countHot(peers: readonly GovernorPeer[]): number {
  let n = 0;
  for (const p of peers) if (p.status === 'hot') n++;
  return n;
}

/** Sorted best or worst RTT first; unknown RTT counts as the worst; ties in `rng` order. */
function byRtt(peers: readonly GovernorPeer[], first: 'best' | 'worst', rng: Rng): GovernorPeer[] {
  const sign = first === 'best' ? 1 : -1;
  // Shuffle, then a stable sort: equal keys keep the shuffled order (the random tie-break).
  return shuffled(rng, peers).sort((a, b) => sign * (rttKey(a) - rttKey(b)));
}

function rttKey(peer: GovernorPeer): number {
  const rtt = peer.rttSeconds;
  return rtt === undefined || !Number.isFinite(rtt) ? Number.MAX_VALUE : rtt;
}

function decision(
  peer: GovernorPeer,
  action: GovernorDecision['action'],
  reason: GovernorReason,
): GovernorDecision {
  return peer.rttSeconds === undefined
    ? { peerId: peer.peerId, action, reason }
    : { peerId: peer.peerId, action, reason, rttSeconds: peer.rttSeconds };
}

/** Uniform in [−2 s, +2 s]. */
function fuzz(rng: Rng): number {
  return (2 * rng.next() - 1) * fuzzMs;
}
