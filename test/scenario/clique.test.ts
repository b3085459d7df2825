import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { NodeProcess } from '../fixtures/node-process.ts';
import { bootstrapAllBut, hosts, killAll, startNodes, until } from '../fixtures/scenario.ts';

const list = hosts('127.0.3', 12);
let nodes: NodeProcess[] = [];
after(() => killAll(nodes));

// The simulator plays the same clique over 40 start orders (test/sim/clique.sim.test.ts).
test('12-node clique with --connections 6 converges into [minTarget, maxTarget] on every node', async () => {
  nodes = startNodes(list, (host) => ['--connections=6', bootstrapAllBut(list, host)]);
  const statuses = await until(
    () => Promise.all(nodes.map((n) => n.status())),
    (all) =>
      all.every((s) => s.established >= s.band.minTarget && s.established <= s.band.maxTarget),
    60_000,
    'every node in [5, 7]',
  );
  for (const s of statuses) {
    assert.deepEqual(s.band, { minThreshold: 4, minTarget: 5, maxTarget: 7, maxThreshold: 8 });
  }
});

test('SIGTERM: every node exits 0 and leaves a complete peers.json', async () => {
  const known = await Promise.all(nodes.map((n) => n.status().then((s) => s.knownPoints)));
  const codes = await Promise.all(nodes.map((n) => n.stop('SIGTERM')));
  assert.deepEqual(
    codes,
    nodes.map(() => 0),
  );
  nodes.forEach((node, i) => {
    const file = JSON.parse(readFileSync(join(node.dataDir, 'peers.json'), 'utf8')) as {
      version: number;
      points: unknown[];
    };
    assert.equal(file.version, 1);
    assert.ok(
      file.points.length >= (known[i] ?? 0),
      `node ${i}: ${file.points.length} points saved of ${known[i]}`,
    );
  });
});
