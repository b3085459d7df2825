import type { Config } from '../config/types.ts';
import { jitter, type Rng } from '../rng.ts';

/**
 * Reconnection delays (DESIGN §4, Tezos' `Point_reconnection_config`). Pure: the caller
 * supplies the time, the failure count and the rng.
 */
export type ReconnectConfig = Config['pool']['reconnect'];

/** ±10 %: spreads the redials of many nodes that lost the same point at the same moment. */
export const backoffJitterFraction = 0.1;

/**
 * Failures beyond this count change nothing (1.2^200 already exceeds any cap); bounding it
 * keeps persisted counters small.
 */
export const maxCountedFailures = 10_000;

/**
 * The delay before the next dial after the `consecutiveFailures`-th failure in a row (1 for
 * the first): `initialMs · factor^(n−1)`, capped at `capMs`, then jittered by ±10 % and
 * capped again so that no delay ever exceeds `capMs`.
 */
export function failureDelayMs(
  config: ReconnectConfig,
  consecutiveFailures: number,
  rng: Rng,
): number {
  const n = Math.max(1, Math.min(consecutiveFailures, maxCountedFailures));
  const base = Math.min(config.initialMs * config.factor ** (n - 1), config.capMs);
  return Math.min(Math.round(jitter(rng, base, backoffJitterFraction)), config.capMs);
}

/** When the next dial is allowed after a failed dial or handshake at `nowMs`. */
export function nextDialAfterFailure(
  config: ReconnectConfig,
  consecutiveFailures: number,
  nowMs: number,
  rng: Rng,
): number {
  return nowMs + failureDelayMs(config, consecutiveFailures, rng);
}

/**
 * When the next dial is allowed after a *running* connection ended at `nowMs`: exactly
 * `afterDisconnectMs` later (Octez' `disconnection_delay`, not jittered), failures reset.
 */
export function nextDialAfterDisconnect(config: ReconnectConfig, nowMs: number): number {
  return nowMs + config.afterDisconnectMs;
}

/** True while a point may not be dialed yet (dialing is allowed from `nextDialAt` on). */
export function inBackoff(point: { readonly nextDialAt: number }, nowMs: number): boolean {
  return nowMs < point.nextDialAt;
}
