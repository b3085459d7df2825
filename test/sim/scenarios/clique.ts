import type { Band } from '../../../src/config/band.ts';
import { randomInt } from '../../../src/rng.ts';
import { Simulation } from '../simulator.ts';

/**
 * Issue 4's clique on simulated links: 12 nodes with `--connections 6` (band 4/5/7/8), each
 * bootstrapping from all the others and starting at a random time within the first seconds, as
 * the real-process scenario does. Reports where each node's established count stands.
 */

export const NODES = 12;
const FLAGS = ['--connections=6'];
/** Nodes start spread over this many simulated ms. */
const START_SPREAD_MS = 5_000;

export interface CliqueOptions {
  seed: number;
  /** Simulated ms to run. */
  runMs: number;
  /** The last node starts this late instead (after the others have settled), when given. */
  lastStartMs?: number;
}

export interface CliqueReport {
  band: Band;
  /** Established count of each node at the end. */
  counts: number[];
  /** Simulated ms from the start until every node was in [minTarget, maxTarget], if it was. */
  settledMs?: number;
  /** Maintenance cycles run by all nodes. */
  cycles: number;
  /** Connections closed by cycles (shedding above maxTarget). */
  shed: number;
  error?: string;
}

export async function cliqueScenario(options: CliqueOptions): Promise<CliqueReport> {
  const sim = new Simulation({ seed: options.seed, flags: FLAGS, maxEventsPerInstant: 100 });
  const all = [...Array(NODES).keys()];
  for (const i of all) sim.addNode(all.filter((j) => j !== i));
  const first = sim.nodes[0];
  if (first === undefined) throw new Error('no nodes');
  const band = first.worker.band;
  let cycles = 0;
  let shed = 0;
  sim.observe({
    statusChanged: () => {},
    cycleEnded: (_node, summary) => {
      cycles++;
      shed += summary.closed;
    },
  });
  const startRng = sim.rng('start');
  for (const i of all) {
    const late = i === NODES - 1 ? options.lastStartMs : undefined;
    sim.at(late ?? randomInt(startRng, START_SPREAD_MS), () => void sim.start(i));
  }
  const settleFrom = options.lastStartMs ?? START_SPREAD_MS;
  const counts = () => sim.nodes.map((node) => node.worker.count());
  const inTargets = () => counts().every((c) => c >= band.minTarget && c <= band.maxTarget);
  const report: CliqueReport = { band, counts: [], cycles: 0, shed: 0 };
  try {
    while (sim.elapsedMs < options.runMs) {
      await sim.runUntil(sim.elapsedMs + 500);
      if (report.settledMs === undefined && sim.elapsedMs > settleFrom && inTargets()) {
        report.settledMs = sim.elapsedMs;
      }
    }
  } catch (thrown) {
    report.error = String(thrown);
  }
  report.counts = counts();
  report.cycles = cycles;
  report.shed = shed;
  return report;
}
