import { createInterface } from 'node:readline';
import {
  type BenchClient,
  type BenchConnection,
  type ImplName,
  loadImplementation,
  type ServerInfo,
} from './endpoint.ts';

/*
 * The client process of bench/wire: one task against a server process, answering in JSON lines
 * on stdout. Clients (identities) are created before anything is timed.
 *
 *   node bench/wire/client.ts '<ClientSpec as JSON>'
 *
 * - setup: `lanes` clients, each having dialed and closed `warmup` untimed connections, then
 *   `{"ready":true}`; each line `N` read from stdin is a block: the lanes dial and close one
 *   connection at a time until N are done → Block (`done` = connections).
 * - throughput: one connection, then `{"ready":true}`; each line `N` pushes N bytes in
 *   `chunkBytes` writes and waits for the server's acknowledgement → Block (`done` = bytes).
 * - hold: `warmup` connections opened and closed, then `{"warm":true}`; on a `go` line from
 *   stdin, `count` clients open one connection each, `lanes` at a time → HoldResult; the
 *   connections stay open until stdin ends.
 *
 * Blocks let the bench interleave implementations: a busy moment of this shared machine then
 * slows all of them alike instead of whichever ran at that moment.
 */

export interface ClientSpec {
  impl: ImplName;
  server: ServerInfo;
  task: 'setup' | 'throughput' | 'hold';
  groups: string;
  resume: boolean;
  count: number;
  lanes: number;
  warmup: number;
  chunkBytes: number;
  /** First three octets of this run's client addresses, e.g. `127.32.7`: fresh for every run. */
  clientNet: string;
}

/** One block of work, timed in this process. */
export interface Block {
  /** Connections set up (setup) or bytes acknowledged (throughput). */
  done: number;
  failed: number;
  /** Setup: connections whose TLS session was resumed. */
  resumed: number;
  wallMs: number;
  /** User + system CPU of this process over the block. */
  cpuMs: number;
}

export interface HoldResult {
  connected: number;
  failed: number;
  wallMs: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as ClientSpec;
const implementation = await loadImplementation(spec.impl);
const stdin = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

/** Each client dials from its own loopback address, as distinct peers do. */
function localHost(index: number): string {
  return `${spec.clientNet}.${1 + (index % 254)}`;
}

function clients(count: number): Promise<BenchClient[]> {
  return Promise.all(
    Array.from({ length: count }, (_, index) =>
      implementation.createClient({
        server: spec.server,
        localHost: localHost(index),
        groups: spec.groups,
        resume: spec.resume,
      }),
    ),
  );
}

/**
 * Runs `lanes` loops at once, each taking work from a shared budget of `count` and handing it
 * to `work` with its lane number; resolves when the budget is spent.
 */
async function inLanes(
  lanes: number,
  count: number,
  work: (lane: number) => Promise<void>,
): Promise<void> {
  let left = count;
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      while (left > 0) {
        left--;
        await work(lane);
      }
    }),
  );
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Prints `{"ready":true}`, then runs a block per line of stdin until it ends. */
async function blocks(run: (size: number) => Promise<Omit<Block, 'wallMs' | 'cpuMs'>>) {
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  for (let line = await stdin.next(); line.done !== true; line = await stdin.next()) {
    const size = Number(line.value);
    if (!Number.isSafeInteger(size) || size <= 0) throw new Error(`bad block size ${line.value}`);
    const cpuBefore = cpuMs();
    const started = performance.now();
    const counts = await run(size);
    const block: Block = {
      ...counts,
      wallMs: performance.now() - started,
      cpuMs: cpuMs() - cpuBefore,
    };
    process.stdout.write(`${JSON.stringify(block)}\n`);
  }
}

async function setup(): Promise<void> {
  const lanes = await clients(spec.lanes);
  const cycle = async (client: BenchClient): Promise<BenchConnection> => {
    const connection = await client.connect();
    await connection.close();
    return connection;
  };
  await inLanes(spec.lanes, spec.warmup * spec.lanes, async (lane) => {
    await cycle(at(lanes, lane));
  });
  await blocks(async (size) => {
    const counts = { done: 0, failed: 0, resumed: 0 };
    await inLanes(spec.lanes, size, async (lane) => {
      try {
        const connection = await cycle(at(lanes, lane));
        counts.done++;
        if (connection.resumed) counts.resumed++;
      } catch {
        counts.failed++;
      }
    });
    return counts;
  });
  await Promise.all(lanes.map((client) => client.close()));
}

async function throughput(): Promise<void> {
  const [client] = await clients(1);
  if (client === undefined) throw new Error('no client');
  const connection = await client.connect();
  const chunk = new Uint8Array(spec.chunkBytes).fill(0x5a);
  await blocks(async (size) => {
    await connection.push(size, chunk);
    return { done: size, failed: 0, resumed: 0 };
  });
  await connection.close();
  await client.close();
}

async function hold(): Promise<HoldResult> {
  const [warm] = await clients(1);
  if (warm === undefined) throw new Error('no client');
  for (let i = 0; i < spec.warmup; i++) await (await warm.connect()).close();
  await warm.close();
  const holders = await clients(spec.count);
  process.stdout.write(`${JSON.stringify({ warm: true })}\n`);
  await stdin.next(); // `go`
  const result = { connected: 0, failed: 0 };
  let next = 0;
  const started = performance.now();
  await inLanes(spec.lanes, spec.count, async () => {
    try {
      await at(holders, next++).connect();
      result.connected++;
    } catch {
      result.failed++;
    }
  });
  return { ...result, wallMs: performance.now() - started };
}

function at<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined) throw new Error(`no item ${index}`);
  return item;
}

if (spec.task === 'hold') {
  process.stdout.write(`${JSON.stringify(await hold())}\n`);
  while (!(await stdin.next()).done) {}
} else {
  await { setup, throughput }[spec.task]();
}
process.exit(0);
