import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { type NodeProcess, startNodeProcess } from '../fixtures/node-process.ts';
import {
  bootstrapAllBut,
  hosts,
  killAll,
  livePeers,
  P2P_PORT,
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
  // Keep three connected peers and kill every other node, connected or not: a node left running
  // could dial in during the kill and hold the count at minThreshold (4), and then no trigger
  // fires — only the settle timer, later.
  const kept = others.filter((_, i) => connected.has(ids[i] ?? '')).slice(0, 3);
  assert.equal(kept.length, 3, 'node 0 has at least three peers');
  const toKill = others.filter((n) => !kept.includes(n));
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
  const trigger = target.logs.find(
    (l) => l.event === 'too_few_connections' && Date.parse(String(l.time)) >= killedAt,
  );
  assert.ok(trigger !== undefined, 'a too_few_connections line after the kill');
  assert.ok(Number(trigger.count) < 4, `count at the trigger: ${trigger.count}`);
  assert.ok(Date.parse(String(line.time)) - killedAt < 10_000);
  // The killed nodes come back at the same points with the same identities: node 0's too_few
  // retries (and their own dials) bring it back inside the band.
  nodes = [target, ...kept];
  for (const dead of toKill) {
    const flags = ['--connections=6', bootstrapAllBut(list, dead.host)];
    nodes.push(startNodeProcess(dead.host, flags, { port: P2P_PORT, dataDir: dead.dataDir }));
  }
  const back = await until(
    () => target.status(),
    (s) => s.established >= s.band.minThreshold && s.established <= s.band.maxThreshold,
    30_000,
    'node 0 back inside the band',
  );
  assert.ok(back.established >= 4);
});
