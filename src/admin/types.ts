import type { Band } from '../config/band.ts';
import type { Config, ConnectionBounds, PointSpec } from '../config/types.ts';
import type { CycleSummary } from '../maintenance/worker.ts';
import type { PeerHandle } from '../peers/handle.ts';
import type { Pool } from '../pool/index.ts';
import type { PublishResult } from '../protocols/gossip.ts';
import type { NodeStatus } from '../status.ts';
import type { Telemetry } from '../telemetry/index.ts';
import type { NodeEvents, NodeTargets } from './events.ts';

/**
 * What the admin API needs of a node: the RunningNode of node.ts has all of it. Tests give a
 * real node; the handlers never reach around this interface.
 */
export interface AdminNode {
  readonly peerId: string;
  readonly config: Pick<Config, 'admin' | 'gossip'>;
  readonly telemetry: Telemetry;
  readonly pool: Pool;
  readonly peers: {
    readonly handles: ReadonlyMap<string, PeerHandle>;
    close(handle: PeerHandle): Promise<void>;
  };
  readonly maintenance: {
    readonly bounds: ConnectionBounds;
    readonly band: Band;
    maintain(): Promise<CycleSummary>;
    setBounds(bounds: ConnectionBounds): Band;
  };
  readonly gossip: { publish(payload: Uint8Array): PublishResult };
  readonly events: NodeEvents;
  status(): Promise<NodeStatus>;
  /** Dials `point` through the pool and makes it a warm peer (Connect). */
  connect(point: PointSpec): Promise<PeerHandle>;
  /** The governor's and pool's targets in force. */
  targets(): NodeTargets;
  /** Changes some targets at once; returns all of them. */
  setTargets(targets: Partial<NodeTargets>): NodeTargets;
  /** Graceful stop (Shutdown): the process exits once it resolves. */
  stop(): Promise<void>;
}
