import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { AdminError } from '../../../src/admin/errors.ts';
import { encodeToken, pageSizeOf, paginate } from '../../../src/admin/pagination.ts';

function violation(fn: () => unknown): { code: number; field: string; reason: string | undefined } {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof AdminError);
    const detail = error.details[0];
    assert.equal(detail?.type, 'bad_request');
    const v = detail.type === 'bad_request' ? detail.fieldViolations[0] : undefined;
    return { code: error.code, field: v?.field ?? '', reason: v?.reason };
  }
  assert.fail('no error');
}

test('page size: 0 is the default (100), 1 … 1000 are taken as they are', () => {
  assert.equal(pageSizeOf(undefined), 100);
  assert.equal(pageSizeOf(0), 100);
  assert.equal(pageSizeOf(1), 1);
  assert.equal(pageSizeOf(1000), 1000);
});

const refused: Array<[number, string]> = [
  [1001, 'PAGE_SIZE_TOO_LARGE'],
  [1e9, 'PAGE_SIZE_TOO_LARGE'],
  [-1, 'PAGE_SIZE_NEGATIVE'],
];
for (const [size, reason] of refused) {
  test(`page size ${size}: INVALID_ARGUMENT on page_size (${reason})`, () => {
    assert.deepEqual(
      violation(() => pageSizeOf(size)),
      { code: status.INVALID_ARGUMENT, field: 'page_size', reason },
    );
  });
}

const items = ['d', 'a', 'c', 'b', 'e'];
const key = (s: string) => s;

test('paginate: sorted pages, a token per page, none after the last', () => {
  const first = paginate(items, key, { pageSize: 2, pageToken: undefined, filter: 'f' });
  assert.deepEqual(first.items, ['a', 'b']);
  assert.equal(first.totalSize, 5);
  const second = paginate(items, key, { pageSize: 2, pageToken: first.nextPageToken, filter: 'f' });
  assert.deepEqual(second.items, ['c', 'd']);
  const third = paginate(items, key, { pageSize: 2, pageToken: second.nextPageToken, filter: 'f' });
  assert.deepEqual(third.items, ['e']);
  assert.equal(third.nextPageToken, '');
});

test('paginate: an entry removed between pages does not shift the next page', () => {
  const first = paginate(items, key, { pageSize: 2, pageToken: undefined, filter: 'f' });
  const later = paginate(['a', 'c', 'd', 'e'], key, {
    pageSize: 2,
    pageToken: first.nextPageToken,
    filter: 'f',
  });
  assert.deepEqual(later.items, ['c', 'd']);
});

test('paginate: a token of another filter or not ours is INVALID_ARGUMENT on page_token', () => {
  const token = encodeToken('b', 'peers:warm');
  for (const pageToken of [
    token,
    'not-a-token',
    Buffer.from('[1]').toString('base64url'),
    'x'.repeat(5000),
  ]) {
    assert.deepEqual(
      violation(() => paginate(items, key, { pageSize: 2, pageToken, filter: 'peers:hot' })),
      { code: status.INVALID_ARGUMENT, field: 'page_token', reason: 'PAGE_TOKEN_INVALID' },
    );
  }
});
