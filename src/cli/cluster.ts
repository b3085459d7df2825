import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Table from 'cli-table3';
import { type Command, Option } from 'commander';
import type { NodeStatus } from '../status.ts';
import { type CliContext, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './context.ts';

export interface ClusterOptions {
  nodes: number;
  connections: number | undefined;
  dataRoot: string;
  /** Stop by itself after this many seconds (0: run until Ctrl-C). */
  duration: number;
  /** First loopback address used: 127.0.0.<firstHost>, then the next ones. */
  firstHost: number;
  port: number;
  extra: string[];
}

const MAIN = fileURLToPath(new URL('../../bin/meshkeeper.js', import.meta.url));
const STOP_GRACE_MS = 15_000;

/**
 * `meshkeeper cluster --nodes N`: N real node processes, each on its own loopback address with
 * its own data dir, bootstrapped from each other, and a table of their state every second.
 */
export function registerCluster(
  program: Command,
  ctx: CliContext,
  setExitCode: (code: number) => void,
): void {
  program
    .command('cluster')
    .description('start N local nodes on 127.0.0.x and watch them converge (Ctrl-C stops them all)')
    .addOption(new Option('--nodes <n>', 'number of nodes (1..200)').default('5'))
    .addOption(
      new Option('--connections <n>', "each node's --connections (default: nodes − 1, at least 1)"),
    )
    .addOption(
      new Option('--data-root <dir>', "parent of the nodes' data dirs").default('data/cluster'),
    )
    .addOption(
      new Option(
        '--duration <seconds>',
        'stop by itself after this long; 0 runs until Ctrl-C',
      ).default('0'),
    )
    .addOption(new Option('--first-host <n>', 'first node on 127.0.0.<n>').default('11'))
    .addOption(
      new Option('--port <n>', 'P2P port of every node (metrics on port+2)').default('9740'),
    )
    .argument('[extra...]', 'flags passed to every node after --, e.g. -- --log-level debug')
    .action(async (extra: string[], raw: Record<string, string | undefined>) => {
      const opts = parseClusterOptions(raw, extra);
      if (typeof opts === 'string') {
        ctx.stderr(`meshkeeper cluster: ${opts}\n`);
        setExitCode(EXIT_USAGE);
        return;
      }
      setExitCode(await runCluster(opts, ctx));
    });
}

export function parseClusterOptions(
  raw: Record<string, string | undefined>,
  extra: string[],
): ClusterOptions | string {
  const int = (
    name: string,
    value: string | undefined,
    min: number,
    max: number,
  ): number | string => {
    const n = Number(value);
    return Number.isInteger(n) && n >= min && n <= max
      ? n
      : `--${name} must be an integer in ${min}..${max}`;
  };
  const nodes = int('nodes', raw.nodes, 1, 200);
  const duration = int('duration', raw.duration, 0, 86_400);
  const firstHost = int('first-host', raw.firstHost, 2, 254);
  const port = int('port', raw.port, 1, 65_533);
  const connections =
    raw.connections === undefined ? undefined : int('connections', raw.connections, 1, 1000);
  for (const v of [nodes, duration, firstHost, port, connections])
    if (typeof v === 'string') return v;
  if ((firstHost as number) + (nodes as number) - 1 > 254)
    return '--first-host + --nodes must stay within 127.0.0.254';
  return {
    nodes: nodes as number,
    connections: connections as number | undefined,
    dataRoot: raw.dataRoot ?? 'data/cluster',
    duration: duration as number,
    firstHost: firstHost as number,
    port: port as number,
    extra,
  };
}

interface ClusterNode {
  index: number;
  host: string;
  process: ChildProcess;
  exited: Promise<number | null>;
}

/** The flags of node `index`: its own address, data dir and ports, every other node as bootstrap. */
export function nodeArgs(opts: ClusterOptions, index: number): string[] {
  const host = hostOf(opts, index);
  const peers = Array.from({ length: opts.nodes }, (_, i) => i)
    .filter((i) => i !== index)
    .map((i) => `${hostOf(opts, i)}:${opts.port}`);
  return [
    'run',
    `--listen=${host}:${opts.port}`,
    `--advertised-address=${host}:${opts.port}`,
    `--admin-listen=${host}:${opts.port + 1}`,
    `--http-listen=${host}:${opts.port + 2}`,
    `--data-dir=${join(opts.dataRoot, `node-${index}`)}`,
    `--connections=${opts.connections ?? Math.max(1, opts.nodes - 1)}`,
    ...(peers.length === 0 ? [] : [`--bootstrap=${peers.join(',')}`]),
    ...opts.extra,
  ];
}

export async function runCluster(opts: ClusterOptions, ctx: CliContext): Promise<number> {
  const nodes: ClusterNode[] = [];
  for (let i = 0; i < opts.nodes; i++) {
    const dataDir = resolve(opts.dataRoot, `node-${i}`);
    mkdirSync(dataDir, { recursive: true });
    const log = openSync(join(dataDir, 'node.log'), 'a');
    const child = spawn(process.execPath, [MAIN, ...nodeArgs(opts, i)], {
      stdio: ['ignore', log, log],
      env: { ...ctx.env },
    });
    nodes.push({
      index: i,
      host: hostOf(opts, i),
      process: child,
      exited: new Promise((done) => child.once('exit', (code) => done(code))),
    });
  }
  ctx.stderr(
    `meshkeeper cluster: ${opts.nodes} nodes on ${hostOf(opts, 0)}..${hostOf(opts, opts.nodes - 1)}, logs in ${opts.dataRoot}/node-*/node.log\n`,
  );
  const stop = new Promise<string>((done) => {
    const timer =
      opts.duration > 0
        ? setTimeout(() => done('duration elapsed'), opts.duration * 1000)
        : undefined;
    void ctx.waitForShutdown().then((signal) => {
      clearTimeout(timer);
      done(signal);
    });
  });
  let stopping = false;
  const refresh = setInterval(() => {
    void render(nodes, opts, ctx).catch(() => {});
  }, 1000);
  const reason = await Promise.race([
    stop,
    ...nodes.map((n) => n.exited.then((code) => `node ${n.index} exited (${code})`)),
  ]);
  clearInterval(refresh);
  stopping = true;
  await render(nodes, opts, ctx);
  ctx.stderr(`meshkeeper cluster: ${reason}; stopping ${opts.nodes} nodes\n`);
  const codes = await stopAll(nodes);
  const clean = codes.every((c) => c === 0);
  ctx.stderr(
    `meshkeeper cluster: stopped (${clean ? 'all exited cleanly' : `exit codes ${codes.join(',')}`})\n`,
  );
  return stopping && clean && !reason.startsWith('node ') ? EXIT_OK : EXIT_FAILURE;
}

async function stopAll(nodes: ClusterNode[]): Promise<(number | null)[]> {
  for (const n of nodes) if (n.process.exitCode === null) n.process.kill('SIGTERM');
  const timer = setTimeout(() => {
    for (const n of nodes) if (n.process.exitCode === null) n.process.kill('SIGKILL');
  }, STOP_GRACE_MS);
  const codes = await Promise.all(nodes.map((n) => n.exited));
  clearTimeout(timer);
  return codes;
}

async function fetchStatus(host: string, port: number): Promise<NodeStatus | undefined> {
  try {
    const response = await fetch(`http://${host}:${port}/debug/status`, {
      signal: AbortSignal.timeout(800),
    });
    return response.ok ? ((await response.json()) as NodeStatus) : undefined;
  } catch {
    return undefined;
  }
}

async function render(nodes: ClusterNode[], opts: ClusterOptions, ctx: CliContext): Promise<void> {
  const statuses = await Promise.all(nodes.map((n) => fetchStatus(n.host, opts.port + 2)));
  const table = new Table({
    head: [
      'node',
      'address',
      'conns',
      'band',
      'in/out',
      'warm',
      'hot',
      'known',
      'last cycle',
      'failures',
    ],
    style: { head: [], border: [] },
  });
  let inBand = 0;
  statuses.forEach((s, i) => {
    const host = nodes[i]?.host ?? '';
    if (s === undefined) {
      table.push([String(i), host, '—', 'starting…', '', '', '', '', '', '']);
      return;
    }
    const { band } = s;
    const ok = s.established >= band.minTarget && s.established <= band.maxTarget;
    if (ok) inBand++;
    const cycle = s.lastCycle;
    table.push([
      String(i),
      `${host}:${opts.port}`,
      `${s.established}${ok ? ' ✓' : ''}`,
      `${band.minThreshold}/${band.minTarget}/${band.maxTarget}/${band.maxThreshold}`,
      `${s.connections.inbound}/${s.connections.outbound}`,
      String(s.peers.warm),
      String(s.peers.hot),
      String(s.knownPoints),
      cycle === undefined
        ? '—'
        : `${cycle.motive} ${cycle.before}→${cycle.after} ${cycle.durationMs}ms`,
      String(s.failures),
    ]);
  });
  const clear = process.stdout.isTTY ? '\x1b[H\x1b[2J' : '';
  ctx.stdout(
    `${clear}${new Date().toISOString()}  ${inBand}/${nodes.length} nodes inside [minTarget, maxTarget]\n${table.toString()}\n`,
  );
}

function hostOf(opts: ClusterOptions, index: number): string {
  return `127.0.0.${opts.firstHost + index}`;
}
