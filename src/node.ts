import { randomBytes } from 'node:crypto';
import { type AdminServer, NodeEvents, type NodeTargets, startAdminServer } from './admin/index.ts';
import { removeStaleTemps } from './atomic-file.ts';
import { type Clock, systemClock } from './clock.ts';
import { formatAddress } from './config/address.ts';
import type { Config, PointSpec } from './config/types.ts';
import { readiness } from './http/readiness.ts';
import { startHttpServer } from './http/server.ts';
import { createCertificate, loadOrCreateIdentity } from './identity/index.ts';
import type { MaintenanceWorker } from './maintenance/worker.ts';
import { createPeerLayer } from './peer-layer.ts';
import type { PeerStateActions } from './peers/actions.ts';
import type { PeerHandle } from './peers/handle.ts';
import { isEstablished } from './peers/status.ts';
import { loadPool, Pool, PoolPersister, poolFilePath } from './pool/index.ts';
import { GossipRouter } from './protocols/gossip.ts';
import { type Rng, systemRng } from './rng.ts';
import type { NodeStatus } from './status.ts';
import {
  createLogger,
  createTelemetry,
  type Logger,
  type NodeTelemetry,
} from './telemetry/index.ts';
import { Transport } from './wire/transport.ts';

export const VERSION = '0.1.0';

export interface NodeOptions {
  /** `OTEL_*` and friends; `process.env` by default. */
  env?: Readonly<Record<string, string | undefined>>;
  log?: Logger;
  clock?: Clock;
  rng?: Rng;
}

export interface RunningNode {
  peerId: string;
  config: Config;
  /** Where the P2P listener is (the port is real when the config said 0). */
  listen: { host: string; port: number };
  telemetry: NodeTelemetry;
  pool: Pool;
  peers: PeerStateActions;
  maintenance: MaintenanceWorker;
  transport: Transport;
  gossip: GossipRouter;
  /** Where metrics and probes are served. */
  http: { host: string; port: number };
  /** Where the gRPC admin API is served. */
  admin: { host: string; port: number };
  /** Peer status changes, cycles and operator actions, for the admin API's WatchEvents. */
  events: NodeEvents;
  status(): Promise<NodeStatus>;
  /** Dials `point` through the pool and makes it a warm peer (admin Connect). */
  connect(point: PointSpec): Promise<PeerHandle>;
  /** The governor's hot target and the pool's caps in force. */
  targets(): NodeTargets;
  /** Changes targets at run time (admin SetTargets); returns all of them. */
  setTargets(targets: Partial<NodeTargets>): NodeTargets;
  /**
   * Graceful: maintenance stops, peers cool down (bounded), the pool is persisted. Idempotent:
   * a second call (a signal during an admin Shutdown) gets the same promise.
   */
  stop(): Promise<void>;
  /** Settles once the node has stopped, whoever stopped it (a signal or the admin Shutdown). */
  stopped: Promise<void>;
}

/**
 * The composition root (DESIGN §2): builds every component with what it needs and starts them
 * in order; `stop` undoes it in reverse. Nothing else constructs components.
 */
export async function startNode(config: Config, opts: NodeOptions = {}): Promise<RunningNode> {
  const clock = opts.clock ?? systemClock;
  const rng = opts.rng ?? systemRng;
  const rootLog = opts.log ?? createLogger({ level: config.log.level });
  const identity = await loadOrCreateIdentity(config.dataDir, { log: rootLog });
  const telemetry = createTelemetry({
    log: rootLog,
    peerId: identity.peerId,
    version: VERSION,
    env: opts.env ?? process.env,
  });
  const { log } = telemetry;
  const events = new NodeEvents(clock);

  const pool = new Pool({
    clock,
    rng,
    config: config.pool,
    metrics: telemetry.metrics,
    privateMode: config.privateMode,
  });
  const poolPath = poolFilePath(config.dataDir);
  // A SIGKILL during a write leaves its temp file; peers.json itself is whole either way.
  const staleTemps = await removeStaleTemps(poolPath);
  if (staleTemps > 0) {
    log.info({ event: 'pool_temp_removed', files: staleTemps }, 'removed an interrupted write');
  }
  const loaded = await loadPool(poolPath, {
    clock,
    config: config.pool,
    metrics: telemetry.metrics,
  });
  if (loaded.status === 'corrupt' || loaded.status === 'unreadable') {
    log.error(
      {
        event: 'pool_file_rejected',
        status: loaded.status,
        movedTo: loaded.movedTo,
        warnings: loaded.warnings,
      },
      'peers.json not usable',
    );
  } else if (loaded.warnings.length > 0) {
    log.warn(
      { event: 'pool_file_warnings', warnings: loaded.warnings },
      'peers.json partly restored',
    );
  }
  const persister = new PoolPersister({
    pool,
    clock,
    path: poolPath,
    debounceMs: config.pool.persistDebounceMs,
    metrics: telemetry.metrics,
    onError: (err) => log.error({ event: 'persist_failed', err }, 'peers.json not written'),
  });
  // Listening before the restore: what the restore and the configured trust change is saved
  // too, so a first start leaves a complete peers.json even if nothing else happens.
  persister.start();
  pool.restore(loaded.contents);
  for (const point of config.trusted) pool.addPoint(point, 'trusted');

  const gossip = new GossipRouter({
    clock,
    config: config.gossip,
    metrics: telemetry.metrics,
    log,
    onMessage: (payload, id) =>
      log.info(
        { event: 'gossip_delivered', id: Buffer.from(id).toString('hex'), bytes: payload.length },
        'gossip message',
      ),
  });
  const layer = createPeerLayer({
    clock,
    rng,
    telemetry,
    config,
    pool,
    gossip,
    dial: (point) => transport.dial(point),
    handshakesInProgress: () => transport.handshakesInProgress,
    sharingSecret: randomBytes(16).toString('hex'),
    onStatusChange: (handle, from, to) => {
      events.statusChanged(handle, from, to);
      publishCold();
    },
    onCycle: (summary) => events.cycle(summary),
  });
  const { peers, manager, maintenance: worker, governor: hotKeeper, discovery } = layer;
  // Cold peers are the known peer ids with no live connection (PeerStateActions counts the rest).
  const publishCold = (): void => {
    telemetry.metrics.peers.set(
      { status: 'cold' },
      Math.max(0, pool.peerCount - peers.handles.size),
    );
  };
  pool.onChange((event) => {
    if (event.type === 'peer_added' || event.type === 'peer_removed') publishCold();
  });
  const transport: Transport = new Transport({
    peerId: identity.peerId,
    credentials: await createCertificate(identity),
    network: config.network,
    wire: config.wire,
    gossip: config.gossip,
    ...(config.advertisedAddress === undefined
      ? {}
      : { advertisedAddress: `${config.advertisedAddress.host}:${config.advertisedAddress.port}` }),
    privateNode: config.privateMode,
    peerSharing: !config.privateMode,
    telemetry,
    clock,
    policy: layer.admission,
    wantsConnections: () => layer.maintenance.wantsConnections(),
    onConnection: (connection) => manager.onConnection(connection),
  });

  const address = await transport.listen(config.listen.host, config.listen.port);
  const listen = { host: config.listen.host, port: address.port };
  pool.addOwnAddress(listen);
  if (config.advertisedAddress !== undefined) pool.addOwnAddress(config.advertisedAddress);
  worker.publishBounds();
  const startedAt = clock.now();
  const status = async (): Promise<NodeStatus> => {
    const byStatus = { cold: 0, cooling: 0, warm: 0, hot: 0 };
    const byDirection = { inbound: 0, outbound: 0 };
    for (const handle of peers.handles.values()) {
      byStatus[handle.status]++;
      if (isEstablished(handle.status)) byDirection[handle.direction]++;
    }
    return {
      peerId: identity.peerId,
      version: VERSION,
      network: config.network,
      listen: formatAddress(listen),
      privateMode: config.privateMode,
      uptimeSeconds: (clock.now() - startedAt) / 1000,
      bounds: worker.bounds,
      band: worker.band,
      hotTarget: config.peers.hotTarget,
      established: byStatus.warm + byStatus.hot,
      peers: byStatus,
      connections: byDirection,
      knownPoints: pool.snapshot().points.length,
      lastCycle: worker.lastCycle,
      failures: await countFailures(telemetry),
    };
  };
  const http = await startHttpServer(config.http.listen.host, config.http.listen.port, {
    registry: telemetry.metrics.registry,
    status,
    readiness: () => {
      const connectedPeers = new Set<string>();
      for (const handle of peers.handles.values())
        if (isEstablished(handle.status)) connectedPeers.add(handle.peerId);
      return readiness({
        nowMs: clock.now(),
        startedAtMs: startedAt,
        graceMs: config.http.readyGraceMs,
        established: worker.count(),
        min: worker.bounds.min,
        snapshot: pool.snapshot(),
        connectedPeers,
      });
    },
  });
  let admin: AdminServer | undefined;
  let stopping: Promise<void> | undefined;
  let markStopped: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    markStopped = resolve;
  });
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      log.info({ event: 'node_stopping' }, 'node stopping');
      admin?.drain();
      hotKeeper.stop();
      await worker.shutdown();
      await peers.closeAll();
      await admin?.close();
      await transport.close();
      await http.close();
      persister.stop();
      await persister.flush();
      await telemetry.shutdown();
      log.info({ event: 'node_stopped' }, 'node stopped');
    })().finally(markStopped);
    return stopping;
  };
  const targets = (): NodeTargets => ({
    hotTarget: config.peers.hotTarget,
    maxKnownPoints: config.pool.maxKnownPoints,
    maxKnownPeerIds: config.pool.maxKnownPeerIds,
  });
  const node: RunningNode = {
    peerId: identity.peerId,
    config,
    listen,
    telemetry,
    pool,
    peers,
    maintenance: worker,
    transport,
    gossip,
    http: { host: config.http.listen.host, port: http.address.port },
    admin: { host: config.admin.listen.host, port: 0 },
    events,
    status,
    connect: (point) => manager.establish(point),
    targets,
    setTargets(changes) {
      // The pool and the governor read these from the config they were given, at each decision.
      if (changes.hotTarget !== undefined) config.peers.hotTarget = changes.hotTarget;
      if (changes.maxKnownPoints !== undefined) config.pool.maxKnownPoints = changes.maxKnownPoints;
      if (changes.maxKnownPeerIds !== undefined)
        config.pool.maxKnownPeerIds = changes.maxKnownPeerIds;
      hotKeeper.poke();
      return targets();
    },
    stop,
    stopped,
  };
  try {
    admin = await startAdminServer(node);
  } catch (error) {
    await stop();
    throw error;
  }
  node.admin.port = admin.port;

  await discovery.resolveBootstrap();
  worker.start();
  hotKeeper.start();
  void worker.maintain();
  log.info(
    {
      event: 'node_started',
      listen,
      http: http.address.port,
      admin: admin.port,
      network: config.network,
      private: config.privateMode,
    },
    'node started',
  );

  return node;
}

/** Connection failures since start, every reason together (the cluster view shows it). */
async function countFailures(telemetry: NodeTelemetry): Promise<number> {
  const { values } = await telemetry.metrics.connectionFailures.get();
  return values.reduce((sum, v) => sum + v.value, 0);
}
