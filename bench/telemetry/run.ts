import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import {
  Cleanup,
  jaegerBinary,
  OPENMETRICS_ACCEPT,
  parseExposition,
  startJaeger,
  stopChild,
  tracingEnv,
  until,
} from '../../test/integration/observability/harness.ts';
import { type Attribution, attribute, type Component } from './profile.ts';

/*
 * Telemetry cost with many connections (issue 6): one `meshkeeper run` process holding N inbound
 * connections from bench/telemetry/peers.ts (another process), telemetry off vs on.
 *
 *   off: no OTEL endpoint (tracing is a no-op), /metrics not scraped during the measurement.
 *   on:  every span sampled and exported over OTLP/gRPC to a real Jaeger; /metrics scraped in
 *        OpenMetrics (with exemplars) every second, as Prometheus does.
 *
 * Metrics are always counted (plain increments; there is no switch to turn them off): "off"
 * means nobody reads them. Per run: connection setup rate (the peers dial N connections, 16 at a
 * time: TLS + handshake + a wire.handshake span per connection when on) and the server's CPU per
 * connection; then a steady window with keep-alive every second on every connection (N pings/s)
 * and the server's CPU share; then /metrics itself: series count and scrape time at N connections.
 * Runs alternate off/on (ABBA) and the ratios are medians of same-repetition ratios (STACK: compare
 * only within one run).
 *
 *   node bench/telemetry/run.ts [--connections 1000] [--reps 3] [--steady 20] [--keepalive 1s]
 *     [--modes off,on] [--out bench/results/telemetry.md]
 */

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '1000' },
    reps: { type: 'string', default: '3' },
    steady: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '16' },
    // Keep-alive period on every connection: 1s is the light steady state, 100ms a loaded one.
    keepalive: { type: 'string', default: '1s' },
    out: { type: 'string', default: new URL('../results/telemetry.md', import.meta.url).pathname },
    // Also `tracing` (tracing only) and `scraping` (scrapes only), to split the cost.
    modes: { type: 'string', default: 'off,on' },
    // After the A/B runs, one more run per mode under `node --cpu-prof`, attributed by component.
    profile: { type: 'boolean', default: false },
  },
});
const N = Number(values.connections);
const REPS = Number(values.reps);
const STEADY_S = Number(values.steady);
const CONCURRENCY = Number(values.concurrency);

const SERVER = '127.0.12.100';
const JAEGER = { host: '127.0.12.99', otlpGrpcPort: 4317, queryHttpPort: 16686, basePort: 14318 };
const MAIN = new URL('../../bin/meshkeeper.js', import.meta.url).pathname;
const PEERS = new URL('./peers.ts', import.meta.url).pathname;
const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s

const MODE_SETTINGS = {
  off: { tracing: false, scraping: false },
  on: { tracing: true, scraping: true },
  tracing: { tracing: true, scraping: false },
  scraping: { tracing: false, scraping: true },
} as const;
type Mode = keyof typeof MODE_SETTINGS;
const MODES = (values.modes ?? 'off,on').split(',') as Mode[];
for (const m of MODES) if (!(m in MODE_SETTINGS)) throw new Error(`unknown mode ${m}`);

interface RunResult {
  rep: number;
  /** From spawning the server to its first /healthz answer. */
  startedAfterMs: number;
  mode: Mode;
  setupPerSecond: number;
  setupCpuMsPerConn: number;
  steadyCpuPercent: number;
  keepAlivesPerSecond: number;
  closedByServer: number;
  failed: number;
  seriesIdle: number;
  series: number;
  bodyBytes: number;
  scrapeTextMs: number;
  scrapeOpenMetricsMs: number;
  scrapeOpenMetricsP95Ms: number;
}

const cleanup = new Cleanup();
process.once('SIGINT', () => void cleanup.run().then(() => process.exit(130)));

try {
  if (jaegerBinary() === undefined) throw new Error('jaeger not built: scripts/install-jaeger.sh');
  const jaeger = await startJaeger(cleanup, JAEGER);
  const results: RunResult[] = [];
  for (let rep = 1; rep <= REPS; rep++) {
    const order: Mode[] = rep % 2 === 1 ? [...MODES] : [...MODES].reverse();
    for (const mode of order) {
      const result = await measure(rep, mode, jaeger.otlpEndpoint);
      results.push(result);
      process.stderr.write(`${JSON.stringify(result)}\n`);
    }
  }
  const profiles: { mode: Mode; attribution: Attribution }[] = [];
  if (values.profile) {
    for (const mode of MODES) {
      const dir = cleanup.tempDir('meshkeeper-prof-');
      const result = await measure(0, mode, jaeger.otlpEndpoint, dir);
      profiles.push({ mode, attribution: attribute(dir, result.startedAfterMs) });
    }
  }
  const report = render(results) + renderProfiles(profiles);
  process.stdout.write(report);
  writeFileSync(values.out, report);
} finally {
  await cleanup.run();
}

async function measure(
  rep: number,
  mode: Mode,
  otlp: string,
  profileDir?: string,
): Promise<RunResult> {
  const run = new Cleanup();
  try {
    const settings = MODE_SETTINGS[mode];
    const server = startServer(run, settings.tracing ? benchTracingEnv(otlp) : {}, profileDir);
    const base = `http://${SERVER}:9742`;
    const spawnedAt = performance.now();
    await until(
      () => fetch(`${base}/healthz`).then((r) => r.status),
      (s) => s === 200,
      20_000,
      'server up',
    );
    const startedAfterMs = Math.round(performance.now() - spawnedAt);
    const seriesIdle = countSeries(await scrape(base, 'text/plain'));

    // Setup: N connections, timed by the peers; server CPU over the same interval.
    const peers = spawn(
      process.execPath,
      [PEERS, `--target=${SERVER}:9740`, `--count=${N}`, `--concurrency=${CONCURRENCY}`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    run.child(peers);
    run.add(async () => {
      await stopChild(peers);
    });
    const lines = lineReader(peers);
    const cpuBefore = cpuTicks(server);
    const setup = JSON.parse(await lines.next()) as {
      connected: number;
      failed: number;
      wallMs: number;
      perSecond: number;
    };
    const setupCpuTicks = cpuTicks(server) - cpuBefore;

    // Steady: keep-alive every second on every connection; `on` is scraped every second.
    await sleep(3000);
    const k0 = keepAlives(await scrape(base, 'text/plain'));
    const c0 = cpuTicks(server);
    const t0 = performance.now();
    const scrapeTimes: number[] = [];
    while (performance.now() - t0 < STEADY_S * 1000) {
      const tick = performance.now();
      if (settings.scraping) {
        await scrape(base, OPENMETRICS_ACCEPT);
        scrapeTimes.push(performance.now() - tick);
      }
      await sleep(Math.max(0, 1000 - (performance.now() - tick)));
    }
    const wallS = (performance.now() - t0) / 1000;
    const c1 = cpuTicks(server);
    const k1 = keepAlives(await scrape(base, 'text/plain'));

    // /metrics at N connections, after the window (it does not disturb it). Not in a profiled
    // run: the profile is of the node's work, not of 40 extra scrapes.
    const textTimes: number[] = [];
    const omTimes: number[] = [];
    let body = '';
    for (let i = 0; i < (profileDir === undefined ? 20 : 0); i++) {
      let t = performance.now();
      body = await scrape(base, 'text/plain');
      textTimes.push(performance.now() - t);
      t = performance.now();
      await scrape(base, OPENMETRICS_ACCEPT);
      omTimes.push(performance.now() - t);
    }
    peers.kill('SIGTERM');
    const closed = JSON.parse(await lines.next()) as { closedByServer: number };
    return {
      rep,
      startedAfterMs,
      mode,
      setupPerSecond: setup.perSecond,
      setupCpuMsPerConn: round((setupCpuTicks * (1000 / CLK_TCK)) / setup.connected, 2),
      steadyCpuPercent: round((((c1 - c0) / CLK_TCK) * 100) / wallS, 1),
      keepAlivesPerSecond: Math.round((k1 - k0) / wallS),
      closedByServer: closed.closedByServer,
      failed: setup.failed,
      seriesIdle,
      series: countSeries(body),
      bodyBytes: Buffer.byteLength(body),
      scrapeTextMs: round(median(textTimes), 1),
      scrapeOpenMetricsMs: round(median(omTimes.concat(scrapeTimes)), 1),
      scrapeOpenMetricsP95Ms: round(percentile(omTimes.concat(scrapeTimes), 0.95), 1),
    };
  } finally {
    await run.run();
  }
}

/** The test's tracing environment with the SDK's default batching (a 5 s export delay). */
function benchTracingEnv(otlp: string): Record<string, string> {
  const { OTEL_BSP_SCHEDULE_DELAY: _testOnly, ...env } = tracingEnv(otlp);
  return env;
}

function startServer(
  run: Cleanup,
  env: Record<string, string>,
  profileDir: string | undefined,
): ChildProcess {
  const dataDir = run.tempDir('meshkeeper-bench-');
  const clean: Record<string, string | undefined> = { ...process.env };
  for (const key of Object.keys(clean)) if (key.startsWith('OTEL_')) delete clean[key];
  const child = spawn(
    process.execPath,
    [
      ...(profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]),
      MAIN,
      'run',
      `--listen=${SERVER}:9740`,
      `--admin-listen=${SERVER}:9741`,
      `--http-listen=${SERVER}:9742`,
      `--data-dir=${dataDir}`,
      '--log-level=info',
      // Room for N inbound: the band's maxTarget (where inbound is refused) stays above N.
      '--connections-min=1',
      `--connections-expected=${N}`,
      `--connections-max=${Math.ceil(N * 1.25)}`,
      `--pool-max-known-points=${4 * N},${3 * N}`,
      `--pool-max-known-peer-ids=${4 * N},${3 * N}`,
      // The peers speak keep-alive and peer-sharing only: no hot peers, so no gossip.
      '--peers-hot-target=0',
      // All peers come from one IP: the per-IP share of pending handshakes must fit 16 at once.
      '--wire-max-pending-inbound=512',
      `--wire-keep-alive-interval=${values.keepalive}`,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...clean, ...env } },
  );
  run.child(child);
  run.add(async () => {
    await stopChild(child);
  });
  return child;
}

function cpuTicks(child: ChildProcess): number {
  const stat = readFileSync(join('/proc', String(child.pid), 'stat'), 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

async function scrape(base: string, accept: string): Promise<string> {
  const response = await fetch(`${base}/metrics`, { headers: { accept } });
  return response.text();
}

function countSeries(text: string): number {
  return parseExposition(text).length;
}

function keepAlives(text: string): number {
  return (
    parseExposition(text).find((s) => s.name === 'meshkeeper_keepalive_rtt_seconds_count')?.value ??
    0
  );
}

function lineReader(child: ChildProcess): { next(): Promise<string> } {
  if (child.stdout === null) throw new Error('no stdout');
  const queue: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const wake = waiting.shift();
    if (wake === undefined) queue.push(line);
    else wake(line);
  });
  return {
    next: () => {
      const line = queue.shift();
      if (line !== undefined) return Promise.resolve(line);
      return new Promise((resolve, reject) => {
        waiting.push(resolve);
        child.once('exit', (code) => reject(new Error(`peers exited (${code})`)));
      });
    },
  };
}

function render(results: RunResult[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.rep} | ${r.mode} | ${r.setupPerSecond} | ${r.setupCpuMsPerConn} | ${r.steadyCpuPercent} | ${r.keepAlivesPerSecond} | ${r.failed}/${r.closedByServer} | ${r.seriesIdle} → ${r.series} | ${r.bodyBytes} | ${r.scrapeTextMs} | ${r.scrapeOpenMetricsMs} (p95 ${r.scrapeOpenMetricsP95Ms}) |`,
  );
  const ratio = (pick: (r: RunResult) => number, mode: Mode) => {
    const ratios: number[] = [];
    for (let rep = 1; rep <= REPS; rep++) {
      const off = results.find((r) => r.rep === rep && r.mode === 'off');
      const on = results.find((r) => r.rep === rep && r.mode === mode);
      if (off !== undefined && on !== undefined && pick(off) > 0) {
        ratios.push(pick(on) / pick(off));
      }
    }
    const m = median(ratios);
    return `${m >= 1 ? '+' : ''}${round((m - 1) * 100, 1)} %`;
  };
  const others = MODES.filter((m) => m !== 'off');
  const med = (mode: Mode, pick: (r: RunResult) => number) =>
    round(median(results.filter((r) => r.mode === mode).map(pick)), 2);
  const summary = [
    ['setup rate, conn/s', (r: RunResult) => r.setupPerSecond],
    ['server CPU per connection set up, ms', (r: RunResult) => r.setupCpuMsPerConn],
    [
      `server CPU, steady (${N} conns, keep-alive every ${values.keepalive}), %`,
      (r: RunResult) => r.steadyCpuPercent,
    ],
    ['keep-alive round trips/s', (r: RunResult) => r.keepAlivesPerSecond],
  ] as const;
  return [
    `Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${N} connections, keep-alive every ${values.keepalive}, ${REPS} repetitions, steady window ${STEADY_S} s.`,
    '',
    `| measure | ${MODES.map((m) => `${m} (median)`).join(' | ')} | ${others.map((m) => `${m} vs off`).join(' | ')} |`,
    `|---|${MODES.map(() => '---|').join('')}${others.map(() => '---|').join('')}`,
    ...summary.map(
      ([name, pick]) =>
        `| ${name} | ${MODES.map((m) => med(m, pick)).join(' | ')} | ${others.map((m) => ratio(pick, m)).join(' | ')} |`,
    ),
    '',
    '(x vs off: median over repetitions of the same-repetition ratio x/off.)',
    '',
    '| rep | mode | setup conn/s | server CPU ms/conn (setup) | server CPU % (steady) | keep-alives/s | dial failures / closed by server | series (0 → N conns) | /metrics bytes | scrape text ms (median) | scrape OpenMetrics ms (median) |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

function renderProfiles(profiles: { mode: Mode; attribution: Attribution }[]): string {
  if (profiles.length === 0) return '';
  const components = Object.keys(profiles[0]?.attribution.percent ?? {}) as Component[];
  return [
    '',
    "Where the server's busy CPU went, one profiled run per mode (`node --cpu-prof`, from the first /healthz answer to exit: connection setup, steady window with its scrapes when on, shutdown; self time by component, native frames counted for their JS caller, GC in 'everything else'):",
    '',
    `| component | ${profiles.map((p) => `${p.mode} (% of ${p.attribution.busyMs} ms busy)`).join(' | ')} |`,
    `|---|${profiles.map(() => '---|').join('')}`,
    ...components.map(
      (c) => `| ${c} | ${profiles.map((p) => p.attribution.percent[c]).join(' | ')} |`,
    ),
    '',
  ].join('\n');
}

function median(xs: number[]): number {
  return percentile(xs, 0.5);
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (sorted.length - 1) * p;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return (sorted[lo] ?? 0) + ((sorted[hi] ?? 0) - (sorted[lo] ?? 0)) * (at - lo);
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
