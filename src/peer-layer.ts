import type { Clock } from './clock.ts';
import type { Config, PointSpec } from './config/types.ts';
import { Governor } from './governor/driver.ts';
import { admissionPolicy } from './maintenance/admission.ts';
import { Discovery, type Resolver } from './maintenance/discovery.ts';
import { type CycleSummary, MaintenanceWorker } from './maintenance/worker.ts';
import { PeerStateActions } from './peers/actions.ts';
import { keepAliveStarter, peerSharingStarter } from './peers/bundles.ts';
import { ConnectionManager } from './peers/connection-manager.ts';
import type { PeerHandle } from './peers/handle.ts';
import { isEstablished, type PeerStatus } from './peers/status.ts';
import { isTrustedHandle } from './peers/trust.ts';
import type { Pool } from './pool/index.ts';
import { type GossipRouter, serveGossip, startGossip } from './protocols/gossip.ts';
import type { PeerSharingClient } from './protocols/peer-sharing.ts';
import type { Rng } from './rng.ts';
import type { Telemetry } from './telemetry/index.ts';
import type { AdmissionPolicy } from './wire/accept.ts';
import type { Connection } from './wire/connection.ts';
import { Protocol } from './wire/protocol-numbers.ts';

export interface PeerLayerDeps {
  clock: Clock;
  rng: Rng;
  telemetry: Telemetry;
  config: Config;
  pool: Pool;
  gossip: GossipRouter;
  /** Dials and handshakes a point (the transport). */
  dial: (point: PointSpec) => Promise<Connection>;
  /** Handshakes admitted and not finished: connections about to count. */
  handshakesInProgress: () => number;
  /** Secret part of the peer-sharing salt, so other nodes cannot predict our picks. */
  sharingSecret: string;
  /** Told of every peer status change, after maintenance and the governor were. */
  onStatusChange?: (handle: PeerHandle, from: PeerStatus, to: PeerStatus) => void;
  /** Told of every maintenance cycle's summary. */
  onCycle?: (summary: CycleSummary) => void;
  /** Resolves bootstrap names (the system's resolver by default). */
  resolve?: Resolver;
  /** What keep-alive measures round trips with (`performance.now` by default). */
  monotonicMs?: () => number;
}

/** The components that keep a node's connections and decide about them, wired to each other. */
export interface PeerLayer {
  peers: PeerStateActions;
  /** Give it every handshaken connection (the transport's `onConnection`). */
  manager: ConnectionManager;
  maintenance: MaintenanceWorker;
  governor: Governor;
  discovery: Discovery;
  /** Who the transport lets in. */
  admission: AdmissionPolicy;
}

/**
 * Builds the peer layer of a node (DESIGN §2, §5–§7): PeerStateActions with the mini-protocol
 * bundles, the connection manager, the maintenance worker, the governor, discovery and the
 * admission policy. The composition root puts a transport, HTTP and the admin API around it; the
 * simulator (test/sim) puts simulated links around the same layer.
 */
export function createPeerLayer(deps: PeerLayerDeps): PeerLayer {
  const { clock, rng, telemetry, config, pool, gossip } = deps;
  const sharing = new WeakMap<Connection, PeerSharingClient>();
  let maintenance: MaintenanceWorker | undefined;
  let governor: Governor | undefined;
  const peers = new PeerStateActions({
    clock,
    rng,
    telemetry,
    config: config.peers,
    bundles: {
      established: {
        keepAlive: keepAliveStarter({
          clock,
          keepAliveIntervalMs: config.wire.keepAliveIntervalMs,
          keepAliveTimeoutMs: config.wire.keepAliveTimeoutMs,
          ...(deps.monotonicMs === undefined ? {} : { monotonicMs: deps.monotonicMs }),
        }),
        peerSharing: peerSharingStarter(
          { clock, timeoutMs: config.wire.handshakeTimeoutMs },
          sharing,
        ),
      },
      warm: {},
      hot: { gossip: ({ connection }) => startGossip(connection, gossip) },
    },
    dial: deps.dial,
    reuseWaitMs: config.wire.handshakeTimeoutMs,
    onStatusChange: (handle, from, to) => {
      if (isEstablished(from) !== isEstablished(to)) maintenance?.countChanged();
      governor?.poke();
      deps.onStatusChange?.(handle, from, to);
    },
  });
  const manager = new ConnectionManager({
    clock,
    pool,
    peers,
    telemetry,
    sharingSecret: deps.sharingSecret,
    responders: new Map([
      [Protocol.gossip, (channel, connection) => serveGossip(channel, connection, gossip)],
    ]),
  });
  const discovery = new Discovery({
    pool,
    telemetry,
    bootstrap: config.privateMode ? [] : config.bootstrap,
    peers: () => peers.handles.values(),
    sharing,
    ...(deps.resolve === undefined ? {} : { resolve: deps.resolve }),
  });
  const worker = new MaintenanceWorker({
    clock,
    rng,
    telemetry,
    config,
    pool,
    peers: () => peers.handles.values(),
    connect: (point) => manager.establish(point),
    disconnect: (handle) => peers.close(handle),
    askForMore: () => discovery.askForMore(),
    ...(deps.onCycle === undefined ? {} : { onCycle: deps.onCycle }),
  });
  maintenance = worker;
  governor = new Governor({
    clock,
    rng,
    telemetry,
    config: config.peers,
    peers,
    isTrusted: (handle) => isTrustedHandle(pool, handle),
    churnClosed: (handle) => {
      if (handle.connection.point !== undefined) pool.churned(handle.connection.point);
    },
  });
  const admission = admissionPolicy({
    pool,
    privateMode: config.privateMode,
    band: () => worker.band,
    // Handshakes already admitted count too: racing inbounds must not overshoot together.
    established: () => worker.count() + deps.handshakesInProgress(),
  });
  return { peers, manager, maintenance: worker, governor, discovery, admission };
}
