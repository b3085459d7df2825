import { readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NodeStatus } from '../../src/status.ts';
import { type NodeProcess, startNodeProcess } from '../../test/fixtures/node-process.ts';
import { type Distribution, distribution } from './cycle.ts';

/**
 * Convergence of real `meshkeeper run` processes on loopback: node i on 127.0.40.(i+1), all on
 * the same ports, the first `seeds` nodes as everyone's bootstrap. The clock starts before the
 * first spawn; it stops when every node's established count is inside [minTarget, maxTarget]
 * at once (read from `/debug/status`), and the nodes are then watched for `holdS` more seconds.
 */

export interface ConvergenceOptions {
  nodes: number;
  /** Every node's `--connections`. */
  connections: number;
  seeds: number;
  timeoutS: number;
  holdS: number;
  pollMs: number;
}

export interface RepResult {
  /** Spawn → the last `node_started` line (Node start-up, not maintenance). */
  allStartedMs: number;
  startedMs: Distribution;
  /** Spawn → a node's first poll inside its band, over the nodes that got there. */
  firstInBandMs: Distribution;
  /** Nodes never seen inside their band. */
  neverInBand: number;
  /** Spawn → every node inside its band at once (undefined: not within the timeout). */
  allInBandMs: number | undefined;
  /** Nodes inside their band during the hold after convergence: the fewest seen, and at its end. */
  held: { min: number; end: number };
  /** Established counts at the end. */
  established: Distribution;
  /** Sum of the nodes' RSS: the highest poll, and per node at the end (MiB). */
  peakRssSumMiB: number;
  rssMiB: Distribution;
  /** Nodes that exited before the end (they should not). */
  exited: number;
  /** The nodes outside their band at the end, and what their logs say. */
  outside: OutsideNode[];
}

export interface OutsideNode {
  host: string;
  established: number | undefined;
  knownPoints: number | undefined;
  /** Maintenance cycles, by motive. */
  cycles: Record<string, number>;
  /** Failed dials, by reason (and refusal). */
  dialFailures: Record<string, number>;
  /** Its last few cycles: motive before→after, dialed/succeeded, asked for more. */
  lastCycles: string[];
}

const HOST_PREFIX = '127.0.40.';
const PORT = 9740;
const STOP_GRACE_MS = 15_000;

export function hostOf(index: number): string {
  return `${HOST_PREFIX}${index + 1}`;
}

/** Every process started by this module, for the exit handler: nothing may outlive the bench. */
const live = new Set<NodeProcess>();

export function killAll(): void {
  for (const node of live) if (node.child.exitCode === null) node.child.kill('SIGKILL');
}

/**
 * Starts one node and stops it once it has started: with `NODE_COMPILE_CACHE` set, this fills
 * the cache that the timed processes then share.
 */
export async function warmUp(): Promise<void> {
  const node = startNodeProcess(hostOf(0), [], { port: PORT + 10 });
  live.add(node);
  try {
    await node.waitForLog((l) => l.event === 'node_started', 60_000);
  } finally {
    await stopAll([node]);
  }
}

export async function runConvergence(
  opts: ConvergenceOptions,
  log: (line: string) => void,
): Promise<RepResult> {
  if (opts.nodes > 254) throw new Error('at most 254 nodes on 127.0.40.x');
  const seeds = Array.from({ length: Math.min(opts.seeds, opts.nodes) }, (_, i) => i);
  const t0 = performance.now();
  const nodes: NodeProcess[] = [];
  try {
    for (let i = 0; i < opts.nodes; i++) {
      const bootstrap = seeds.filter((s) => s !== i).map((s) => `${hostOf(s)}:${PORT}`);
      const node = startNodeProcess(
        hostOf(i),
        [
          `--connections=${opts.connections}`,
          `--advertised-address=${hostOf(i)}:${PORT}`,
          ...(bootstrap.length === 0 ? [] : [`--bootstrap=${bootstrap.join(',')}`]),
        ],
        { port: PORT },
      );
      nodes.push(node);
      live.add(node);
    }
    const startedAt: number[] = new Array(opts.nodes).fill(Number.NaN);
    nodes.forEach((node, i) => {
      void node
        .waitForLog((l) => l.event === 'node_started', opts.timeoutS * 1000)
        .then(() => {
          startedAt[i] = performance.now() - t0;
        })
        .catch(() => {});
    });
    return await watch(nodes, startedAt, t0, opts, log);
  } finally {
    await stopAll(nodes);
  }
}

async function watch(
  nodes: NodeProcess[],
  startedAt: number[],
  t0: number,
  opts: ConvergenceOptions,
  log: (line: string) => void,
): Promise<RepResult> {
  const firstInBand: number[] = new Array(nodes.length).fill(Number.NaN);
  let allInBandMs: number | undefined;
  let peakRss = 0;
  const held = { min: nodes.length, end: 0 };
  let statuses: (NodeStatus | undefined)[] = [];
  let lastLog = 0;
  const deadline = t0 + opts.timeoutS * 1000;
  for (;;) {
    const round = performance.now();
    statuses = await Promise.all(nodes.map((n) => fetchStatus(n.host)));
    const now = performance.now() - t0;
    peakRss = Math.max(peakRss, sum(nodes.map(rssMiB)));
    const inBand = statuses.map((s) => s !== undefined && isInBand(s));
    inBand.forEach((ok, i) => {
      if (ok && Number.isNaN(firstInBand[i])) firstInBand[i] = now;
    });
    const count = inBand.filter(Boolean).length;
    if (allInBandMs === undefined && count === nodes.length) allInBandMs = now;
    if (allInBandMs !== undefined) {
      held.min = Math.min(held.min, count);
      held.end = count;
      if (now >= allInBandMs + opts.holdS * 1000) break;
    } else if (performance.now() >= deadline) break;
    if (now - lastLog >= 5000) {
      lastLog = now;
      const started = startedAt.filter((t) => !Number.isNaN(t)).length;
      log(`  ${(now / 1000).toFixed(1)} s: ${started} started, ${count} in band`);
    }
    await sleep(Math.max(0, opts.pollMs - (performance.now() - round)));
  }
  const established = statuses.flatMap((s) => (s === undefined ? [] : [s.established]));
  const outside = nodes.flatMap((node, i) => {
    const status = statuses[i];
    return status !== undefined && isInBand(status) ? [] : [outsideNode(node, status)];
  });
  return {
    allStartedMs: Math.max(...startedAt),
    startedMs: distribution(startedAt.filter((t) => !Number.isNaN(t))),
    firstInBandMs: distribution(firstInBand.filter((t) => !Number.isNaN(t))),
    neverInBand: firstInBand.filter((t) => Number.isNaN(t)).length,
    allInBandMs,
    held: allInBandMs === undefined ? { min: 0, end: 0 } : held,
    established: distribution(established),
    peakRssSumMiB: peakRss,
    rssMiB: distribution(nodes.map(rssMiB).filter((r) => r > 0)),
    exited: nodes.filter((n) => n.child.exitCode !== null || n.child.signalCode !== null).length,
    outside,
  };
}

function outsideNode(node: NodeProcess, status: NodeStatus | undefined): OutsideNode {
  const cycles: Record<string, number> = {};
  const dialFailures: Record<string, number> = {};
  const ended: Record<string, unknown>[] = [];
  for (const line of node.logs) {
    if (line.event === 'maintenance_ended') {
      ended.push(line);
      const motive = String(line.motive);
      cycles[motive] = (cycles[motive] ?? 0) + 1;
    } else if (line.event === 'dial_failed') {
      const why = line.refusal === undefined ? String(line.reason) : `refused ${line.refusal}`;
      dialFailures[why] = (dialFailures[why] ?? 0) + 1;
    }
  }
  return {
    host: node.host,
    established: status?.established,
    knownPoints: status?.knownPoints,
    cycles,
    dialFailures,
    lastCycles: ended
      .slice(-5)
      .map(
        (l) =>
          `${String(l.time).slice(11, 19)} ${l.motive} ${l.before}→${l.after} dialed ${l.dialed} ok ${l.succeeded}${l.askedForMore === true ? ' asked' : ''}`,
      ),
  };
}

function isInBand(status: NodeStatus): boolean {
  return status.established >= status.band.minTarget && status.established <= status.band.maxTarget;
}

async function fetchStatus(host: string): Promise<NodeStatus | undefined> {
  try {
    const response = await fetch(`http://${host}:${PORT + 2}/debug/status`, {
      signal: AbortSignal.timeout(2000),
    });
    return response.ok ? ((await response.json()) as NodeStatus) : undefined;
  } catch {
    return undefined;
  }
}

/** Resident memory of a child now (0 once it has exited). */
function rssMiB(node: NodeProcess): number {
  try {
    const status = readFileSync(`/proc/${node.child.pid}/status`, 'utf8');
    const kib = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
    return kib / 1024;
  } catch {
    return 0;
  }
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** SIGTERM, then SIGKILL after a grace; data dirs removed. */
async function stopAll(nodes: NodeProcess[]): Promise<void> {
  const timer = setTimeout(() => {
    for (const node of nodes) if (node.child.exitCode === null) node.child.kill('SIGKILL');
  }, STOP_GRACE_MS);
  await Promise.all(nodes.map((node) => node.stop('SIGTERM')));
  clearTimeout(timer);
  for (const node of nodes) {
    live.delete(node);
    rmSync(node.dataDir, { recursive: true, force: true });
  }
}
