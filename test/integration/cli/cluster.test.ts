import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const MAIN = new URL('../../../src/cli/main.ts', import.meta.url).pathname;

test('meshkeeper cluster: real nodes converge, the table says so, and Ctrl-C stops them all cleanly', async () => {
  const dataRoot = mkdtempSync(join(tmpdir(), 'meshkeeper-cluster-'));
  try {
    const child = spawn(
      process.execPath,
      [
        MAIN,
        'cluster',
        '--nodes',
        '4',
        // A bound in case the test's Ctrl-C never comes.
        '--duration',
        '60',
        '--first-host',
        '200',
        `--data-root=${dataRoot}`,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, OTEL_TRACES_EXPORTER: 'none' },
        // Its own process group, as in a terminal: Ctrl-C reaches the cluster and every node.
        detached: true,
      },
    );
    let stdout = '';
    let stderr = '';
    const converged = new Promise<void>((resolve) => {
      child.stdout.on('data', (c) => {
        stdout += String(c);
        if (/4\/4 nodes inside \[minTarget, maxTarget\]/.test(stdout)) resolve();
      });
    });
    child.stderr.on('data', (c) => {
      stderr += String(c);
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await Promise.race([converged, exited]);
    if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGINT');
    const code = await exited;
    assert.equal(code, 0, stderr);
    assert.match(stderr, /SIGINT; stopping 4 nodes/);
    assert.match(stderr, /stopped \(all exited cleanly\)/);
    assert.match(stdout, /4\/4 nodes inside \[minTarget, maxTarget\]/, 'the cluster converged');
    for (const host of ['127.0.0.200', '127.0.0.203']) assert.ok(stdout.includes(host));
  } finally {
    rmSync(dataRoot, { recursive: true, force: true });
  }
});
