import type { Pool } from '../pool/index.ts';
import type { PeerHandle } from './handle.ts';

export interface RemotePeer {
  peerId: string;
  /** The socket's remote address. */
  remoteHost: string;
  /** The point it is reached at: the one dialed, or the one it advertised. */
  point?: string;
}

/**
 * Trusted by its peer id, by its point, or by its address: an inbound connection comes from an
 * ephemeral port, so the IP of a trusted point is what identifies it (one node per IP, as in a
 * pod or on 127.0.0.x). Admission, victims and the governor all ask this one question.
 */
export function isTrustedRemote(pool: Pool, peer: RemotePeer): boolean {
  const { acl } = pool;
  if (acl.isTrustedPeer(peer.peerId)) return true;
  if (peer.point !== undefined && acl.isTrustedPoint(peer.point)) return true;
  return acl.isTrustedHost(peer.remoteHost);
}

export function isTrustedHandle(pool: Pool, handle: PeerHandle): boolean {
  const { connection } = handle;
  return isTrustedRemote(pool, {
    peerId: handle.peerId,
    remoteHost: connection.remoteHost,
    ...(connection.point === undefined ? {} : { point: connection.point }),
  });
}
