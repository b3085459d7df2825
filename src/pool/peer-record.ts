import type { PointKey } from './point-key.ts';

/**
 * What the pool remembers about one peer identity. A peer enters the pool when a
 * connection to it is established. Immutable, like `PointRecord`.
 */
export interface PeerRecord {
  readonly peerId: string;
  readonly firstSeenAt: number;
  /** Last time a connection with it was established or ended. */
  readonly lastSeenAt: number;
  /** The point of its last established connection. */
  readonly lastPoint?: PointKey;
  /** Points currently running with this peer (0: disconnected, evictable). */
  readonly connections: number;
  /** It said `privateNode = true` in its last Hello. */
  readonly privateNode: boolean;
  /** It allows being shared (`peerSharing` in its last Hello). */
  readonly peerSharing: boolean;
}
