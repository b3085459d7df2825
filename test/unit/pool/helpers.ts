import { FakeClock } from '../../../src/clock.ts';
import type { Config } from '../../../src/config/types.ts';
import type { PointState } from '../../../src/pool/index.ts';
import { Pool } from '../../../src/pool/index.ts';
import { type Rng, seededRng } from '../../../src/rng.ts';
import { createMetrics, type Metrics } from '../../../src/telemetry/metrics.ts';

export const second = 1_000;
export const minute = 60 * second;
export const hour = 60 * minute;
export const day = 24 * hour;

export function poolConfig(over: Partial<Config['pool']> = {}): Config['pool'] {
  return {
    maxKnownPoints: { high: 400, low: 300 },
    maxKnownPeerIds: { high: 400, low: 300 },
    greylistTimeoutMs: day,
    reconnect: { initialMs: second, factor: 1.2, capMs: 2 * day, afterDisconnectMs: minute },
    persistDebounceMs: second,
    ...over,
  };
}

/** An rng that always returns `u`: 0.5 means "no jitter". */
export function constantRng(u: number): Rng {
  return { next: () => u };
}

const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';

/** A canonical peer id (`mk` + 52 base32 characters ending in a or q) for test number `n`. */
export function peerId(n: number): string {
  let body = '';
  let x = n;
  for (let i = 0; i < 51; i++) {
    body += alphabet[x % 32];
    x = Math.floor(x / 32);
  }
  return `mk${body}a`;
}

/** The point `10.0.<n/250>.<n%250+1>:9740`. */
export function pt(n: number): { host: string; port: number } {
  return { host: `10.0.${Math.floor(n / 250)}.${(n % 250) + 1}`, port: 9740 };
}

export function key(n: number): string {
  const p = pt(n);
  return `${p.host}:${p.port}`;
}

export interface PoolFixture {
  pool: Pool;
  clock: FakeClock;
  metrics: Metrics;
  config: Config['pool'];
}

export function makePool(
  opts: { config?: Partial<Config['pool']>; rng?: Rng; privateMode?: boolean } = {},
): PoolFixture {
  const clock = new FakeClock();
  const metrics = createMetrics({ version: 'test', defaultMetrics: false });
  const config = poolConfig(opts.config);
  const pool = new Pool({
    clock,
    rng: opts.rng ?? seededRng(1),
    config,
    metrics,
    privateMode: opts.privateMode ?? false,
  });
  return { pool, clock, metrics, config };
}

/** The `meshkeeper_points` gauge, by state. */
export async function pointGauges(metrics: Metrics): Promise<Record<PointState, number>> {
  const out: Record<PointState, number> = {
    requested: 0,
    accepted: 0,
    running: 0,
    disconnected: 0,
  };
  for (const v of (await metrics.points.get()).values) {
    out[v.labels.state as PointState] = v.value;
  }
  return out;
}

/** The pool's truth: points by state, counted from the snapshot. */
export function truth(pool: Pool): Record<PointState, number> {
  const out: Record<PointState, number> = {
    requested: 0,
    accepted: 0,
    running: 0,
    disconnected: 0,
  };
  for (const p of pool.snapshot().points) out[p.state]++;
  return out;
}

export async function counterValue(
  metric: { get(): Promise<{ values: { labels: Record<string, unknown>; value: number }[] }> },
  labels: Record<string, string>,
): Promise<number> {
  const values = (await metric.get()).values;
  const hit = values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return hit?.value ?? 0;
}
