import { setImmediate as nextTurn } from 'node:timers/promises';
import { FakeClock } from '../../src/clock.ts';
import type { Band } from '../../src/config/band.ts';
import type { ConnectionBounds } from '../../src/config/types.ts';
import { type CyclePlan, type LiveConnection, planCycle } from '../../src/maintenance/plan.ts';
import { type CycleSummary, MaintenanceWorker } from '../../src/maintenance/worker.ts';
import { PeerHandle } from '../../src/peers/handle.ts';
import { isTrustedHandle } from '../../src/peers/trust.ts';
import type { PeerRecord, PointRecord } from '../../src/pool/index.ts';
import { hostOfKey, Pool } from '../../src/pool/index.ts';
import { seededRng } from '../../src/rng.ts';
import { noopTelemetry } from '../../src/telemetry/index.ts';
import { WireError } from '../../src/wire/errors.ts';
import { defaultConfig } from '../../test/fixtures/config.ts';
import { FakeConnection } from '../../test/fixtures/fake-peer.ts';
import { peerId } from '../../test/unit/pool/helpers.ts';

/**
 * CPU time of one maintenance cycle on a big node: the real `MaintenanceWorker` (plan, pool
 * snapshot, candidate order, victim choice, and the timers it re-arms after each cycle) over a
 * real `Pool` of `knownPoints` points, `connections` of them established. Peers are
 * `PeerHandle`s over fake connections (no socket): dials fail at once without touching the
 * pool and closes do nothing, so every cycle sees the same pool and takes the same decision.
 */

export type Situation = 'in_band' | 'below_band' | 'above_band';

export const situations: readonly Situation[] = ['in_band', 'below_band', 'above_band'];

export interface CycleBenchOptions {
  knownPoints: number;
  connections: number;
  iterations: number;
  warmup: number;
  situations?: readonly Situation[];
}

export interface Distribution {
  min: number;
  median: number;
  p99: number;
  max: number;
}

export interface SituationResult {
  situation: Situation;
  bounds: ConnectionBounds;
  band: Band;
  /** What the cycle decided, e.g. `dial 400 (too_few)`. */
  plan: string;
  /** Process CPU (user + system, every thread: GC included) per `maintain()`, ms. */
  cpuMs: Distribution;
  wallMs: Distribution;
  /** The pure `planCycle` alone, on the worker's input (wall ms). */
  planMs: Distribution;
}

export interface CycleBenchResult {
  situations: SituationResult[];
  /**
   * CPU of one point changing state twice (a dial started and failed) in the in-band node, then
   * a snapshot: the pool's bookkeeping, the worker's listener, and the snapshot's lists (in map
   * order, dial order and backoff order) updated with the change.
   */
  pointChangeCpuMs: Distribution;
  /** CPU of greylisting one IP in the in-band node, then a snapshot (the views it touches). */
  greylistCpuMs: Distribution;
  /** CPU of building the node: the pool restored with every point, the connections made. */
  setupMs: number;
}

/** Bounds putting `connections` inside, below or above the band. */
export function boundsFor(situation: Situation, connections: number): ConnectionBounds {
  const c = connections;
  switch (situation) {
    case 'in_band': // as --connections 1000 for 1,000: band 666/832/1168/1334
      return { min: Math.floor(c / 2), expected: c, max: Math.floor((3 * c) / 2) };
    case 'below_band': // 1200/1500/1800 for 1,000: band 1300/1400/1600/1700, 400 dials
      return {
        min: Math.floor((6 * c) / 5),
        expected: Math.floor((3 * c) / 2),
        max: Math.floor((9 * c) / 5),
      };
    case 'above_band': // 400/600/800 for 1,000: band 466/532/668/734, 332 closes
      return {
        min: Math.floor((2 * c) / 5),
        expected: Math.floor((3 * c) / 5),
        max: Math.floor((4 * c) / 5),
      };
    default:
      return assertNever(situation);
  }
}

export async function runCycleBench(opts: CycleBenchOptions): Promise<CycleBenchResult> {
  const results: SituationResult[] = [];
  let pointChangeCpuMs: Distribution | undefined;
  let greylistCpuMs: Distribution | undefined;
  let setupMs = 0;
  for (const situation of opts.situations ?? situations) {
    const before = process.cpuUsage();
    const node = buildNode(opts, boundsFor(situation, opts.connections));
    setupMs = cpuMsSince(before);
    node.worker.start();
    results.push(await measureCycles(situation, node, opts));
    if (situation === 'in_band') {
      pointChangeCpuMs = await measurePointChange(node, opts);
      greylistCpuMs = await measureGreylist(node, opts);
    }
    await node.worker.shutdown();
  }
  return {
    situations: results,
    pointChangeCpuMs: pointChangeCpuMs ?? distribution([]),
    greylistCpuMs: greylistCpuMs ?? distribution([]),
    setupMs,
  };
}

interface BenchNode {
  clock: FakeClock;
  pool: Pool;
  handles: PeerHandle[];
  worker: MaintenanceWorker;
  bounds: ConnectionBounds;
  /** Points never tried, for `measurePointChange`. */
  idle: string[];
}

const hour = 3_600_000;

/** The address of point `n` (n < 15.6 M): `10.a.b.c`, all distinct. */
function hostOf(n: number): string {
  return `10.${Math.floor(n / 62_500)}.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;
}

/**
 * A pool as a long-running big node has it: of the points not connected, 20 % last succeeded,
 * 30 % failed (a third of those still in backoff), the rest never tried; 10 trusted points (5
 * connected, 5 down and waiting their backoff), 100 greylisted IPs, 10 banned points; 70 % of
 * the connections outbound, a third of them hot.
 */
function buildNode(opts: CycleBenchOptions, bounds: ConnectionBounds): BenchNode {
  const clock = new FakeClock();
  const now = clock.now();
  const rng = seededRng(42);
  const base = defaultConfig();
  // The default cap (400 known points, 8N with --connections N) would evict all but a few.
  const caps = { high: opts.knownPoints, low: Math.floor(opts.knownPoints * 0.75) };
  const config = {
    ...base,
    connections: bounds,
    pool: { ...base.pool, maxKnownPoints: caps, maxKnownPeerIds: caps },
  };
  const telemetry = noopTelemetry();
  const pool = new Pool({ clock, rng, config: config.pool, metrics: telemetry.metrics });
  const points: PointRecord[] = [];
  const peers: PeerRecord[] = [];
  const idle: string[] = [];
  for (let n = 0; n < opts.knownPoints; n++) {
    const host = hostOf(n);
    const key = `${host}:9740`;
    const record: PointRecord = {
      key,
      host,
      port: 9740,
      state: 'disconnected',
      sources: ['peer_sharing'],
      addedAt: now - 48 * hour + n,
      consecutiveFailures: 0,
      nextDialAt: 0,
      privateNode: false,
      peerSharing: true,
    };
    const kind = n < opts.connections ? -1 : n % 10;
    if (kind < 2) {
      const id = peerId(n);
      const at = now - hour - n;
      points.push({ ...record, lastSuccessAt: at, lastDisconnectAt: at + 1, lastPeerId: id });
      peers.push({
        peerId: id,
        firstSeenAt: at - hour,
        lastSeenAt: at,
        lastPoint: key,
        connections: 0,
        privateNode: false,
        peerSharing: true,
      });
    } else if (kind < 5) {
      const at = now - 10 * hour + n;
      const nextDialAt = kind === 4 ? now + hour : now - 1;
      points.push({ ...record, lastFailureAt: at, consecutiveFailures: 3, nextDialAt });
    } else {
      points.push(record);
      if (idle.length < opts.warmup + opts.iterations && n % 97 === 0) idle.push(key);
    }
  }
  pool.restore({
    points,
    peers,
    acl: { bans: [], ipGreylist: [], peerGreylist: [], trustedPoints: [], trustedPeers: [] },
  });
  for (let t = 0; t < 10; t++) {
    const trusted = { host: hostOf(t < 5 ? t * 97 : opts.connections + t * 1009), port: 9740 };
    pool.trustPoint(trusted);
    if (t >= 5 && pool.dialStarted(trusted).ok) pool.dialFailed(trusted, 'connection_refused');
  }
  for (let g = 0; g < 100; g++) pool.greylistIp(hostOf(opts.connections + 13 + g * 331), 'bench');
  for (let b = 0; b < 10; b++)
    pool.ban({ kind: 'point', point: `${hostOf(opts.connections + 7 + b * 919)}:9740` });
  const handles: PeerHandle[] = [];
  for (let n = 0; n < opts.connections; n++) {
    const key = `${hostOf(n)}:9740`;
    const outbound = n % 10 < 7;
    if (outbound) pool.dialStarted(key);
    else pool.inboundAccepted(key);
    pool.connected(key, peerId(n));
    const connection = new FakeConnection(peerId(n), outbound ? 'outbound' : 'inbound', key);
    const handle = new PeerHandle(connection.asConnection());
    handle.status = n % 3 === 0 ? 'hot' : 'warm';
    handles.push(handle);
  }
  const refused = new WireError('connection_closed', 'bench: no socket');
  const worker = new MaintenanceWorker({
    clock,
    rng,
    telemetry,
    config,
    pool,
    peers: () => handles,
    connect: () => Promise.reject(refused),
    disconnect: () => Promise.resolve(),
    askForMore: () => Promise.resolve(0),
  });
  return { clock, pool, handles, worker, bounds, idle };
}

async function measureCycles(
  situation: Situation,
  node: BenchNode,
  opts: CycleBenchOptions,
): Promise<SituationResult> {
  const cpu: number[] = [];
  const wall: number[] = [];
  let last: CycleSummary | undefined;
  for (let i = 0; i < opts.warmup + opts.iterations; i++) {
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    last = await node.worker.maintain();
    const wallMs = performance.now() - wallBefore;
    const cpuMs = cpuMsSince(cpuBefore);
    if (i < opts.warmup) continue;
    cpu.push(cpuMs);
    wall.push(wallMs);
  }
  const planMs: number[] = [];
  let plan: CyclePlan | undefined;
  for (let i = 0; i < opts.warmup + opts.iterations; i++) {
    const input = planInputOf(node, i);
    const started = performance.now();
    plan = planCycle(input);
    if (i >= opts.warmup) planMs.push(performance.now() - started);
  }
  return {
    situation,
    bounds: node.bounds,
    band: node.worker.band,
    plan: `${describe(plan)}; cycle ${last?.before}→${last?.after}, ${last?.dialed} dialed, ${last?.closed} closed`,
    cpuMs: distribution(cpu),
    wallMs: distribution(wall),
    planMs: distribution(planMs),
  };
}

/** A point changing state (a dial started, then failed), then the snapshot the next plan reads. */
function measurePointChange(node: BenchNode, opts: CycleBenchOptions): Promise<Distribution> {
  return cpuPerIdlePoint(node, opts, async (key) => {
    node.pool.dialStarted(key);
    node.pool.dialFailed(key, 'connection_refused');
    await nextTurn(); // the worker's listener runs in a microtask
  });
}

/** The point's IP greylisted, then the snapshot the next plan reads. */
function measureGreylist(node: BenchNode, opts: CycleBenchOptions): Promise<Distribution> {
  return cpuPerIdlePoint(node, opts, (key) => {
    node.pool.greylistIp(hostOfKey(key), 'bench');
  });
}

/** CPU of `change` on each idle point, then of a snapshot (its lists updated with the change). */
async function cpuPerIdlePoint(
  node: BenchNode,
  opts: CycleBenchOptions,
  change: (key: string) => Promise<void> | void,
): Promise<Distribution> {
  const cpu: number[] = [];
  for (const [i, key] of node.idle.entries()) {
    const before = process.cpuUsage();
    await change(key);
    node.pool.snapshot();
    if (i >= opts.warmup) cpu.push(cpuMsSince(before));
  }
  return distribution(cpu);
}

/** What the worker hands the planner (as `MaintenanceWorker.#planInput` builds it). */
function planInputOf(node: BenchNode, seed: number): Parameters<typeof planCycle>[0] {
  const { pool, handles, worker, clock } = node;
  const connections = handles.map(
    (handle): LiveConnection => ({
      peerId: handle.peerId,
      ...(handle.connection.point === undefined ? {} : { point: handle.connection.point }),
      direction: handle.direction,
      status: handle.status === 'hot' ? 'hot' : 'warm',
      trusted: isTrustedHandle(pool, handle),
      establishedAt: handle.establishedAt,
    }),
  );
  return {
    band: worker.band,
    snapshot: pool.snapshot(),
    connections,
    dialing: new Set(),
    failedThisCycle: new Set(),
    privateMode: false,
    motive: 'maintain_request',
    now: clock.now(),
    rng: seededRng(seed),
    maxParallelDials: 10,
  };
}

function describe(plan: CyclePlan | undefined): string {
  switch (plan?.kind) {
    case undefined:
      return 'no plan';
    case 'none':
      return `none (${plan.reason})`;
    case 'dial':
      return `dial ${plan.dials.length} (${plan.reason})`;
    case 'close':
      return `close ${plan.victims.length} (${plan.reason})`;
    default:
      return assertNever(plan);
  }
}

function cpuMsSince(before: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

/** Nearest-rank quantiles. */
export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number =>
    sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
  return {
    min: sorted[0] ?? Number.NaN,
    median: at(0.5),
    p99: at(0.99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

function assertNever(value: never): never {
  throw new Error(`unexpected: ${JSON.stringify(value)}`);
}
