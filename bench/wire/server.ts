import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ImplName, loadImplementation } from './endpoint.ts';

/*
 * The server process of bench/wire (STACK: client and server in separate processes, for the
 * descriptors and so that each side's CPU and memory are its own). Run with --expose-gc.
 *
 *   node --expose-gc bench/wire/server.ts '{"impl":"meshkeeper","host":"127.0.30.1","sinkBytes":…}'
 *
 * stdout: `{"ready":{host,port,id}}`, then one `Stats` line per command read on stdin:
 * `stats` (as is) or `gc` (after full collections). It stops when stdin ends.
 */

export interface ServerSpec {
  impl: ImplName;
  host: string;
  sinkBytes: number;
}

export interface Stats {
  rssBytes: number;
  heapUsedBytes: number;
  /** User + system CPU time of this process so far. */
  cpuMs: number;
  connections: number;
  /** Client identities proven since start (BenchServer.authenticated). */
  authenticated: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as ServerSpec;
const implementation = await loadImplementation(spec.impl);
const server = await implementation.startServer({ host: spec.host, sinkBytes: spec.sinkBytes });
process.stdout.write(`${JSON.stringify({ ready: server.info })}\n`);

for await (const command of createInterface({ input: process.stdin })) {
  if (command === 'gc') await collect();
  const cpu = process.cpuUsage();
  const stats: Stats = {
    rssBytes: process.memoryUsage.rss(),
    heapUsedBytes: process.memoryUsage().heapUsed,
    cpuMs: (cpu.user + cpu.system) / 1000,
    connections: server.connections(),
    authenticated: server.authenticated(),
  };
  process.stdout.write(`${JSON.stringify(stats)}\n`);
}
await server.close();
process.exit(0);

/** Full collections with pauses between, so that finalizers and freed native memory settle. */
async function collect(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run the server with --expose-gc');
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(200);
  }
}
