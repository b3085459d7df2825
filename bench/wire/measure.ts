import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { JsonChild } from './child.ts';
import type { Block, ClientSpec, HoldResult } from './client.ts';
import type { ImplName, ServerInfo } from './endpoint.ts';
import type { ServerSpec, Stats } from './server.ts';

/**
 * The measurements: client processes against server processes, figures out. Setup and
 * throughput interleave the implementations block by block; memory runs one at a time.
 */

const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url));
const CLIENT = fileURLToPath(new URL('./client.ts', import.meta.url));

export interface Plan {
  sequential: number;
  parallel: number;
  lanes: number;
  idle: number;
  bytes: number;
  chunkBytes: number;
  /** Untimed connections per client before a setup run (JIT, first tickets). */
  warmup: number;
  /**
   * Blocks each setup and throughput measurement is cut into; the implementations take turns
   * block by block.
   */
  blocks: number;
}

/** The server acknowledges each block of a throughput stream. */
function throughputBlockBytes(plan: Plan): number {
  return Math.ceil(plan.bytes / plan.blocks);
}

/** Key-exchange groups: Node's default (post-quantum hybrid first) or the like-for-like one. */
export type Groups = 'default' | 'X25519';

export interface SetupCase {
  mode: 'sequential' | 'parallel';
  contact: 'first' | 'resumed';
  groups: Groups;
}

export class RunningServer {
  readonly impl: ImplName;
  readonly info: ServerInfo;
  readonly #child: JsonChild;

  private constructor(impl: ImplName, info: ServerInfo, child: JsonChild) {
    this.impl = impl;
    this.info = info;
    this.#child = child;
  }

  static async start(
    impl: ImplName,
    host: string,
    plan: Plan,
    nodeFlags: string[] = [],
  ): Promise<RunningServer> {
    const spec: ServerSpec = { impl, host, sinkBytes: throughputBlockBytes(plan) };
    const child = new JsonChild(SERVER, spec, ['--expose-gc', ...nodeFlags]);
    const { ready } = await child.next<{ ready: ServerInfo }>();
    return new RunningServer(impl, ready, child);
  }

  /** The server's figures now; after full collections when `gc`. */
  stats(gc = false): Promise<Stats> {
    this.#child.send(gc ? 'gc' : 'stats');
    return this.#child.next<Stats>();
  }

  stop(): Promise<void> {
    return this.#child.stop();
  }
}

/** /24s of 127.32.0.0/11 handed out so far, from a random start. */
let clientRuns = Math.floor(Math.random() * 8192);

/**
 * A /24 of loopback for one client run, consecutive from a random start, so neither an earlier
 * run of this process nor (very likely) a bench run a minute ago dialed from it. A dial bound to
 * an address asks the kernel for a free port of that address, and its search slows as the
 * address's connections in TIME_WAIT (60 s) fill the port range: from ~0.1 ms to ~1.4 ms of
 * system CPU per dial at ~10,000 of them, measured here. Reusing one address across runs made
 * each run pay for the connections of the runs before it, whatever the implementation.
 */
function freshClientNet(): string {
  const run = clientRuns++ % 8192;
  return `127.${32 + Math.floor(run / 256)}.${run % 256}`;
}

function clientSpec(server: RunningServer, plan: Plan, rest: Partial<ClientSpec>): ClientSpec {
  return {
    impl: server.impl,
    server: server.info,
    task: 'setup',
    groups: '',
    resume: false,
    count: 0,
    lanes: 1,
    warmup: plan.warmup,
    chunkBytes: plan.chunkBytes,
    clientNet: freshClientNet(),
    ...rest,
  };
}

/** `total` in `blocks` parts, as even as whole numbers allow; none for nothing. */
export function blockSizes(total: number, blocks: number): number[] {
  if (total <= 0) return [];
  const n = Math.max(1, Math.min(blocks, total));
  return Array.from({ length: n }, (_, i) => Math.floor(total / n) + (i < total % n ? 1 : 0));
}

interface Tally {
  done: number;
  failed: number;
  resumed: number;
  wallMs: number;
  clientCpuMs: number;
  /** Server CPU from the end of the warm-up to shortly after the last block. */
  serverCpuMs: number;
  /** Client identities the server proved over the whole session, warm-up included. */
  proven: number;
}

/**
 * The turn of `turn` in round `round` among `n`: the first of each round rotates, and every
 * other pass over the rotations goes backwards, so that with up to three implementations (the
 * bench has three) each follows each other one as often: what one leaves behind, a collection
 * or a close, lands on all alike.
 */
export function turnOrder(round: number, turn: number, n: number): number {
  const start = round % n;
  return Math.floor(round / n) % 2 === 0 ? (start + turn) % n : (start - turn + n) % n;
}

/** What a server does after a block (closes, collections) is still its own: let it finish. */
const SERVER_SETTLE_MS = 200;

/**
 * One client process per server, each given `total` units of work (connections, bytes) in
 * `blocks` blocks. The implementations take turns block by block (`turnOrder`), so that the load
 * of this shared machine falls on all of them alike.
 */
async function interleave(
  servers: readonly RunningServer[],
  specOf: (server: RunningServer) => ClientSpec,
  total: number,
  blocks: number,
): Promise<Map<ImplName, Tally>> {
  const before = await Promise.all(servers.map((server) => server.stats()));
  const clients = servers.map((server) => new JsonChild(CLIENT, specOf(server)));
  const tallies = servers.map(
    (): Tally => ({
      done: 0,
      failed: 0,
      resumed: 0,
      wallMs: 0,
      clientCpuMs: 0,
      serverCpuMs: 0,
      proven: 0,
    }),
  );
  try {
    await Promise.all(clients.map((client) => client.next<{ ready: true }>()));
    const warm = await Promise.all(servers.map((server) => server.stats()));
    for (const [round, size] of blockSizes(total, blocks).entries()) {
      for (let turn = 0; turn < servers.length; turn++) {
        const i = turnOrder(round, turn, servers.length);
        const [client, tally] = [clients[i], tallies[i]];
        if (client === undefined || tally === undefined) continue;
        client.send(String(size));
        const block = await client.next<Block>();
        tally.done += block.done;
        tally.failed += block.failed;
        tally.resumed += block.resumed;
        tally.wallMs += block.wallMs;
        tally.clientCpuMs += block.cpuMs;
      }
    }
    await sleep(SERVER_SETTLE_MS);
    const done = await Promise.all(servers.map((server) => server.stats()));
    for (const [i, tally] of tallies.entries()) {
      tally.serverCpuMs = (done[i]?.cpuMs ?? 0) - (warm[i]?.cpuMs ?? 0);
    }
  } finally {
    await Promise.all(clients.map((client) => client.stop()));
  }
  const after = await Promise.all(servers.map((server) => server.stats()));
  for (const [i, tally] of tallies.entries()) {
    tally.proven = (after[i]?.authenticated ?? 0) - (before[i]?.authenticated ?? 0);
  }
  return new Map(servers.map((server, i) => [server.impl, tallies[i] as Tally]));
}

/**
 * Blocks for a setup run: `plan.blocks`, fewer when a block would give each lane under 8 dials
 * (lanes left idle would make a parallel run less parallel than it says).
 */
function setupBlocks(plan: Plan, count: number, lanes: number): number {
  return Math.max(1, Math.min(plan.blocks, Math.floor(count / (lanes * 8))));
}

export interface SetupFigures {
  perSecond: number;
  connections: number;
  failed: number;
  resumed: number;
  clientCpuMs: number;
  serverCpuMs: number;
  /** Dials of the run, warm-up included, and how many of them the server proved the client of. */
  dialed: number;
  serverProven: number;
}

/** Setup figures of each server's implementation, measured in interleaved blocks. */
export async function measureSetup(
  servers: readonly RunningServer[],
  plan: Plan,
  setup: SetupCase,
): Promise<Map<ImplName, SetupFigures>> {
  const lanes = setup.mode === 'sequential' ? 1 : plan.lanes;
  const count = setup.mode === 'sequential' ? plan.sequential : plan.parallel;
  const warmup = Math.max(2, Math.ceil(plan.warmup / lanes));
  const specOf = (server: RunningServer) =>
    clientSpec(server, plan, {
      task: 'setup',
      groups: setup.groups === 'default' ? '' : setup.groups,
      resume: setup.contact === 'resumed',
      lanes,
      warmup,
    });
  const tallies = await interleave(servers, specOf, count, setupBlocks(plan, count, lanes));
  const perConnection = (ms: number, done: number) => ms / Math.max(1, done);
  return mapValues(tallies, (tally) => ({
    perSecond: (tally.done / tally.wallMs) * 1000,
    connections: tally.done,
    failed: tally.failed,
    resumed: tally.resumed,
    clientCpuMs: perConnection(tally.clientCpuMs, tally.done),
    serverCpuMs: perConnection(tally.serverCpuMs, tally.done),
    dialed: count + warmup * lanes,
    serverProven: tally.proven,
  }));
}

function mapValues<K, A, B>(map: ReadonlyMap<K, A>, f: (value: A) => B): Map<K, B> {
  return new Map([...map].map(([key, value]) => [key, f(value)]));
}

export interface ThroughputFigures {
  mibPerSecond: number;
  /** CPU seconds per GiB moved, each side. */
  clientCpuSPerGiB: number;
  serverCpuSPerGiB: number;
}

/** Throughput of each server's implementation, one connection each, in interleaved blocks. */
export async function measureThroughput(
  servers: readonly RunningServer[],
  plan: Plan,
): Promise<Map<ImplName, ThroughputFigures>> {
  const blockBytes = throughputBlockBytes(plan);
  const specOf = (server: RunningServer) => clientSpec(server, plan, { task: 'throughput' });
  const blocks = Math.ceil(plan.bytes / blockBytes);
  const tallies = await interleave(servers, specOf, blocks * blockBytes, blocks);
  return mapValues(tallies, (tally) => {
    const gib = tally.done / 2 ** 30;
    return {
      mibPerSecond: tally.done / 2 ** 20 / (tally.wallMs / 1000),
      clientCpuSPerGiB: tally.clientCpuMs / 1000 / gib,
      serverCpuSPerGiB: tally.serverCpuMs / 1000 / gib,
    };
  });
}

export interface MemoryFigures {
  held: number;
  failed: number;
  rssKiB: number;
  heapKiB: number;
}

/**
 * Server memory per idle connection: a fresh server, warmed up by a few connections, measured
 * after full collections before and after `plan.idle` connections from distinct identities.
 */
export async function measureMemory(
  impl: ImplName,
  host: string,
  plan: Plan,
): Promise<MemoryFigures> {
  // V8 drops the bytecode of functions left unused (start-up code) over a few collections: that
  // shrank the heap between the two measurements by more than the connections added.
  const server = await RunningServer.start(impl, host, plan, ['--no-flush-bytecode']);
  const spec = clientSpec(server, plan, { task: 'hold', count: plan.idle, lanes: plan.lanes });
  const client = new JsonChild(CLIENT, spec);
  try {
    await client.next<{ warm: true }>();
    const before = await server.stats(true);
    client.send('go');
    const held = await client.next<HoldResult>();
    // The last accepts may still be finishing their handshakes on the server.
    for (let i = 0; i < 40 && (await server.stats()).connections < held.connected; i++) {
      await sleep(250);
    }
    await sleep(1_000);
    const after = await server.stats(true);
    const per = (bytes: number) => bytes / 1024 / Math.max(1, after.connections);
    return {
      held: after.connections,
      failed: held.failed,
      rssKiB: per(after.rssBytes - before.rssBytes),
      heapKiB: per(after.heapUsedBytes - before.heapUsedBytes),
    };
  } finally {
    await client.stop();
    await server.stop();
  }
}
