import type { Band } from '../../../src/config/band.ts';
import type { LiveConnection, PlanInput } from '../../../src/maintenance/plan.ts';
import {
  compareDialOrder,
  compareNextDialAt,
  type PointState,
  type PointView,
  type PoolSnapshot,
} from '../../../src/pool/index.ts';
import { type Rng, seededRng } from '../../../src/rng.ts';

export const second = 1_000;
export const minute = 60 * second;
export const now = 1_700_000_000_000;

/** The key of test point `n`: `10.0.<n/250>.<n%250+1>:9740`. */
export function key(n: number): string {
  return `10.0.${Math.floor(n / 250)}.${(n % 250) + 1}:9740`;
}

/** A disconnected, never-tried point `n`, dialable now, with `over` applied. */
export function point(n: number, over: Partial<PointView> = {}): PointView {
  const k = key(n);
  const [host = '', port = '9740'] = k.split(':');
  return {
    key: k,
    host,
    port: Number(port),
    state: 'disconnected',
    sources: ['bootstrap'],
    addedAt: now - 60 * minute,
    consecutiveFailures: 0,
    nextDialAt: 0,
    privateNode: false,
    peerSharing: true,
    trusted: false,
    ...over,
  };
}

/** A point whose last attempt succeeded `agoMs` ago (then a running connection ended). */
export function succeeded(n: number, agoMs: number, over: Partial<PointView> = {}): PointView {
  return point(n, { lastSuccessAt: now - agoMs, lastDisconnectAt: now - agoMs + 1, ...over });
}

/** A point whose last dial failed `agoMs` ago (backoff over). */
export function failed(n: number, agoMs: number, over: Partial<PointView> = {}): PointView {
  return point(n, { lastFailureAt: now - agoMs, consecutiveFailures: 1, ...over });
}

export function snapshot(
  points: readonly PointView[],
  opts: { ownAddresses?: string[]; privateMode?: boolean } = {},
): PoolSnapshot {
  const counts: Record<PointState, number> = {
    requested: 0,
    accepted: 0,
    running: 0,
    disconnected: 0,
  };
  for (const p of points) counts[p.state]++;
  return {
    atMs: now,
    privateMode: opts.privateMode ?? false,
    points,
    pointsByDialRank: [...points].sort(compareDialOrder),
    pointsByNextDialAt: [...points].sort(compareNextDialAt),
    peers: [],
    ownAddresses: opts.ownAddresses ?? [],
    counts,
  };
}

/** An established connection to peer `id`. */
export function conn(id: string, over: Partial<LiveConnection> = {}): LiveConnection {
  return {
    peerId: id,
    direction: 'outbound',
    status: 'warm',
    trusted: false,
    establishedAt: now - 30 * minute,
    ...over,
  };
}

/** `n` plain connections `p0…p{n-1}` (no point). */
export function conns(n: number, over: Partial<LiveConnection> = {}): LiveConnection[] {
  return Array.from({ length: n }, (_, i) => conn(`p${i}`, over));
}

/** The band of the default bounds 10/50/100. */
export const defaultBand: Band = {
  minThreshold: 23,
  minTarget: 36,
  maxTarget: 68,
  maxThreshold: 84,
};

/** `n` dialable never-tried points numbered from `from`. */
export function points(n: number, from = 1000): PointView[] {
  return Array.from({ length: n }, (_, i) => point(from + i));
}

export function planInput(over: Partial<PlanInput> = {}, rng: Rng = seededRng(1)): PlanInput {
  return {
    band: defaultBand,
    snapshot: snapshot([]),
    connections: [],
    dialing: new Set(),
    failedThisCycle: new Set(),
    privateMode: false,
    now,
    rng,
    maxParallelDials: 10,
    ...over,
  };
}
