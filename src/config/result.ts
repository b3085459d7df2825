/**
 * The result of a parser or decoder that never throws: the caller must look at `ok`
 * before it can reach the value, so a bad input cannot slip through as `undefined`.
 */
export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function err<E>(error: E): { ok: false; error: E } {
  return { ok: false, error };
}
