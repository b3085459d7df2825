import type { Pool } from '../pool/index.ts';
import type { PeerHandle } from './handle.ts';

/** A live peer is trusted when its peer id or the point it is reached at is. */
export function isTrustedHandle(pool: Pool, handle: PeerHandle): boolean {
  const point = handle.connection.point;
  return (
    pool.acl.isTrustedPeer(handle.peerId) || (point !== undefined && pool.acl.isTrustedPoint(point))
  );
}
