import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { JsonChild } from './child.ts';
import type { ClientSpec, HoldResult, SetupResult, ThroughputResult } from './client.ts';
import type { ImplName, ServerInfo } from './endpoint.ts';
import type { ServerSpec, Stats } from './server.ts';

/** One measurement each: a client process against a server process, figures out. */

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
    const spec: ServerSpec = { impl, host, sinkBytes: plan.bytes };
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

let clientRuns = 0;

/**
 * A /24 of loopback no earlier client run of this process dialed from. A dial bound to an
 * address asks the kernel for a free port of that address, and its search slows as the address's
 * connections in TIME_WAIT (60 s) fill the port range: from ~0.1 ms to ~1.4 ms of system CPU per
 * dial at ~10,000 of them, measured here. Reusing one address across runs made each run pay for
 * the connections of the runs before it, whatever the implementation.
 */
function freshClientNet(): string {
  const run = clientRuns++;
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
    bytes: plan.bytes,
    chunkBytes: plan.chunkBytes,
    clientNet: freshClientNet(),
    ...rest,
  };
}

/** Runs one client to completion; the server's CPU over the run comes back beside its result. */
async function runClient<T>(
  server: RunningServer,
  spec: ClientSpec,
): Promise<{ result: T; serverCpuMs: number; serverProven: number }> {
  const before = await server.stats();
  const client = new JsonChild(CLIENT, spec);
  const result = await client.next<T>();
  await client.stop();
  const after = await server.stats();
  return {
    result,
    serverCpuMs: after.cpuMs - before.cpuMs,
    serverProven: after.authenticated - before.authenticated,
  };
}

export interface SetupFigures {
  perSecond: number;
  connections: number;
  failed: number;
  resumed: number;
  clientCpuMs: number;
  /** Server CPU per connection, warm-up connections included. */
  serverCpuMs: number;
  /** Dials of the run, warm-up included, and how many of them the server proved the client of. */
  dialed: number;
  serverProven: number;
}

export async function measureSetup(
  server: RunningServer,
  plan: Plan,
  setup: SetupCase,
): Promise<SetupFigures> {
  const lanes = setup.mode === 'sequential' ? 1 : plan.lanes;
  const count = setup.mode === 'sequential' ? plan.sequential : plan.parallel;
  const warmup = Math.max(2, Math.ceil(plan.warmup / lanes));
  const spec = clientSpec(server, plan, {
    task: 'setup',
    groups: setup.groups === 'default' ? '' : setup.groups,
    resume: setup.contact === 'resumed',
    count,
    lanes,
    warmup,
  });
  const { result, serverCpuMs, serverProven } = await runClient<SetupResult>(server, spec);
  const dialed = count + warmup * lanes;
  return {
    perSecond: (result.connections / result.wallMs) * 1000,
    connections: result.connections,
    failed: result.failed,
    resumed: result.resumed,
    clientCpuMs: result.cpuMsPerConnection,
    serverCpuMs: serverCpuMs / dialed,
    dialed,
    serverProven,
  };
}

export interface ThroughputFigures {
  mibPerSecond: number;
  /** CPU seconds per GiB moved, each side. */
  clientCpuSPerGiB: number;
  serverCpuSPerGiB: number;
}

export async function measureThroughput(
  server: RunningServer,
  plan: Plan,
): Promise<ThroughputFigures> {
  const spec = clientSpec(server, plan, { task: 'throughput', warmup: 0 });
  const { result, serverCpuMs } = await runClient<ThroughputResult>(server, spec);
  const gib = result.bytes / 2 ** 30;
  return {
    mibPerSecond: result.bytes / 2 ** 20 / (result.wallMs / 1000),
    clientCpuSPerGiB: result.cpuMs / 1000 / gib,
    serverCpuSPerGiB: serverCpuMs / 1000 / gib,
  };
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
