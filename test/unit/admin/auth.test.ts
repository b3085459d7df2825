import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { isOpenMethod, TokenCheck } from '../../../src/admin/auth.ts';

const token = 's3cret-token_0123456789';

function md(...values: string[]): Metadata {
  const m = new Metadata();
  for (const v of values) m.add('authorization', v);
  return m;
}

const cases: Array<[string, Metadata, string | undefined]> = [
  ['the right token', md(`Bearer ${token}`), undefined],
  ['the scheme in any case, extra spaces', md(`bearer   ${token}  `), undefined],
  ['no authorization header', md(), 'missing bearer token'],
  ['an empty token', md('Bearer '), 'empty bearer token'],
  [
    'a wrong token of the same length',
    md(`Bearer ${token.replace('s', 'S')}`),
    'invalid bearer token',
  ],
  ['a prefix of the token', md(`Bearer ${token.slice(0, 5)}`), 'invalid bearer token'],
  ['the token followed by more', md(`Bearer ${token}x`), 'invalid bearer token'],
  ['another scheme', md(`Basic ${token}`), 'authorization is not a bearer token'],
  ['two headers', md(`Bearer ${token}`, `Bearer ${token}`), 'more than one authorization header'],
  ['a huge header', md(`Bearer ${'x'.repeat(10_000)}`), 'malformed authorization header'],
];

for (const [name, metadata, refusal] of cases) {
  test(`token check: ${name} → ${refusal ?? 'accepted'}`, () => {
    const result = new TokenCheck(token).check(metadata);
    assert.deepEqual(
      result,
      refusal === undefined ? { ok: true } : { ok: false, message: refusal },
    );
  });
}

test('token check: without a configured token nothing is required', () => {
  const check = new TokenCheck(undefined);
  assert.equal(check.required, false);
  assert.deepEqual(check.check(md()), { ok: true });
});

test('token check: only health is open', () => {
  assert.equal(isOpenMethod('/grpc.health.v1.Health/Check'), true);
  assert.equal(isOpenMethod('/grpc.health.v1.Health/Watch'), true);
  assert.equal(isOpenMethod('/grpc.reflection.v1.ServerReflection/ServerReflectionInfo'), false);
  assert.equal(isOpenMethod('/meshkeeper.admin.v1.AdminService/GetStatus'), false);
});
