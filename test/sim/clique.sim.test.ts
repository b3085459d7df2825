import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runInWorker } from './run-in-worker.ts';
import type { CliqueOptions, CliqueReport } from './scenarios/clique.ts';

/**
 * Issue 4's 12-node clique (`--connections 6`, band 4/5/7/8) on simulated links, over many seeds:
 * every node must end inside [minTarget, maxTarget]. The real-process scenario
 * (test/scenario/clique.test.ts) runs one start order; here 40 are tried, including a node that
 * starts a minute late, when the others have settled and may all sit at maxTarget (a node then
 * starved below the band: admission refused it everywhere and nothing freed a slot).
 */

const scenario = new URL('./scenarios/clique.ts', import.meta.url);
const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);
const RUN_MS = 150_000;
/** Simulated time every node has to reach its targets, from the last start. */
const SETTLE_LIMIT_MS = 60_000;

async function playAll(lastStartMs?: number): Promise<Array<CliqueReport & { seed: number }>> {
  const reports = [];
  for (const seed of SEEDS) {
    const options: CliqueOptions = {
      seed,
      runMs: RUN_MS,
      ...(lastStartMs === undefined ? {} : { lastStartMs }),
    };
    const report = await runInWorker<CliqueReport>(scenario, 'cliqueScenario', options);
    reports.push({ ...report, seed });
  }
  return reports;
}

function check(
  t: { diagnostic(message: string): void },
  reports: Array<CliqueReport & { seed: number }>,
  startMs: number,
): void {
  for (const r of reports) {
    assert.equal(r.error, undefined, `seed ${r.seed}`);
    const { minTarget, maxTarget } = r.band;
    assert.ok(
      r.counts.every((c) => c >= minTarget && c <= maxTarget),
      `seed ${r.seed}: counts ${r.counts.join(',')} not all in [${minTarget}, ${maxTarget}]`,
    );
    assert.ok(
      r.settledMs !== undefined && r.settledMs - startMs <= SETTLE_LIMIT_MS,
      `seed ${r.seed}: settled at ${r.settledMs}`,
    );
  }
  const settle = reports.map((r) => ((r.settledMs ?? 0) - startMs) / 1000);
  t.diagnostic(
    `${reports.length} seeds: all in [5, 7] within ${Math.max(...settle).toFixed(1)} s of the last start (median ${settle.sort((a, b) => a - b)[settle.length >> 1]?.toFixed(1)} s); ${reports.reduce((n, r) => n + r.shed, 0)} connections shed`,
  );
}

test('clique: 12 nodes starting within 5 s all end in [minTarget, maxTarget] (20 seeds)', async (t) => {
  check(t, await playAll(), 5_000);
});

test('clique: a node starting a minute late is let in and every node ends in [minTarget, maxTarget] (20 seeds)', async (t) => {
  const late = await playAll(60_000);
  check(t, late, 60_000);
  // Shedding must have happened somewhere: the late node found peers at maxTarget.
  assert.ok(late.some((r) => r.shed > 0));
});
