import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { NodeProcess } from '../fixtures/node-process.ts';
import {
  bootstrapAllBut,
  hosts,
  killAll,
  livePeers,
  startNodes,
  until,
} from '../fixtures/scenario.ts';

const list = hosts('127.0.1', 12);
let nodes: NodeProcess[] = [];
after(() => killAll(nodes));

test('too_few: a node dropped below minThreshold runs a too_few cycle and gets back inside the band', async () => {
  nodes = startNodes(list, (host) => ['--connections=6', bootstrapAllBut(list, host)]);
  const [target, ...others] = nodes as [NodeProcess, ...NodeProcess[]];
  await until(
    () => target.status(),
    (s) => s.established >= s.band.minTarget,
    30_000,
    'node 0 at minTarget',
  );
  const ids = await Promise.all(others.map((n) => n.status().then((s) => s.peerId)));
  const connected = livePeers(target);
  const victims = others.filter((_, i) => connected.has(ids[i] ?? ''));
  const toKill = victims.slice(0, Math.max(0, victims.length - 3));
  const killedAt = Date.now();
  await killAll(toKill);
  // 3 < minThreshold 4: the trigger fires at once, not after the 120 s idle timer.
  const line = await target.waitForLog(
    (l) =>
      l.event === 'maintenance_started' &&
      l.motive === 'too_few' &&
      Date.parse(String(l.time)) >= killedAt,
    20_000,
  );
  assert.ok(
    target.logs.some(
      (l) => l.event === 'too_few_connections' && Date.parse(String(l.time)) >= killedAt,
    ),
  );
  assert.ok(Date.parse(String(line.time)) - killedAt < 10_000);
  const back = await until(
    () => target.status(),
    (s) => s.established >= s.band.minThreshold && s.established <= s.band.maxThreshold,
    30_000,
    'node 0 back inside the band',
  );
  assert.ok(back.established >= 4);
});
