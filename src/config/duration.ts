import { err, ok, type Result } from './result.ts';

/**
 * Durations in config are written for humans ("120s", "24h", "500ms") or as a number of
 * milliseconds, and are parsed once here so that the rest of the node only sees `…Ms` integers.
 */
export type DurationErrorCode =
  | 'not_a_duration'
  | 'empty'
  | 'syntax'
  | 'unknown_unit'
  | 'negative'
  | 'not_finite'
  | 'fractional_ms'
  | 'too_large';

export interface DurationError {
  code: DurationErrorCode;
  message: string;
}

/**
 * Node clamps a timer delay above 2^31 − 1 ms to 1 ms (with only a warning), so a longer
 * configured duration would fire at once instead of late; refuse it at the edge.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const UNITS_HINT = 'ms, s, m, h or d';
// Long enough for any sensible duration; bounds the work done on hostile input.
const MAX_TEXT_LENGTH = 32;
const DURATION_SYNTAX = /^(\d+)(?:\.(\d{1,9}))?([a-zA-Z]*)$/;

function failure(code: DurationErrorCode, message: string): Result<number, DurationError> {
  return err({ code, message });
}

/**
 * Parses "500ms", "120s", "5m", "24h", "2d", "1.5s", "1500" (milliseconds) or a number of
 * milliseconds into a non-negative integer number of milliseconds ≤ MAX_DURATION_MS.
 * Never throws.
 */
export function parseDuration(input: unknown): Result<number, DurationError> {
  if (typeof input === 'number') return fromMilliseconds(input);
  if (typeof input !== 'string') {
    return failure(
      'not_a_duration',
      `must be a duration such as "120s" or a number of milliseconds`,
    );
  }
  const text = input.trim();
  if (text === '') return failure('empty', 'duration is empty');
  if (text.length > MAX_TEXT_LENGTH) return failure('syntax', 'duration is too long to be valid');
  if (text.startsWith('-')) return failure('negative', 'duration must not be negative');
  const match = DURATION_SYNTAX.exec(text);
  if (match === null) {
    return failure('syntax', `not a duration: write a number and a unit (${UNITS_HINT})`);
  }
  const [, whole = '', fraction = '', unit = ''] = match;
  const unitMs = unit === '' ? 1 : UNIT_MS[unit];
  if (unitMs === undefined) {
    return failure('unknown_unit', `unknown unit "${unit}": use ${UNITS_HINT}`);
  }
  return scale(whole, fraction, unitMs);
}

function fromMilliseconds(value: number): Result<number, DurationError> {
  if (!Number.isFinite(value)) return failure('not_finite', 'duration must be a finite number');
  if (value < 0) return failure('negative', 'duration must not be negative');
  if (!Number.isInteger(value)) {
    return failure('fractional_ms', 'duration must be a whole number of milliseconds');
  }
  return withinLimit(value);
}

// BigInt keeps "1.1s" exact (1.1 * 1000 is 1100.0000000000002 in floating point).
function scale(whole: string, fraction: string, unitMs: number): Result<number, DurationError> {
  const denominator = 10n ** BigInt(fraction.length);
  const numerator = (BigInt(whole) * denominator + BigInt(fraction || '0')) * BigInt(unitMs);
  if (numerator % denominator !== 0n) {
    return failure('fractional_ms', 'duration must be a whole number of milliseconds');
  }
  const ms = numerator / denominator;
  if (ms > BigInt(MAX_DURATION_MS)) return tooLarge();
  return ok(Number(ms));
}

function withinLimit(ms: number): Result<number, DurationError> {
  return ms > MAX_DURATION_MS ? tooLarge() : ok(ms);
}

function tooLarge(): Result<number, DurationError> {
  return failure(
    'too_large',
    `duration must be at most ${MAX_DURATION_MS} ms (about 24.8 days, the longest delay a Node timer accepts)`,
  );
}

/** The shortest exact spelling of `ms` that parseDuration reads back: 120000 → "2m". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = UNIT_MS[unit] ?? 1;
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
