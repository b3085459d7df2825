import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import {
  base32Encode,
  isPeerId,
  peerIdFromKeyObject,
  peerIdFromPublicKey,
  rawPublicKey,
} from '../../../src/identity/index.ts';

// RFC 4648 §10 test vectors, lower-cased and without padding.
const vectors: [string, string][] = [
  ['', ''],
  ['f', 'my'],
  ['fo', 'mzxq'],
  ['foo', 'mzxw6'],
  ['foob', 'mzxw6yq'],
  ['fooba', 'mzxw6ytb'],
  ['foobar', 'mzxw6ytboi'],
];

for (const [input, expected] of vectors) {
  test(`base32: RFC 4648 vector "${input}"`, () => {
    assert.equal(base32Encode(Buffer.from(input)), expected);
  });
}

test('base32: all-ones and all-zeros bytes use the ends of the alphabet', () => {
  assert.equal(base32Encode(new Uint8Array(5).fill(0xff)), '77777777');
  assert.equal(base32Encode(new Uint8Array(5)), 'aaaaaaaa');
});

test('peer id: mk + base32 of the SHA-256 of the raw public key, 54 characters', () => {
  const raw = new Uint8Array(32).fill(7);
  const id = peerIdFromPublicKey(raw);
  assert.equal(id, `mk${base32Encode(createHash('sha256').update(raw).digest())}`);
  assert.equal(id.length, 54);
  assert.ok(isPeerId(id));
});

test('peer id: the public and the private KeyObject of a pair give the same id', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  assert.equal(peerIdFromKeyObject(privateKey), peerIdFromKeyObject(publicKey));
  assert.equal(peerIdFromKeyObject(publicKey), peerIdFromPublicKey(rawPublicKey(publicKey)));
  assert.equal(rawPublicKey(publicKey).length, 32);
});

test('peer id: a key of another type or a raw key of another length is a programming error', () => {
  const { publicKey } = generateKeyPairSync('x25519');
  assert.throws(() => peerIdFromKeyObject(publicKey), TypeError);
  assert.throws(() => peerIdFromPublicKey(new Uint8Array(31)), RangeError);
});

test('isPeerId: only canonical ids', () => {
  const id = peerIdFromPublicKey(new Uint8Array(32));
  const notCanonical = `${id.slice(0, -1)}${id.endsWith('a') ? 'b' : 'r'}`;
  for (const bad of [
    '',
    'mk',
    id.toUpperCase(),
    `${id}a`,
    id.slice(0, -1),
    notCanonical,
    42,
    undefined,
  ]) {
    assert.equal(isPeerId(bad), false, String(bad));
  }
});
