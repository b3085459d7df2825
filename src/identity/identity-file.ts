import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { ed25519KeyBytes, peerIdFromPublicKey, rawPublicKey } from './peer-id.ts';

/** A node's identity: its Ed25519 key pair and the peer id derived from it (DESIGN §3). */
export interface Identity {
  peerId: string;
  publicKey: KeyObject;
  privateKey: KeyObject;
  /** The 32 raw bytes the peer id is the hash of. */
  publicKeyRaw: Uint8Array;
}

export type IdentityErrorCode =
  /** The file exists but cannot be read (permissions, a directory in its place, I/O error). */
  | 'identity_unreadable'
  /** The file is readable by every user of the machine; the private key must not be. */
  | 'identity_permissions'
  /** Not the JSON object this file holds: empty, truncated, garbage, fields missing or mistyped. */
  | 'identity_corrupt'
  /** A `version` this build does not know. */
  | 'identity_unsupported_version'
  /** A key that is not 32 bytes of canonical base64. */
  | 'identity_invalid_key'
  /** The private key is not the private half of the public key. */
  | 'identity_key_mismatch'
  /** The stored peer id is not the one the key gives. */
  | 'identity_peer_id_mismatch'
  /** A new identity could not be written. */
  | 'identity_write_failed';

export type DecodeResult =
  | { ok: true; value: Identity }
  | { ok: false; error: { code: IdentityErrorCode; message: string } };

export const identityFileVersion = 1;

/**
 * identity.json, version 1: `{version, peerId, publicKey, privateKey}`, keys as standard base64
 * of their raw 32 bytes (the private key is the RFC 8032 seed). The peer id is redundant on
 * purpose: an operator can read it without tools, and a mismatch reveals a hand-edited file.
 */
interface IdentityFileV1 {
  version: 1;
  peerId: string;
  publicKey: string;
  privateKey: string;
}

/** A fresh identity (a new Ed25519 key pair). */
export function generateIdentity(): Identity {
  return identityFromPrivateKey(generateKeyPairSync('ed25519').privateKey);
}

/** The identity of an Ed25519 private key. */
export function identityFromPrivateKey(privateKey: KeyObject): Identity {
  const publicKey = createPublicKey(privateKey);
  const publicKeyRaw = rawPublicKey(publicKey);
  return { peerId: peerIdFromPublicKey(publicKeyRaw), publicKey, privateKey, publicKeyRaw };
}

/** The file content for `identity` (JSON, one field per line, final newline). */
export function encodeIdentityFile(identity: Identity): string {
  const file: IdentityFileV1 = {
    version: identityFileVersion,
    peerId: identity.peerId,
    publicKey: Buffer.from(identity.publicKeyRaw).toString('base64'),
    privateKey: Buffer.from(seedOf(identity.privateKey)).toString('base64'),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/**
 * Decodes and checks identity.json: the private key must give the stored public key, which must
 * give the stored peer id. Never throws.
 */
export function decodeIdentityFile(text: string): DecodeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail('identity_corrupt', text.trim() === '' ? 'the file is empty' : 'not valid JSON');
  }
  if (!isRecord(parsed)) return fail('identity_corrupt', 'not a JSON object');
  if (typeof parsed.version !== 'number') return fail('identity_corrupt', '"version" is missing');
  if (parsed.version !== identityFileVersion) {
    return fail(
      'identity_unsupported_version',
      `version ${parsed.version} is not supported (this build reads version ${identityFileVersion})`,
    );
  }
  const { peerId, publicKey, privateKey } = parsed;
  if (
    typeof peerId !== 'string' ||
    typeof publicKey !== 'string' ||
    typeof privateKey !== 'string'
  ) {
    return fail('identity_corrupt', '"peerId", "publicKey" and "privateKey" must be strings');
  }
  const publicRaw = decodeKey(publicKey);
  const seed = decodeKey(privateKey);
  if (publicRaw === undefined) return fail('identity_invalid_key', badKey('publicKey'));
  if (seed === undefined) return fail('identity_invalid_key', badKey('privateKey'));
  const identity = identityFromPrivateKey(privateKeyFromSeed(seed));
  if (!Buffer.from(identity.publicKeyRaw).equals(publicRaw)) {
    return fail('identity_key_mismatch', 'the private key does not belong to the public key');
  }
  if (identity.peerId !== peerId) {
    return fail('identity_peer_id_mismatch', `the key gives ${identity.peerId}, not ${peerId}`);
  }
  return { ok: true, value: identity };
}

function fail(code: IdentityErrorCode, message: string): DecodeResult {
  return { ok: false, error: { code, message } };
}

function badKey(field: string): string {
  return `"${field}" is not ${ed25519KeyBytes} bytes of base64`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Canonical base64 of exactly 32 bytes (Buffer.from alone skips invalid characters). */
function decodeKey(b64: string): Buffer | undefined {
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length !== ed25519KeyBytes || bytes.toString('base64') !== b64) return undefined;
  return bytes;
}

/**
 * PKCS#8 wrapping of an Ed25519 seed (RFC 8410): fixed header + the 32 bytes. Node derives the
 * public key from the seed, which is what lets decode check the stored public key against it.
 */
const pkcs8Ed25519Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');

function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  return createPrivateKey({
    key: Buffer.concat([pkcs8Ed25519Prefix, seed]),
    format: 'der',
    type: 'pkcs8',
  });
}

function seedOf(privateKey: KeyObject): Uint8Array {
  const { d } = privateKey.export({ format: 'jwk' });
  if (d === undefined) throw new TypeError('not a private key');
  return new Uint8Array(Buffer.from(d, 'base64url'));
}
