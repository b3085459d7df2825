import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { base32Encode } from './base32.ts';

/** Ed25519 public keys are 32 bytes (RFC 8032). */
export const ed25519KeyBytes = 32;

/**
 * `mk` + base32 of a 32-byte SHA-256 is 52 characters, the last holding one bit of the hash and
 * four zero bits: so `a` or `q`. Requiring that makes every peer id string canonical.
 */
const peerIdPattern = /^mk[a-z2-7]{51}[aq]$/;

/** The peer id of a raw 32-byte Ed25519 public key (DESIGN §3). */
export function peerIdFromPublicKey(raw32: Uint8Array): string {
  if (raw32.length !== ed25519KeyBytes) {
    throw new RangeError(`an Ed25519 public key is ${ed25519KeyBytes} bytes, got ${raw32.length}`);
  }
  return `mk${base32Encode(createHash('sha256').update(raw32).digest())}`;
}

/** The peer id of an Ed25519 key (public, or private: its public half). */
export function peerIdFromKeyObject(key: KeyObject): string {
  return peerIdFromPublicKey(rawPublicKey(key));
}

/**
 * The raw 32 bytes of an Ed25519 key's public half (from its JWK `x`). Throws TypeError for any
 * other key type: callers check untrusted keys first.
 */
export function rawPublicKey(key: KeyObject): Uint8Array {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(`expected an Ed25519 key, got ${key.asymmetricKeyType ?? key.type}`);
  }
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const { x } = pub.export({ format: 'jwk' });
  if (x === undefined) throw new TypeError('Ed25519 key without a public value');
  return new Uint8Array(Buffer.from(x, 'base64url'));
}

/** Whether `s` is a well-formed peer id (it says nothing about who holds the key). */
export function isPeerId(s: unknown): s is string {
  return typeof s === 'string' && peerIdPattern.test(s);
}
