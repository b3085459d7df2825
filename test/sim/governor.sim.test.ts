import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { FakeClock } from '../../src/clock.ts';
import { InstantMeter, LivelockError, NodeClock } from './node-clock.ts';
import { runInWorker } from './run-in-worker.ts';
import {
  CHECKPOINT_MS,
  type GovernorOptions,
  type GovernorReport,
  HOUR,
  KEEP_ALIVE_INTERVAL_MS,
  MAX_EVENTS_PER_INSTANT,
  NODES,
  RUN_MS,
  TARGETS,
} from './scenarios/governor.ts';

/**
 * Issue 3: the governor keeps every node's hot target while the target changes, faults strike
 * and churn replaces peers — the real pool, worker, governor and PeerStateActions of 200 nodes
 * on simulated links for 6 simulated hours (test/sim/README.md).
 */

const SEED = 3;
const HOT_WITHIN_MS = 30_000;
const scenario = new URL('./scenarios/governor.ts', import.meta.url);
const play = (options: GovernorOptions) =>
  runInWorker<GovernorReport>(scenario, 'governorScenario', options);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const percent = (share: number) => `${(100 * share).toFixed(0)} %`;
const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

describe('governor: 200 nodes, 6 simulated hours, faults, hot target 5 → 8 → 3', () => {
  let run: GovernorReport;

  before(async () => {
    run = await play({ seed: SEED, untilMs: RUN_MS });
  });

  test('runs to the end', (t) => {
    t.diagnostic(`wall ${seconds(run.wallMs)} for ${RUN_MS / HOUR} simulated hours`);
    t.diagnostic(`${run.events} events, ${run.traceLines} trace lines`);
    assert.equal(run.error, undefined);
  });

  test('each node reaches its hot target within 30 s of having enough established peers', (t) => {
    const { count, p99Ms, longest } = run.waits;
    t.diagnostic(
      `${count} waits; p99 ${seconds(p99Ms)}; longest ${seconds(longest?.ms ?? 0)} simulated (${longest?.node} from ${seconds(longest?.sinceMs ?? 0)})`,
    );
    // The target changes alone open a wait on every node: there is something to check.
    assert.ok(count >= NODES * TARGETS.length, `only ${count} waits`);
    assert.ok((longest?.ms ?? 0) <= HOT_WITHIN_MS, `longest wait ${JSON.stringify(longest)}`);
  });

  // Churn demotes hot peers at random and promotes them last until the next round, and the
  // points whose connections it closed are dialed after the never-tried ones (DESIGN §7).
  test('churn replaces hot peers: hour 6 looks little like hour 1', (t) => {
    const hot = mean(run.replaced.hot);
    t.diagnostic(
      `at 6 h, ${percent(hot)} of the hot peers were not hot at 1 h (${percent(mean(run.replaced.established))} of the established peers were not established), over ${run.replaced.hot.length} nodes`,
    );
    assert.ok(run.replaced.hot.length >= NODES * 0.8, `only ${run.replaced.hot.length} nodes`);
    assert.ok(hot >= 0.5, `only ${percent(hot)} replaced`);
  });

  test('hot peers are established in every layer, at every check', (t) => {
    t.diagnostic(`${run.checks} checks of every live node, one per simulated minute`);
    assert.equal(run.checks, RUN_MS / 60_000);
    assert.deepEqual(run.problems, []);
  });

  test('faults were injected and noticed', (t) => {
    const { faults, handshakes, darkLinks } = run;
    t.diagnostic(`faults: ${JSON.stringify(faults)}`);
    t.diagnostic(`handshakes: ${JSON.stringify(handshakes)}`);
    assert.ok(faults.linksCut >= 200 && faults.kills >= 20 && faults.bans >= 40);
    assert.ok((handshakes.banned ?? 0) > 0, 'no handshake refused for a ban');
    assert.ok((handshakes.connect_error ?? 0) > 0, 'no dial to a dead node');
    // A dark link is found by the next ping of either end: within one interval and a timeout.
    t.diagnostic(
      `${darkLinks.due} dark links older than ${seconds(KEEP_ALIVE_INTERVAL_MS)} + timeout`,
    );
    assert.equal(darkLinks.unnoticed, 0);
  });

  test('no livelock: events per node per simulated instant stay bounded', (t) => {
    t.diagnostic(`at most ${run.peakEventsPerInstant} events of one node at one simulated instant`);
    assert.ok(run.peakEventsPerInstant <= MAX_EVENTS_PER_INSTANT);
  });

  test('the run is reproducible from its seed', async (t) => {
    const [again, other] = await Promise.all([
      play({ seed: SEED, untilMs: CHECKPOINT_MS }),
      play({ seed: SEED + 1, untilMs: CHECKPOINT_MS }),
    ]);
    t.diagnostic(`trace digest at ${CHECKPOINT_MS / 60_000} min: ${run.checkpointDigest}`);
    assert.ok(run.checkpointDigest !== undefined);
    assert.equal(again.checkpointDigest, run.checkpointDigest);
    assert.notEqual(other.checkpointDigest, run.checkpointDigest);
  });
});

test('the livelock guard fails a node that keeps scheduling at one instant', async () => {
  const time = new FakeClock(0);
  const meter = new InstantMeter(MAX_EVENTS_PER_INSTANT);
  const clock = new NodeClock(time, meter.counter('looper', time));
  const spin = (): void => {
    clock.setTimeout(spin, 0);
  };
  spin();
  await assert.rejects(time.advance(1_000), LivelockError);
  assert.equal(time.now(), 0);
});
