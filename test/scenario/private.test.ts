import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { NodeProcess } from '../fixtures/node-process.ts';
import { startNodeProcess } from '../fixtures/node-process.ts';
import { hosts, killAll, livePeers, point, startNodes, until } from '../fixtures/scenario.ts';

const [p, t1, t2, u] = hosts('127.0.4', 4) as [string, string, string, string];
let nodes: NodeProcess[] = [];
after(() => killAll(nodes));

test('private node: keeps its two trusted peers, re-dials one after its backoff, never an untrusted one', async () => {
  const trusted = startNodes([t1, t2], () => ['--connections=2']);
  const [priv] = startNodes([p], () => [
    '--private-mode',
    '--connections=2',
    `--trusted=${point(t1)},${point(t2)}`,
    // Bootstrap is ignored in private mode: P must never dial U.
    `--bootstrap=${point(u)}`,
    '--pool-reconnect-after-disconnect=1s',
  ]);
  const privateNode = priv as NodeProcess;
  const [untrusted] = startNodes([u], () => ['--connections=2', `--bootstrap=${point(p)}`]);
  nodes = [...trusted, privateNode, untrusted as NodeProcess];
  await until(
    () => privateNode.status(),
    (s) => s.established === 2,
    30_000,
    'P with both trusted peers',
  );
  const uStatus = await (untrusted as NodeProcess).status();
  await (untrusted as NodeProcess).waitForLog(
    (l) => l.event === 'dial_failed' && l.refusal === 'not_trusted',
    20_000,
  );

  // Kill T1 and start it again at the same point with the same identity.
  const [first] = trusted as [NodeProcess, NodeProcess];
  const t1Id = (await first.status()).peerId;
  await first.stop('SIGTERM');
  await until(
    () => privateNode.status(),
    (s) => s.established === 1,
    15_000,
    'P notices T1 gone',
  );
  const restarted = startNodeProcess(t1, ['--connections=2'], {
    dataDir: first.dataDir,
    port: 9740,
  });
  nodes.push(restarted);
  await until(
    () => privateNode.status(),
    (s) => s.established === 2,
    30_000,
    'P re-dials T1',
  );
  assert.ok(livePeers(privateNode).has(t1Id));

  const pLogs = privateNode.logs;
  assert.ok(
    !pLogs.some((l) => l.event === 'peer_status_changed' && l.peer === uStatus.peerId),
    'U never became a peer',
  );
  assert.ok(
    !pLogs.some((l) => l.event === 'dial_failed' && String(l.point).startsWith(`${u}:`)),
    'P never dialed U',
  );
  assert.equal((await privateNode.status()).privateMode, true);
});
