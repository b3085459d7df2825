import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startNodeProcess } from '../../fixtures/node-process.ts';

test('meshkeeper run: starts, serves probes, and SIGTERM exits 0 with peers.json written', async () => {
  const node = startNodeProcess('127.0.0.41');
  try {
    const port = await node.httpPort();
    const health = await fetch(`http://127.0.0.41:${port}/healthz`);
    assert.equal(health.status, 200);
    const status = (await (await fetch(`http://127.0.0.41:${port}/debug/status`)).json()) as {
      peerId: string;
    };
    assert.match(status.peerId, /^mk[a-z2-7]{52}$/);
    const t0 = performance.now();
    const code = await node.stop('SIGTERM');
    assert.equal(code, 0);
    assert.ok(performance.now() - t0 < 15_000);
    const saved = JSON.parse(readFileSync(join(node.dataDir, 'peers.json'), 'utf8')) as {
      version: number;
    };
    assert.equal(typeof saved.version, 'number');
    assert.ok(existsSync(join(node.dataDir, 'identity.json')));
    assert.ok(node.logs.some((l) => l.event === 'node_stopped'));
  } finally {
    await node.stop('SIGKILL');
  }
});
