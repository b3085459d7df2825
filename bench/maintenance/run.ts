import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ConvergenceOptions,
  killAll,
  type RepResult,
  runConvergence,
  warmUp,
} from './convergence.ts';
import {
  type CycleBenchOptions,
  type CycleBenchResult,
  type Distribution,
  runCycleBench,
} from './cycle.ts';

/**
 * Issue 4: CPU time of one maintenance cycle with 1,000 connections and 100,000 known points
 * (goal < 5 ms), and convergence time of 50 real processes on loopback (goal < 30 s).
 *
 *   node bench/maintenance/run.ts [--only cycle|convergence] [--known-points 100000]
 *     [--connections 1000] [--iterations 200] [--nodes 50] [--node-connections 6] [--seeds 3]
 *     [--reps 3] [--timeout 180] [--hold 5] [--compile-cache on|off]
 *     [--out bench/results/maintenance.md]
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CYCLE_GOAL_MS = 5;
const CONVERGENCE_GOAL_S = 30;

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i] ?? '', process.argv[i + 1] ?? '');
const num = (flag: string, fallback: number): number => {
  const value = Number(args.get(flag) ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${flag} must be a number ≥ 0`);
  return value;
};
const only = args.get('--only');
const cycleOpts: CycleBenchOptions = {
  knownPoints: num('--known-points', 100_000),
  connections: num('--connections', 1000),
  iterations: num('--iterations', 200),
  warmup: num('--warmup', 5),
};
const convergenceOpts: ConvergenceOptions = {
  nodes: num('--nodes', 50),
  connections: num('--node-connections', 6),
  seeds: num('--seeds', 3),
  timeoutS: num('--timeout', 180),
  holdS: num('--hold', 5),
  pollMs: num('--poll-ms', 500),
};
const reps = num('--reps', 3);
const compileCache = args.get('--compile-cache') !== 'off';
const out = args.get('--out') ?? join(ROOT, 'bench/results/maintenance.md');

process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

async function main(): Promise<void> {
  const load = loadavg();
  const startedAt = new Date();
  let cycle: CycleBenchResult | undefined;
  if (only === undefined || only === 'cycle') {
    log(
      `cycle: ${cycleOpts.knownPoints} known points, ${cycleOpts.connections} connections, ${cycleOpts.iterations} cycles per situation`,
    );
    cycle = await runCycleBench(cycleOpts);
  }
  const results: RepResult[] = [];
  if (only === undefined || only === 'convergence') {
    // Node start-up is not maintenance: the processes share one compile cache, filled by a
    // first node started and stopped before the clock runs, so that 50 starts on 2 cores
    // compete less with the nodes already converging.
    const cacheDir = compileCache ? mkdtempSync(join(tmpdir(), 'meshkeeper-cc-')) : undefined;
    if (cacheDir !== undefined) process.env.NODE_COMPILE_CACHE = cacheDir;
    try {
      if (cacheDir !== undefined) await warmUp();
      for (let rep = 1; rep <= reps; rep++) {
        log(`convergence rep ${rep}/${reps}: ${convergenceOpts.nodes} processes`);
        results.push(await runConvergence(convergenceOpts, log));
      }
    } finally {
      if (cacheDir !== undefined) rmSync(cacheDir, { recursive: true, force: true });
    }
  }
  const report = render(startedAt, load, cycle, results);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, report);
  process.stdout.write(report);
}

function render(
  date: Date,
  load: number[],
  cycle: CycleBenchResult | undefined,
  reps: RepResult[],
): string {
  const cpu = cpus();
  const command = ['node bench/maintenance/run.ts', ...process.argv.slice(2)].join(' ');
  const lines = [
    '# Maintenance: cycle CPU and convergence',
    '',
    `Measured ${date.toISOString()} with \`${command}\` (\`npm run bench -- maintenance\` runs it with the defaults) on ${cpu.length} vCPU (${cpu[0]?.model.trim() ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}. Load average at start ${load.map((l) => l.toFixed(2)).join(' / ')}: other jobs shared the machine, so expect noise.`,
    '',
  ];
  if (cycle !== undefined) lines.push(...renderCycle(cycle));
  if (reps.length > 0) lines.push(...renderConvergence(reps));
  return `${lines.join('\n')}\n`;
}

function renderCycle(result: CycleBenchResult): string[] {
  const { knownPoints, connections, iterations, warmup } = cycleOpts;
  const rows = result.situations.map((s) => {
    const { bounds: b, band } = s;
    return `| ${s.situation.replace('_', ' ')} | ${b.min}/${b.expected}/${b.max} | ${band.minThreshold}/${band.minTarget}/${band.maxTarget}/${band.maxThreshold} | ${s.plan} | ${ms(s.cpuMs.median)} | ${ms(s.cpuMs.p99)} | ${ms(s.cpuMs.max)} | ${ms(s.wallMs.median)} | ${ms(s.planMs.median)} | ${s.cpuMs.median < CYCLE_GOAL_MS ? 'met' : 'missed'} |`;
  });
  const change = result.pointChangeCpuMs;
  const greylist = result.greylistCpuMs;
  return [
    `## One maintenance cycle, ${connections.toLocaleString('en')} connections, ${knownPoints.toLocaleString('en')} known points (goal < ${CYCLE_GOAL_MS} ms)`,
    '',
    `The real \`MaintenanceWorker\` over a real \`Pool\`, one \`maintain()\` after another: the pool snapshot, \`planCycle\` (candidate order, victim choice) and what the worker does around it (the live-connection list with its trust checks, the cycle's span and log lines, the re-arming of its follow-up and trusted timers). The pool's cap is raised to ${knownPoints.toLocaleString('en')} known points (\`pool.maxKnownPoints\` ${knownPoints}/${Math.floor(knownPoints * 0.75)}; the default 400/300, or 8N/6N with \`--connections N\`, would evict all but a few hundred), and holds, besides the ${connections.toLocaleString('en')} running points, 20 % last-succeeded, 30 % failed (a third in backoff) and 50 % never-tried points, 10 trusted points (5 connected, 5 in backoff), 100 greylisted IPs and 10 banned points. The connections are \`PeerHandle\`s over fake connections (test/fixtures/fake-peer.ts), 70 % outbound, a third hot; a dial fails at once and a close does nothing, so every cycle sees the same pool and takes the same decision. The bounds put the ${connections.toLocaleString('en')} connections inside, below and above the band. ${iterations} cycles per situation after ${warmup} of warm-up; CPU is \`process.cpuUsage()\` around each \`maintain()\` (user + system, all threads, GC included).`,
    '',
    '| situation | bounds min/expected/max | band | decision | CPU ms median | CPU ms p99 | CPU ms max | wall ms median | `planCycle` alone, ms median | goal |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `A point changing state (a dial started, then failed) in the in-band node, then a snapshot: ${ms(change.median)} ms CPU median, ${ms(change.p99)} ms p99 — the pool's bookkeeping, the worker's listener (it re-arms its trusted timer only for a trusted point), and the snapshot's three lists (map order, dial order, backoff order) patched with the change rather than rebuilt.`,
    '',
    `Greylisting one IP in the in-band node, then a snapshot: ${ms(greylist.median)} ms CPU median, ${ms(greylist.p99)} ms p99 — only the views of the points at that IP are made again.`,
    '',
  ];
}

function renderConvergence(reps: RepResult[]): string[] {
  const o = convergenceOpts;
  const rows = reps.map((r, i) => {
    const converged = r.allInBandMs === undefined ? `not within ${o.timeoutS} s` : s(r.allInBandMs);
    // Not converged: no hold; how many were in band at the end instead.
    const held =
      r.allInBandMs === undefined
        ? `— / ${o.nodes - r.outside.length}`
        : `${r.held.min} / ${r.held.end}`;
    const afterStart =
      r.allInBandMs === undefined ? '—' : s(Math.max(0, r.allInBandMs - r.allStartedMs));
    return `| ${i + 1} | ${s(r.allStartedMs)} | ${s(r.startedMs.median)} | ${s(r.firstInBandMs.median)} | ${s(r.firstInBandMs.max)} | ${r.neverInBand} | ${converged} | ${afterStart} | ${held} | ${dist(r.established, 0)} | ${r.peakRssSumMiB.toFixed(0)} | ${r.rssMiB.median.toFixed(0)} | ${r.exited} |`;
  });
  const within = (t: number | undefined): boolean =>
    t !== undefined && t < CONVERGENCE_GOAL_S * 1000;
  const fromSpawn = reps.filter((r) => within(r.allInBandMs)).length;
  const fromStarted = reps.filter((r) =>
    within(r.allInBandMs === undefined ? undefined : r.allInBandMs - r.allStartedMs),
  ).length;
  return [
    `## Convergence of ${o.nodes} processes on loopback (goal < ${CONVERGENCE_GOAL_S} s)`,
    '',
    `${o.nodes} \`meshkeeper run\` processes (test/fixtures/node-process.ts), node i on 127.0.40.(i+1):9740 (admin :9741, HTTP :9742), each with a fresh data dir, \`--connections ${o.connections}\` and \`--advertised-address\`${compileCache ? ', sharing a Node compile cache (`NODE_COMPILE_CACHE`, filled by one node started and stopped before the clock runs)' : ''}; the first ${o.seeds} nodes are everyone's \`--bootstrap\` (each seed bootstraps from the other seeds). All are spawned at once at t = 0; every ${o.pollMs} ms this script reads \`/debug/status\` of each node and \`VmRSS\` of each process. A node is in band when its established count is inside [minTarget, maxTarget]; "all in band" is the first poll where all ${o.nodes} are, after which the nodes are watched for ${o.holdS} s more. Node start-up (spawn → \`node_started\` log line) is given apart: on ${cpus().length} cores, starting ${o.nodes} Node processes at once takes most of the time and is not maintenance.`,
    '',
    '| rep | all started, s | started, median s | first in band, median s | first in band, last node, s | never in band | all in band, s | all in band − all started, s | in band: during the hold min / at the end | established min / median / max | peak RSS sum, MiB | RSS per node, median MiB | exited early |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    ...reps.flatMap((r, i) =>
      r.outside.map(
        (n) =>
          `Rep ${i + 1}, ${n.host} outside its band at the end: established ${n.established ?? '—'}, ${n.knownPoints ?? '—'} known points; cycles ${JSON.stringify(n.cycles)}; failed dials ${JSON.stringify(n.dialFailures)}; last cycles: ${n.lastCycles.join('; ')}.\n`,
      ),
    ),
    ...(reps.some((r) => r.outside.length > 0)
      ? [
          'A node that stays below minTarget has its dials refused with `too_many_connections`: the others hold maxTarget, where admission refuses inbound (src/maintenance/admission.ts), and nothing frees a slot for it (no swap; the governor churns every 900 s).',
          '',
        ]
      : []),
    `Goal, all in band within ${CONVERGENCE_GOAL_S} s: from spawn, ${fromSpawn === reps.length ? 'met' : 'missed'} (${fromSpawn} of ${reps.length} repetitions); from the last \`node_started\`, ${fromStarted === reps.length ? 'met' : 'missed'} (${fromStarted} of ${reps.length}).`,
    '',
  ];
}

function ms(value: number): string {
  return value.toFixed(value < 10 ? 2 : 1);
}

function s(valueMs: number): string {
  return Number.isNaN(valueMs) ? '—' : (valueMs / 1000).toFixed(1);
}

function dist(d: Distribution, digits: number): string {
  return [d.min, d.median, d.max].map((v) => v.toFixed(digits)).join(' / ');
}

await main().catch((error: unknown) => {
  killAll();
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
