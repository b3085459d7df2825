import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CliContext, RunningNode, StartNode } from '../../../src/cli/context.ts';
import { runCli } from '../../../src/cli/main.ts';
import type { Config } from '../../../src/config/types.ts';

// `meshkeeper run` in process, with a fake node and a fake signal.

interface Harness {
  ctx: Partial<CliContext>;
  out: string[];
  err: string[];
  started: Config[];
  stopped: number;
}

function harness(
  options: {
    startFails?: boolean;
    stopFails?: boolean;
    stopHangs?: boolean;
    env?: Record<string, string>;
  } = {},
): Harness {
  const h: Harness = { ctx: {}, out: [], err: [], started: [], stopped: 0 };
  const node: RunningNode = {
    async stop() {
      h.stopped++;
      if (options.stopFails === true) throw new Error('stuck socket');
      if (options.stopHangs === true) await new Promise(() => {});
    },
  };
  const startNode: StartNode = async (config) => {
    if (options.startFails === true) throw new Error('port in use');
    h.started.push(config);
    return node;
  };
  h.ctx = {
    stdout: (text) => h.out.push(text),
    stderr: (text) => h.err.push(text),
    env: options.env ?? {},
    loadStartNode: async () => startNode,
    waitForShutdown: async () => 'SIGTERM',
    stopDeadlineMs: 50,
  };
  return h;
}

test('run: starts the node with the loaded config, stops it on a signal, exits 0', async () => {
  const h = harness({ env: { MESHKEEPER_NETWORK: 'testnet' } });
  const code = await runCli(['run', '--connections', '6', '--listen', '127.0.0.1:0'], h.ctx);
  assert.equal(code, 0);
  assert.equal(h.started.length, 1);
  assert.equal(h.started[0]?.network, 'testnet');
  assert.deepEqual(h.started[0]?.connections, { min: 3, expected: 6, max: 9 });
  assert.equal(h.stopped, 1);
  assert.match(h.err.join(''), /SIGTERM received, stopping/);
});

test('run: a configuration error exits 2 and never starts the node', async () => {
  const h = harness();
  const code = await runCli(['run', '--connections', '0', '--log-level', 'loud'], h.ctx);
  assert.equal(code, 2);
  assert.equal(h.started.length, 0);
  const stderr = h.err.join('');
  assert.match(stderr, /2 configuration errors/);
  assert.match(stderr, /connections: must be from 1 to 1000/);
  assert.match(stderr, /log\.level: must be one of/);
});

test('run: a node that fails to start exits 1', async () => {
  const h = harness({ startFails: true });
  assert.equal(await runCli(['run'], h.ctx), 1);
  assert.match(h.err.join(''), /failed to start: port in use/);
});

test('run: a node that fails to stop exits 1', async () => {
  const h = harness({ stopFails: true });
  assert.equal(await runCli(['run'], h.ctx), 1);
  assert.match(h.err.join(''), /stop failed: stuck socket/);
});

test('run: a node whose stop never finishes exits 1 at the stop deadline', async () => {
  const h = harness({ stopHangs: true });
  const code = await runCli(['run', '--listen', '127.0.0.1:0'], h.ctx);
  assert.equal(code, 1);
  assert.equal(h.stopped, 1);
  assert.match(h.err.join(''), /stop did not finish within 50 ms, exiting/);
});

test('run --help prints help and loads nothing', async () => {
  const h = harness();
  assert.equal(await runCli(['run', '--connections', '0', '--help'], h.ctx), 0);
  assert.equal(h.started.length, 0);
  assert.match(h.out.join(''), /Usage: meshkeeper run/);
});

test('config print: JSON on stdout, exit 0', async () => {
  const h = harness({ env: { MESHKEEPER_ADMIN_TOKEN: 'abc123' } });
  assert.equal(await runCli(['config', 'print', '--private-mode'], h.ctx), 0);
  const config = JSON.parse(h.out.join(''));
  assert.equal(config.privateMode, true);
  assert.equal(config.admin.token, '[redacted]');
});

test('config without a subcommand is a usage error (exit 2)', async () => {
  const h = harness();
  assert.equal(await runCli(['config'], h.ctx), 2);
});
