import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const MAIN = new URL('../../../bin/meshkeeper.js', import.meta.url).pathname;

test('meshkeeper cluster: real nodes converge, the table says so, and they all stop cleanly', async () => {
  const dataRoot = mkdtempSync(join(tmpdir(), 'meshkeeper-cluster-'));
  try {
    const child = spawn(
      process.execPath,
      [
        MAIN,
        'cluster',
        '--nodes',
        '4',
        '--duration',
        '12',
        '--first-host',
        '200',
        `--data-root=${dataRoot}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OTEL_TRACES_EXPORTER: 'none' } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += String(c);
    });
    child.stderr.on('data', (c) => {
      stderr += String(c);
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, stderr);
    assert.match(stderr, /stopped \(all exited cleanly\)/);
    assert.match(stdout, /4\/4 nodes inside \[minTarget, maxTarget\]/, 'the cluster converged');
    for (const host of ['127.0.0.200', '127.0.0.203']) assert.ok(stdout.includes(host));
  } finally {
    rmSync(dataRoot, { recursive: true, force: true });
  }
});
