import { createInterface } from 'node:readline';
import {
  type BenchClient,
  type BenchConnection,
  type ImplName,
  loadImplementation,
  type ServerInfo,
} from './endpoint.ts';

/*
 * The client process of bench/wire: one task against a server process, its result as one JSON
 * line on stdout. Clients (identities) are created before anything is timed.
 *
 *   node bench/wire/client.ts '<ClientSpec as JSON>'
 *
 * - setup: `lanes` clients, each dialing and closing one connection at a time, until `count`
 *   connections are done (after `warmup` untimed ones per lane) → SetupResult.
 * - throughput: one connection, `bytes` pushed in `chunkBytes` writes → ThroughputResult.
 * - hold: `warmup` connections opened and closed, then `{"warm":true}`; on a `go` line from
 *   stdin, `count` clients open one connection each, `lanes` at a time → HoldResult; the
 *   connections stay open until stdin ends.
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
  bytes: number;
  chunkBytes: number;
  /** First three octets of this run's client addresses, e.g. `127.32.7`: fresh for every run. */
  clientNet: string;
}

export interface SetupResult {
  connections: number;
  failed: number;
  resumed: number;
  wallMs: number;
  /** User + system CPU of this process per connection. */
  cpuMsPerConnection: number;
}

export interface ThroughputResult {
  bytes: number;
  wallMs: number;
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

async function setup(): Promise<SetupResult> {
  const lanes = await clients(spec.lanes);
  const cycle = async (client: BenchClient): Promise<BenchConnection> => {
    const connection = await client.connect();
    await connection.close();
    return connection;
  };
  await inLanes(spec.lanes, spec.warmup * spec.lanes, async (lane) => {
    await cycle(at(lanes, lane));
  });
  const result = { connections: 0, failed: 0, resumed: 0 };
  const cpuBefore = cpuMs();
  const started = performance.now();
  await inLanes(spec.lanes, spec.count, async (lane) => {
    try {
      const connection = await cycle(at(lanes, lane));
      result.connections++;
      if (connection.resumed) result.resumed++;
    } catch {
      result.failed++;
    }
  });
  const wallMs = performance.now() - started;
  const cpuMsPerConnection = (cpuMs() - cpuBefore) / Math.max(1, result.connections);
  await Promise.all(lanes.map((client) => client.close()));
  return { ...result, wallMs, cpuMsPerConnection };
}

async function throughput(): Promise<ThroughputResult> {
  const [client] = await clients(1);
  if (client === undefined) throw new Error('no client');
  const connection = await client.connect();
  const chunk = new Uint8Array(spec.chunkBytes).fill(0x5a);
  const cpuBefore = cpuMs();
  const started = performance.now();
  await connection.push(spec.bytes, chunk);
  const wallMs = performance.now() - started;
  const result = { bytes: spec.bytes, wallMs, cpuMs: cpuMs() - cpuBefore };
  await connection.close();
  await client.close();
  return result;
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

const run = { setup, throughput, hold }[spec.task];
process.stdout.write(`${JSON.stringify(await run())}\n`);
if (spec.task === 'hold') while (!(await stdin.next()).done) {}
process.exit(0);
