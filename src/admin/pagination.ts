import { badField } from './errors.ts';

/**
 * List pagination (https://google.aip.dev/158): a bounded page size and an opaque token that
 * resumes after the last key of the previous page. Keys are stable (peer id, address), so a
 * page never repeats or skips an entry that existed over both calls, however the list changes
 * in between.
 */

export const defaultPageSize = 100;
/** Big enough for a node's whole pool at the default caps (400 points) in one call. */
export const maxPageSize = 1000;
/** A token is a key and a filter; anything longer is not one of ours. */
const maxTokenLength = 2048;

/** The page size asked for, checked: 0 (unset) means the default; above the maximum is refused. */
export function pageSizeOf(raw: number | undefined): number {
  const size = raw ?? 0;
  if (!Number.isInteger(size) || size < 0) {
    throw badField('page_size', 'PAGE_SIZE_NEGATIVE', `must be 0 … ${maxPageSize}, got ${size}`);
  }
  if (size > maxPageSize) {
    throw badField(
      'page_size',
      'PAGE_SIZE_TOO_LARGE',
      `must be at most ${maxPageSize}, got ${size}`,
    );
  }
  return size === 0 ? defaultPageSize : size;
}

export interface Page<T> {
  items: T[];
  nextPageToken: string;
  totalSize: number;
}

/**
 * One page of `items` (matching the filter, in any order): sorted by `keyOf`, starting after
 * the token's key. `filter` is a canonical string of the request's filter: a token is only
 * valid with the filter it was made for.
 */
export function paginate<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  opts: { pageSize: number; pageToken: string | undefined; filter: string },
): Page<T> {
  const after = opts.pageToken ? decodeToken(opts.pageToken, opts.filter) : undefined;
  const sorted = [...items].sort((a, b) => compare(keyOf(a), keyOf(b)));
  const start =
    after === undefined ? 0 : sorted.findIndex((item) => compare(keyOf(item), after) > 0);
  const from = start === -1 ? sorted.length : start;
  const page = sorted.slice(from, from + opts.pageSize);
  const last = page.at(-1);
  const more = from + page.length < sorted.length && last !== undefined;
  return {
    items: page,
    nextPageToken: more ? encodeToken(keyOf(last), opts.filter) : '',
    totalSize: sorted.length,
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function encodeToken(afterKey: string, filter: string): string {
  return Buffer.from(JSON.stringify({ a: afterKey, f: filter }), 'utf8').toString('base64url');
}

function decodeToken(token: string, filter: string): string {
  const invalid = (why: string) => badField('page_token', 'PAGE_TOKEN_INVALID', why);
  if (token.length > maxTokenLength) throw invalid('not a token from this API');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid('not a token from this API');
  }
  const { a, f } = (parsed ?? {}) as { a?: unknown; f?: unknown };
  if (typeof a !== 'string' || typeof f !== 'string') throw invalid('not a token from this API');
  if (f !== filter) throw invalid('the token was made for another filter');
  return a;
}
