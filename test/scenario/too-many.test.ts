import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { NodeProcess } from '../fixtures/node-process.ts';
import { hosts, killAll, livePeers, point, startNodes, until } from '../fixtures/scenario.ts';

const [x, t1, t2, ...us] = hosts('127.0.2', 8) as [string, string, string, ...string[]];
let nodes: NodeProcess[] = [];
after(() => killAll(nodes));

test('too_many: an over-connected node closes non-trusted victims down to maxTarget, trusted untouched', async () => {
  // X: --connections 3 → band 1/1/4/4; it trusts T1 and T2, which are admitted above the band.
  const [target] = startNodes([x], () => [
    '--connections=3',
    `--trusted=${point(t1)},${point(t2)}`,
  ]);
  nodes = [target as NodeProcess];
  const untrusted = startNodes(us, () => ['--connections=2', `--bootstrap=${point(x)}`]);
  nodes.push(...untrusted);
  const xs = target as NodeProcess;
  await until(
    () => xs.status(),
    (s) => s.established === 4,
    30_000,
    'X full of untrusted peers',
  );
  const trusted = startNodes([t1, t2], () => ['--connections=2', `--bootstrap=${point(x)}`]);
  nodes.push(...trusted);
  const trustedIds = await Promise.all(trusted.map((n) => n.status().then((s) => s.peerId)));
  // Both trusted peers get in above the band; each time the count passes maxThreshold a
  // too_many cycle closes non-trusted victims.
  await until(
    async () => livePeers(xs),
    (live) => trustedIds.every((id) => live.has(id)),
    30_000,
    'both trusted peers connected to X',
  );
  const cycle = await xs.waitForLog(
    (l) => l.event === 'maintenance_ended' && l.motive === 'too_many' && Number(l.closed) > 0,
    30_000,
  );
  // The cycle closes down to maxTarget what it counted; a trusted peer admitted while it ran
  // (both start together) may leave `after` above it — the next check waits for that to settle.
  assert.ok(
    Number(cycle.before) - Number(cycle.closed) <= 4,
    `cycle: before ${cycle.before}, closed ${cycle.closed}, after ${cycle.after}`,
  );
  const status = await until(
    () => xs.status(),
    (s) => s.established <= s.band.maxTarget,
    10_000,
    'X at most maxTarget',
  );
  assert.ok(status.established >= 2);
  const live = livePeers(xs);
  for (const id of trustedIds) assert.ok(live.has(id), `trusted ${id} still connected`);
  const closed = xs.logs.filter((l) => l.event === 'peer_status_changed' && l.to === 'cooling');
  assert.ok(closed.length >= 1);
  for (const line of closed) {
    assert.ok(!trustedIds.includes(String(line.peer)), 'a trusted peer was closed');
  }
});
