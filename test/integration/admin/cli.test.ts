import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { killAll } from '../../fixtures/scenario.ts';
import { type AdminNodeProcess, closeClients, startAdminNode } from './fixtures.ts';

// `meshkeeper admin …` as scripts use it: real processes on 127.0.9.50, address and token from
// the environment or flags, JSON output, and the documented exit codes.
const MAIN = new URL('../../../bin/meshkeeper.js', import.meta.url).pathname;
const TOKEN = 'cli-test-token-0123456789abcdef';
let node: AdminNodeProcess;

before(async () => {
  node = await startAdminNode('127.0.9.50', ['--connections=2'], { token: TOKEN });
});
after(async () => {
  closeClients();
  await killAll([node]);
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function admin(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, 'admin', ...args],
      {
        env: {
          PATH: process.env.PATH ?? '',
          MESHKEEPER_ADMIN_ADDRESS: node.admin,
          MESHKEEPER_ADMIN_TOKEN: TOKEN,
          ...env,
        },
        timeout: 30_000,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

test('status: a table by default, JSON with --json; address and token from the environment', async () => {
  const table = await admin(['status']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /peer id\s+│ mk/);
  assert.match(table.stdout, /bounds min \/ expected \/ max\s+│ 1 \/ 2 \/ 3/);
  const json = await admin(['status', '--json']);
  const status = JSON.parse(json.stdout) as { peer_id: string; bounds: unknown; uptime: string };
  assert.equal(status.peer_id, node.peerId);
  assert.deepEqual(status.bounds, { min: 1, expected: 2, max: 3 });
  assert.match(status.uptime, /^\d+(\.\d+)?s$/);
});

test('the token from --token-file; a missing token exits 3', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'meshkeeper-cli-')), 'token');
  writeFileSync(file, `${TOKEN}\n`);
  const ok = await admin(['bounds', 'get', '--token-file', file], { MESHKEEPER_ADMIN_TOKEN: '' });
  assert.equal(ok.code, 0, ok.stderr);
  const none = await admin(['bounds', 'get'], { MESHKEEPER_ADMIN_TOKEN: '' });
  assert.equal(none.code, 3);
  assert.match(none.stderr, /UNAUTHENTICATED: missing bearer token/);
});

test('a node that cannot be reached exits 4', async () => {
  const r = await admin(['status', '--address', '127.0.9.59:1', '--timeout', '3s']);
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.stderr, /UNAVAILABLE/);
});

test('bad arguments exit 2: the CLI own checks, and the field the node names', async () => {
  const missing = await admin(['bounds', 'set', '--min', '1']);
  assert.equal(missing.code, 2);
  const refused = await admin(['bounds', 'set', '--min', '3', '--expected', '2', '--max', '4']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /INVALID_ARGUMENT/);
  assert.match(
    refused.stderr,
    /field min: min \(3\) must not exceed expected \(2\) \(MIN_ABOVE_EXPECTED\)/,
  );
  const json = await admin(['peers', '--page-size', '1000000000', '--json']);
  assert.equal(json.code, 2);
  const error = JSON.parse(json.stderr) as {
    code: string;
    details: Array<{ fieldViolations: Array<{ field: string }> }>;
  };
  assert.equal(error.code, 'INVALID_ARGUMENT');
  assert.equal(error.details[0]?.fieldViolations[0]?.field, 'page_size');
  const target = await admin(['ban', 'neither-a-peer-nor-an-address']);
  assert.equal(target.code, 2);
});

test('not found exits 6; a refused or failed connect exits 7 with its reason', async () => {
  const unknown = await admin(['disconnect', `mk${'d'.repeat(51)}a`]);
  assert.equal(unknown.code, 6, unknown.stderr);
  const closedPort = await admin(['connect', '127.0.9.59:1']);
  assert.equal(closedPort.code, 7, closedPort.stderr);
  assert.match(closedPort.stderr, /reason: CONNECT_ERROR/);
});

test('a deadline shorter than the work exits 5 (Maintain honours it)', async () => {
  // No peer to dial: the cycle asks for more points and waits (5 s at first, unless a new point
  // arrives, which a point learnt by an earlier test can cause under load): 50 ms is shorter.
  const r = await admin(['maintain', '--timeout', '50ms']);
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /DEADLINE_EXCEEDED/);
});

test('watch --count prints each event (JSON lines) and exits 0', async () => {
  const watching = admin(['watch', '--kind', 'bounds_change', '--count', '1', '--json']);
  await new Promise((r) => setTimeout(r, 1500));
  const set = await admin(['bounds', 'set', '--min', '1', '--expected', '2', '--max', '4']);
  assert.equal(set.code, 0, set.stderr);
  const r = await watching;
  assert.equal(r.code, 0, r.stderr);
  const event = JSON.parse(r.stdout.trim()) as { kind: string; bounds_change: { bounds: unknown } };
  assert.equal(event.kind, 'EVENT_KIND_BOUNDS_CHANGE');
  assert.deepEqual(event.bounds_change.bounds, { min: 1, expected: 2, max: 4 });
});

test('ban, points, unban, trust, untrust, publish, targets, then shutdown (the node exits 0)', async () => {
  const ban = await admin(['ban', '192.0.2.44', '--duration', '10m']);
  assert.equal(ban.code, 0, ban.stderr);
  assert.match(ban.stdout, /banned 192\.0\.2\.44 until /);
  assert.equal((await admin(['unban', '192.0.2.44'])).code, 0);
  assert.equal((await admin(['unban', '192.0.2.44'])).code, 6);
  assert.equal((await admin(['trust', '127.0.9.58:9740'])).code, 0);
  const points = await admin(['points', '--all', '--json']);
  const list = JSON.parse(points.stdout) as {
    points: Array<{ address: string; trusted: boolean }>;
  };
  assert.ok(list.points.some((p) => p.address === '127.0.9.58:9740' && p.trusted));
  assert.equal((await admin(['untrust', '127.0.9.58:9740'])).code, 0);
  const published = await admin(['publish', 'hello from the cli']);
  assert.match(published.stdout, /^published [0-9a-f]{64}\n$/);
  const targets = await admin(['targets', '--hot-target', '4', '--json']);
  assert.equal(
    (JSON.parse(targets.stdout) as { targets: { hot_target: number } }).targets.hot_target,
    4,
  );
  const peers = await admin(['peers']);
  assert.match(peers.stdout, /0 of 0/);
  const shutdown = await admin(['shutdown']);
  assert.equal(shutdown.code, 0, shutdown.stderr);
  assert.equal(await node.exited, 0);
});
