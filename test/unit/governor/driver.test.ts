import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../../src/clock.ts';
import { Governor } from '../../../src/governor/driver.ts';
import { PeerStateActions } from '../../../src/peers/actions.ts';
import type { ProtocolStarter } from '../../../src/peers/bundles.ts';
import type { PeerHandle } from '../../../src/peers/handle.ts';
import { seededRng } from '../../../src/rng.ts';
import { recordingTelemetry } from '../../../src/telemetry/index.ts';
import { defaultConfig } from '../../fixtures/config.ts';
import { FakeConnection, scriptedProtocol } from '../../fixtures/fake-peer.ts';

interface Setup {
  clock: FakeClock;
  peers: PeerStateActions;
  governor: Governor;
  handles: PeerHandle[];
  /** Peers whose connection churn closed, as the governor reported them. */
  churnClosed: string[];
}

function setup(opts: {
  hotTarget: number;
  churnIntervalMs?: number;
  hot?: ProtocolStarter;
  trusted?: Set<string>;
}): Setup {
  const clock = new FakeClock(0);
  const telemetry = recordingTelemetry();
  const config = {
    ...defaultConfig().peers,
    hotTarget: opts.hotTarget,
    churnIntervalMs: opts.churnIntervalMs ?? 0,
  };
  const peers = new PeerStateActions({
    clock,
    rng: seededRng(3),
    telemetry,
    config,
    bundles: {
      established: { keepAlive: scriptedProtocol().starter },
      warm: {},
      hot: { gossip: opts.hot ?? scriptedProtocol().starter },
    },
    dial: async () => {
      throw new Error('no dials here');
    },
  });
  const churnClosed: string[] = [];
  const governor = new Governor({
    clock,
    rng: seededRng(4),
    telemetry,
    config,
    peers,
    isTrusted: (h) => opts.trusted?.has(h.peerId) ?? false,
    churnClosed: (h) => churnClosed.push(h.peerId),
  });
  return { clock, peers, governor, handles: [], churnClosed };
}

/** Warm peers with the given RTTs (ms), named p0, p1, … */
function warmPeers(s: Setup, rttsMs: number[]): PeerHandle[] {
  return rttsMs.map((rtt, i) => {
    const handle = s.peers.adopt(new FakeConnection(`p${i}`, 'inbound').asConnection());
    handle.observeRtt(rtt / 1000);
    return handle;
  });
}

const hotIds = (s: Setup) =>
  [...s.peers.handles.values()]
    .filter((h) => h.status === 'hot')
    .map((h) => h.peerId)
    .sort();

test('below target: promotes the warm peers with the best RTT', async () => {
  const s = setup({ hotTarget: 3 });
  warmPeers(s, [50, 5, 40, 1, 30]);
  s.governor.start();
  await s.clock.advance(0);
  assert.deepEqual(hotIds(s), ['p1', 'p3', 'p4']);
  s.governor.stop();
});

test('above target: demotes the worst RTT first, never a trusted peer', async () => {
  const s = setup({ hotTarget: 2, trusted: new Set(['p0']) });
  const handles = warmPeers(s, [90, 5, 40, 1, 30]);
  for (const h of handles) await s.peers.activate(h);
  s.governor.start();
  await s.clock.advance(0);
  // p0 has the worst RTT but is trusted: it stays, and counts toward the target; the worst
  // of the others (p2, p4, p1) go and the best (p3) stays.
  assert.deepEqual(hotIds(s), ['p0', 'p3']);
  s.governor.stop();
});

test('a failed promotion backs that peer off (5 s · 2^(n−1) ± 2 s) before it is tried again', async () => {
  let attempts = 0;
  const failing: ProtocolStarter = () => {
    attempts++;
    throw new Error('hot bundle would not start');
  };
  const s = setup({ hotTarget: 1, hot: failing });
  warmPeers(s, [10]);
  s.governor.start();
  await s.clock.advance(0);
  assert.equal(attempts, 1);
  await s.clock.advance(2_500);
  assert.equal(attempts, 1, 'still in its backoff (≥ 3 s)');
  await s.clock.advance(5_000);
  assert.equal(attempts, 2, 'tried again once the backoff ended');
  s.governor.stop();
});

test('churn: demotes a hot peer and closes a non-trusted warm peer, only old ones', async () => {
  const s = setup({ hotTarget: 2, churnIntervalMs: 60_000, trusted: new Set(['p4']) });
  const handles = warmPeers(s, [1, 2, 3, 4, 5]);
  s.governor.start();
  await s.clock.advance(0);
  assert.equal(hotIds(s).length, 2);
  // Young peers (connected < 10 min) are spared by churn.
  await s.clock.advance(121_000);
  assert.equal(s.peers.handles.size, 5, 'no young peer closed');
  await s.clock.advance(11 * 60_000);
  const closed = handles.filter((h) => h.status === 'cold');
  assert.ok(closed.length >= 1, 'a warm peer was closed');
  assert.ok(
    closed.every((h) => h.peerId !== 'p4'),
    'never a trusted peer',
  );
  s.governor.stop();
});

test('churn: the demoted peer is promoted last until the next round; closes are reported', async () => {
  // The first round comes at 11–12 min, when every peer is old enough to be churned.
  const s = setup({ hotTarget: 2, churnIntervalMs: 11 * 60_000 });
  const handles = warmPeers(s, [1, 2, 3, 4]);
  s.governor.start();
  await s.clock.advance(0);
  assert.deepEqual(hotIds(s), ['p0', 'p1']);
  await s.clock.advance(12 * 60_000 + 1_000);
  const demoted = handles.filter(
    (h) => (h.peerId === 'p0' || h.peerId === 'p1') && h.status === 'warm',
  );
  const closed = handles.filter((h) => h.status === 'cold').map((h) => h.peerId);
  assert.equal(demoted.length, 1, 'one hot peer demoted');
  assert.equal(closed.length, 1, 'one warm peer closed');
  assert.deepEqual(s.churnClosed, closed);
  // Its RTT beats the warm peer left, yet that one was promoted in its place.
  assert.equal(hotIds(s).length, 2);
  assert.ok(!hotIds(s).includes(demoted[0]?.peerId ?? ''), 'not promoted again at once');
  s.governor.stop();
});
