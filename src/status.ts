import type { Band } from './config/band.ts';
import type { ConnectionBounds } from './config/types.ts';
import type { CycleSummary } from './maintenance/worker.ts';
import type { PeerStatus } from './peers/status.ts';

/**
 * What a node says about itself (`/debug/status`, the cluster view, the admin GetStatus):
 * counts and settings only, never a secret.
 */
export interface NodeStatus {
  peerId: string;
  version: string;
  network: string;
  listen: string;
  privateMode: boolean;
  uptimeSeconds: number;
  bounds: ConnectionBounds;
  band: Band;
  hotTarget: number;
  established: number;
  peers: Record<PeerStatus, number>;
  connections: { inbound: number; outbound: number };
  knownPoints: number;
  lastCycle: CycleSummary | undefined;
  /** Connection failures since start, all reasons together. */
  failures: number;
}
