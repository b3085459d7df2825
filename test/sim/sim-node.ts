import type { Config } from '../../src/config/types.ts';
import type { Governor } from '../../src/governor/driver.ts';
import type { Discovery } from '../../src/maintenance/discovery.ts';
import type { CycleSummary, MaintenanceWorker } from '../../src/maintenance/worker.ts';
import { createPeerLayer } from '../../src/peer-layer.ts';
import type { PeerStateActions } from '../../src/peers/actions.ts';
import type { PeerHandle } from '../../src/peers/handle.ts';
import type { PeerStatus } from '../../src/peers/status.ts';
import { Pool, type PoolContents } from '../../src/pool/index.ts';
import { GossipRouter } from '../../src/protocols/gossip.ts';
import type { Rng } from '../../src/rng.ts';
import { noopTelemetry } from '../../src/telemetry/index.ts';
import type { NodeClock } from './node-clock.ts';
import { SimTransport, type Switchboard } from './sim-transport.ts';

/** What the simulation hears from a node. */
export interface NodeObserver {
  statusChanged(node: SimNode, handle: PeerHandle, from: PeerStatus, to: PeerStatus): void;
  cycleEnded?(node: SimNode, summary: CycleSummary): void;
}

export interface SimNodeInit {
  /** A short stable name for traces (`n17`). */
  name: string;
  peerId: string;
  host: string;
  port: number;
  /** This node's own copy: the hot target is changed in it at run time, as the admin API does. */
  config: Config;
  clock: NodeClock;
  rng: Rng;
  network: Switchboard;
  observer: NodeObserver;
  /** What a restarted node read back from its peers.json. */
  restore?: PoolContents;
}

/**
 * One simulated node: a real Pool and the real peer layer (`createPeerLayer`, as `src/node.ts`
 * builds it), on a SimTransport instead of TCP and TLS; no HTTP, admin API, peers.json file or
 * telemetry export.
 */
export class SimNode {
  readonly name: string;
  readonly config: Config;
  readonly clock: NodeClock;
  readonly pool: Pool;
  readonly transport: SimTransport;
  readonly peers: PeerStateActions;
  readonly worker: MaintenanceWorker;
  readonly governor: Governor;
  readonly #discovery: Discovery;

  constructor(init: SimNodeInit) {
    const { config, clock, rng, observer } = init;
    const telemetry = noopTelemetry();
    this.name = init.name;
    this.config = config;
    this.clock = clock;
    this.pool = new Pool({ clock, rng, config: config.pool, metrics: telemetry.metrics });
    if (init.restore !== undefined) this.pool.restore(init.restore);
    this.pool.addOwnAddress({ host: init.host, port: init.port });
    const transport = new SimTransport({
      peerId: init.peerId,
      host: init.host,
      port: init.port,
      config,
      clock,
      network: init.network,
    });
    this.transport = transport;
    const layer = createPeerLayer({
      clock,
      rng,
      telemetry,
      config,
      pool: this.pool,
      gossip: new GossipRouter({ clock, config: config.gossip, onMessage: () => {} }),
      dial: (point) => transport.dial(point),
      handshakesInProgress: () => transport.handshakesInProgress,
      sharingSecret: `sim-${init.peerId}`,
      onStatusChange: (handle, from, to) => observer.statusChanged(this, handle, from, to),
      onCycle: (summary) => observer.cycleEnded?.(this, summary),
      resolve: () => Promise.reject(new Error('the simulated network has no DNS')),
      // Round trips in simulated time: the link's latency, not the host's CPU.
      monotonicMs: () => clock.now(),
    });
    transport.policy = layer.admission;
    transport.wantsConnections = () => layer.maintenance.wantsConnections();
    transport.onConnection = (connection) => layer.manager.onConnection(connection);
    this.peers = layer.peers;
    this.worker = layer.maintenance;
    this.governor = layer.governor;
    this.#discovery = layer.discovery;
  }

  get alive(): boolean {
    return !this.clock.stopped;
  }

  /** Starts as `startNode` does: bootstrap points, the worker, the governor, a first cycle. */
  async start(): Promise<void> {
    this.worker.publishBounds();
    await this.#discovery.resolveBootstrap();
    this.worker.start();
    this.governor.start();
    void this.worker.maintain();
  }

  /** The process is killed: connections reset, nothing more runs; returns what it had saved. */
  kill(): PoolContents {
    this.transport.kill();
    return this.pool.exportContents();
  }

  /** Changes the hot target at run time, as the admin API's SetTargets does. */
  setHotTarget(hotTarget: number): void {
    this.config.peers.hotTarget = hotTarget;
    this.governor.poke();
  }

  /** How many live peers have `status`. */
  count(status: PeerStatus): number {
    let n = 0;
    for (const handle of this.peers.handles.values()) if (handle.status === status) n++;
    return n;
  }

  /** The peer ids of the live peers with `status`. */
  peersIn(status: PeerStatus): string[] {
    return [...this.peers.handles.values()]
      .filter((handle) => handle.status === status)
      .map((handle) => handle.peerId);
  }
}
