import { err, ok, type Result } from './result.ts';
import type { ConnectionBounds, Watermarks } from './types.ts';

/** What `--connections N` sets (Octez' shorthand, DESIGN §6). */
export interface ConnectionsDerivation {
  bounds: ConnectionBounds;
  maxKnownPoints: Watermarks;
  maxKnownPeerIds: Watermarks;
}

/** Octez refuses N > 100; meshkeeper allows bigger nodes. */
export const MAX_CONNECTIONS_SHORTHAND = 1000;

export interface ConnectionsError {
  code: 'not_an_integer' | 'out_of_range';
  message: string;
}

/**
 * min = N/2 (1 when N = 1), expected = N, max = 3N/2 with integer division, and the pool
 * caps (8N, 6N) so that a big N does not starve on the default 400/300 known points.
 * Accepts a number or a decimal string (from a flag or the environment). Never throws.
 */
export function deriveConnections(input: unknown): Result<ConnectionsDerivation, ConnectionsError> {
  const n = toInteger(input);
  if (n === undefined) {
    return err({
      code: 'not_an_integer',
      message: `must be a whole number from 1 to ${MAX_CONNECTIONS_SHORTHAND}`,
    });
  }
  if (n < 1 || n > MAX_CONNECTIONS_SHORTHAND) {
    return err({
      code: 'out_of_range',
      message: `must be from 1 to ${MAX_CONNECTIONS_SHORTHAND}, got ${n}`,
    });
  }
  return ok({
    bounds: { min: Math.max(1, Math.floor(n / 2)), expected: n, max: Math.floor((3 * n) / 2) },
    maxKnownPoints: { high: 8 * n, low: 6 * n },
    maxKnownPeerIds: { high: 8 * n, low: 6 * n },
  });
}

function toInteger(input: unknown): number | undefined {
  if (typeof input === 'number') return Number.isSafeInteger(input) ? input : undefined;
  if (typeof input === 'string' && /^-?[0-9]{1,9}$/.test(input.trim())) return Number(input.trim());
  return undefined;
}
