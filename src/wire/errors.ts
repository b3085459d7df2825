/**
 * Typed wire errors (DESIGN §3). Each code is a counted reason for closing a connection; the
 * misbehaviour codes (`frame_too_large`, `ingress_overflow`, `decode_error`,
 * `protocol_violation`) also greylist the peer (DESIGN §4).
 */

export type WireErrorCode =
  | 'frame_too_large'
  | 'ingress_overflow'
  | 'unknown_protocol'
  | 'decode_error'
  | 'protocol_violation'
  | 'connection_closed'
  | 'timeout';

/** Every code, in a stable order (metric label values, exhaustive tests). */
export const wireErrorCodes: readonly WireErrorCode[] = [
  'frame_too_large',
  'ingress_overflow',
  'unknown_protocol',
  'decode_error',
  'protocol_violation',
  'connection_closed',
  'timeout',
];

export class WireError extends Error {
  readonly code: WireErrorCode;

  constructor(code: WireErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WireError';
    this.code = code;
  }
}

/**
 * A WireError without a stack trace, for the expected end of a connection (the peer hung up): the
 * stack of a socket event handler says nothing, and capturing it was one of the larger costs of
 * a connection's close (bench/wire profile, ~40 µs of CPU per connection).
 */
export function wireErrorWithoutStack(
  code: WireErrorCode,
  message: string,
  options?: { cause?: unknown },
): WireError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new WireError(code, message, options);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** What a decoder returns instead of throwing. */
export type Result<T, E = WireError> = { ok: true; value: T } | { ok: false; error: E };

/** A successful result. */
export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

/** A failed result carrying `error`. */
export function fail<E = WireError>(error: E): { ok: false; error: E } {
  return { ok: false, error };
}
