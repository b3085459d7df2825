import { createHash } from 'node:crypto';

/** A gossip message id is the SHA-256 of its payload (DESIGN §3 Gossip). */
export const ID_BYTES = 32;

/** The id of `payload`: its SHA-256, as a plain Uint8Array. */
export function messageId(payload: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(payload).digest());
}

/**
 * `id` as a map key: one latin1 character per byte, so a key is a 32-character one-byte string
 * (half the memory of hex, and ids are kept by the hundred thousand).
 */
export function idKey(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('latin1');
}

/** True when `payload` hashes to `id`. */
export function matchesId(id: Uint8Array, payload: Uint8Array): boolean {
  if (id.length !== ID_BYTES) return false;
  return Buffer.from(messageId(payload)).equals(id);
}
