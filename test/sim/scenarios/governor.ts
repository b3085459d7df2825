import type { PeerStatus } from '../../../src/peers/status.ts';
import { randomInt } from '../../../src/rng.ts';
import { FaultInjector } from '../faults.ts';
import { HotWatch, type Wait } from '../hot-watch.ts';
import { hotOutsideEstablished } from '../invariants.ts';
import { Simulation } from '../simulator.ts';

/**
 * Issue 3's scenario: 200 nodes for 6 simulated hours; the hot target goes 5 → 8 → 3; links go
 * dark, nodes are killed and come back, operators ban peers. Runs in a worker (runInWorker) and
 * returns what the test asserts on.
 */

export const NODES = 200;
const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const RUN_MS = 6 * HOUR;
/** `peers.hotTarget` changes during the run (it starts at 5). */
export const TARGETS: readonly (readonly [atMs: number, hotTarget: number])[] = [
  [2 * HOUR, 8],
  [4 * HOUR, 3],
];
export const KEEP_ALIVE_INTERVAL_MS = 300_000;
export const KEEP_ALIVE_TIMEOUT_MS = 30_000;
/**
 * Bounds 6/12/18 (band 8/10/14/16) leave room for 8 hot peers. Keep-alive pings every 5 min
 * instead of 10 s: a link's RTT is fixed, so the first ping (sent at once) tells the governor
 * all it will learn, and 2,000 keep-alive clients pinging every 10 s for 6 hours would cost
 * minutes of wall time (every 2 min, half the run's). A dark link is still found, by the first
 * ping after it went dark.
 */
const FLAGS = [
  '--connections=12',
  '--peers-hot-target=5',
  `--wire-keep-alive-interval=${KEEP_ALIVE_INTERVAL_MS}`,
  `--wire-keep-alive-timeout=${KEEP_ALIVE_TIMEOUT_MS}`,
];
export const MAX_EVENTS_PER_INSTANT = 100;
/** Where the trace digest is taken for the replay check: faults, restarts and bans included. */
export const CHECKPOINT_MS = 20 * MINUTE;

export interface GovernorOptions {
  seed: number;
  /** How much of the scenario to play. */
  untilMs: number;
}

export interface GovernorReport {
  wallMs: number;
  /** Set when the run stopped early (a livelock, a thrown error). */
  error?: string;
  events: number;
  traceLines: number;
  peakEventsPerInstant: number;
  /** Trace digest at CHECKPOINT_MS. */
  checkpointDigest?: string;
  /** Waits for the hot target (HotWatch), in simulated ms. */
  waits: { count: number; p99Ms: number; longest?: Wait };
  /**
   * Per node alive at 1 h and at the end: the share of its hot peers at the end that were not
   * hot at 1 h, and the same for its established (warm or hot) peers.
   */
  replaced: { hot: number[]; established: number[] };
  /** Checks of hot ⊆ established, one per simulated minute, and what they found. */
  checks: number;
  problems: string[];
  faults: FaultInjector['tally'];
  handshakes: Record<string, number>;
  /** Dark links old enough to have been found by keep-alive, and those still up. */
  darkLinks: { due: number; unnoticed: number };
}

export async function governorScenario(options: GovernorOptions): Promise<GovernorReport> {
  const started = performance.now();
  const run = setUp(options.seed);
  let error: string | undefined;
  try {
    await run.sim.runUntil(options.untilMs);
  } catch (thrown) {
    error = String(thrown);
  }
  run.hot.finish();
  return {
    ...report(run),
    wallMs: performance.now() - started,
    ...(error === undefined ? {} : { error }),
  };
}

/** A scenario under way: the simulation and what watches it. */
interface Run {
  sim: Simulation;
  hot: HotWatch;
  faults: FaultInjector;
  checks: { count: number; problems: string[] };
  hourOne: { hot: Map<string, Set<string>>; established: Map<string, Set<string>> };
  checkpointDigest?: string;
}

function setUp(seed: number): Run {
  const sim = new Simulation({ seed, flags: FLAGS, maxEventsPerInstant: MAX_EVENTS_PER_INSTANT });
  const bootstrapRng = sim.rng('bootstrap');
  for (let i = 0; i < NODES; i++) {
    // Each node is told of three others, as a Service's DNS name gives a new pod a few.
    const others = Array.from({ length: 3 }, () => randomInt(bootstrapRng, NODES));
    sim.addNode(others.filter((j) => j !== i));
  }
  const hot = new HotWatch(() => sim.elapsedMs);
  sim.observe(hot);
  const run: Run = {
    sim,
    hot,
    faults: injectFaults(sim, hot),
    checks: { count: 0, problems: [] },
    hourOne: { hot: new Map(), established: new Map() },
  };
  for (const [atMs, target] of TARGETS) {
    sim.at(atMs, () => {
      sim.setHotTarget(target);
      for (const node of sim.nodes) if (node.alive) hot.check(node);
    });
  }
  sim.every(MINUTE, () => {
    run.checks.count++;
    for (const node of sim.nodes) {
      if (node.alive) run.checks.problems.push(...hotOutsideEstablished(node));
    }
  });
  sim.at(HOUR, () => {
    run.hourOne = { hot: peerSets(sim, ['hot']), established: peerSets(sim, ['warm', 'hot']) };
  });
  sim.at(CHECKPOINT_MS, () => {
    run.checkpointDigest = sim.trace.digest();
  });
  for (let i = 0; i < NODES; i++) void sim.start(i);
  return run;
}

/** A dark link a minute, a node killed every ten, a ban every five, from the 5th minute on. */
function injectFaults(sim: Simulation, hot: HotWatch): FaultInjector {
  const faults = new FaultInjector(sim);
  faults.onKill = (node) => hot.forget(node.name);
  faults.repeat([30_000, 90_000], 5 * MINUTE, RUN_MS, () => faults.cutLink());
  faults.repeat([5 * MINUTE, 15 * MINUTE], 5 * MINUTE, RUN_MS, () =>
    faults.killAndRestart([2 * MINUTE, 8 * MINUTE]),
  );
  faults.repeat([3 * MINUTE, 7 * MINUTE], 5 * MINUTE, RUN_MS, () =>
    faults.ban([10 * MINUTE, 30 * MINUTE]),
  );
  return faults;
}

function report(run: Run): Omit<GovernorReport, 'wallMs' | 'error'> {
  const { sim, hot, faults } = run;
  const noticeMs = KEEP_ALIVE_INTERVAL_MS + KEEP_ALIVE_TIMEOUT_MS + 5_000;
  const due = faults.cuts.filter((cut) => cut.atMs <= sim.elapsedMs - noticeMs);
  return {
    events: sim.meter.total,
    traceLines: sim.trace.lines,
    peakEventsPerInstant: sim.meter.peak,
    ...(run.checkpointDigest === undefined ? {} : { checkpointDigest: run.checkpointDigest }),
    waits: {
      count: hot.waits.length,
      p99Ms: percentile(hot.waits, 0.99),
      ...(hot.longest === undefined ? {} : { longest: hot.longest }),
    },
    replaced: {
      hot: replacedShares(run.hourOne.hot, peerSets(sim, ['hot'])),
      established: replacedShares(run.hourOne.established, peerSets(sim, ['warm', 'hot'])),
    },
    checks: run.checks.count,
    problems: run.checks.problems.slice(0, 20),
    faults: faults.tally,
    handshakes: Object.fromEntries(sim.network.outcomes),
    darkLinks: {
      due: due.length,
      unnoticed: due.filter(({ link }) => !link.dialerEnd.destroyed || !link.acceptorEnd.destroyed)
        .length,
    },
  };
}

/** Each live node's peers in `statuses`. */
function peerSets(sim: Simulation, statuses: readonly PeerStatus[]): Map<string, Set<string>> {
  return new Map(
    sim.nodes
      .filter((node) => node.alive)
      .map((node) => [node.name, new Set(statuses.flatMap((status) => node.peersIn(status)))]),
  );
}

function replacedShares(
  before: Map<string, Set<string>>,
  after: Map<string, Set<string>>,
): number[] {
  const shares: number[] = [];
  for (const [name, now] of after) {
    const then = before.get(name);
    if (then === undefined || now.size === 0) continue;
    shares.push([...now].filter((peer) => !then.has(peer)).length / now.size);
  }
  return shares;
}

function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
}
