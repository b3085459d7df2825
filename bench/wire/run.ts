import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { IMPLS, type ImplName } from './endpoint.ts';
import { onceKey, runsFor, SETUP_CASES, setupKey } from './keys.ts';
import {
  measureMemory,
  measureSetup,
  measureThroughput,
  type Plan,
  RunningServer,
} from './measure.ts';
import { type Context, render } from './report.ts';
import { Results } from './results.ts';

/**
 * bench/wire (issue 2): connection setup rate, one-connection throughput and memory per idle
 * connection of meshkeeper's wire layer, side by side in the same run with js-libp2p (TCP + Noise
 * + Yamux) and a raw mutual TLS 1.3 pair (the ceiling).
 *
 *   npm run bench -- wire [--reps 3 --sequential 500 --parallel 2000 --lanes 16 --idle 1000
 *                       --mib 256 --chunk-kib 64 --warmup 32 --blocks 10
 *                       --out bench/results/wire.md]
 *
 * Smoke run: `--reps 1 --sequential 50 --parallel 200 --idle 100 --mib 16`.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// `npm run bench -- wire -- --reps 1` hands the bench a '--' before its flags.
const argv = process.argv.slice(2).filter((arg) => arg !== '--');
const { values: flags } = parseArgs({
  args: argv,
  options: {
    reps: { type: 'string', default: '3' },
    sequential: { type: 'string', default: '500' },
    parallel: { type: 'string', default: '2000' },
    lanes: { type: 'string', default: '16' },
    idle: { type: 'string', default: '1000' },
    mib: { type: 'string', default: '256' },
    'chunk-kib': { type: 'string', default: '64' },
    warmup: { type: 'string', default: '32' },
    blocks: { type: 'string', default: '10' },
    out: { type: 'string', default: join(ROOT, 'bench/results/wire.md') },
  },
});

/** A flag's value as a whole number ≥ `min`; anything else stops the bench before it starts. */
function wholeNumber(name: keyof typeof flags, min = 1): number {
  const text = String(flags[name]);
  const value = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(value) || value < min) {
    process.stderr.write(`[wire] --${name} must be a whole number ≥ ${min}, got "${text}"\n`);
    process.exit(2);
  }
  return value;
}

const reps = wholeNumber('reps');
const plan: Plan = {
  sequential: wholeNumber('sequential'),
  parallel: wholeNumber('parallel'),
  lanes: wholeNumber('lanes'),
  idle: wholeNumber('idle'),
  bytes: wholeNumber('mib') * 2 ** 20,
  chunkBytes: wholeNumber('chunk-kib') * 1024,
  warmup: wholeNumber('warmup', 0),
  blocks: wholeNumber('blocks'),
};

/** Servers live on 127.0.30.x, one address per implementation (clients: measure.ts, 127.32.0.0/11). */
function serverHost(impl: ImplName, forMemory: boolean): string {
  return `127.0.30.${(forMemory ? 11 : 1) + IMPLS.indexOf(impl)}`;
}

/** The implementations in turn, a different one first in each repetition. */
function rotated(rep: number): ImplName[] {
  return IMPLS.map((_, i) => IMPLS[(i + rep) % IMPLS.length] as ImplName);
}

function log(message: string): void {
  process.stderr.write(`[wire] ${message}\n`);
}

async function repetition(rep: number, results: Results): Promise<void> {
  const order = rotated(rep);
  const servers = new Map<ImplName, RunningServer>();
  for (const impl of IMPLS)
    servers.set(impl, await RunningServer.start(impl, serverHost(impl, false), plan));
  const serverOf = (impl: ImplName) => servers.get(impl) as RunningServer;
  try {
    for (const setup of SETUP_CASES) {
      const impls = order.filter((i) => runsFor(setup, i));
      const measured = await measureSetup(impls.map(serverOf), plan, setup);
      for (const [impl, figures] of measured) {
        log(
          `rep ${rep + 1} ${setup.mode} ${setup.contact} ${setup.groups} ${impl}: ${figures.perSecond.toFixed(0)} conn/s (${figures.failed} failed, ${figures.resumed} resumed, server proved ${figures.serverProven} of ${figures.dialed} clients)`,
        );
        const record = (metric: Parameters<typeof setupKey>[2], value: number) =>
          results.record(setupKey(setup, impl, metric), rep, value);
        record('rate', figures.perSecond);
        record('clientCpu', figures.clientCpuMs);
        record('serverCpu', figures.serverCpuMs);
        record('cpu', figures.clientCpuMs + figures.serverCpuMs);
        record('resumed', figures.resumed);
        record('failed', figures.failed);
        record('count', figures.connections);
        record('dialed', figures.dialed);
        record('proven', figures.serverProven);
      }
    }
    const throughput = await measureThroughput(order.map(serverOf), plan);
    for (const [impl, figures] of throughput) {
      log(`rep ${rep + 1} throughput ${impl}: ${figures.mibPerSecond.toFixed(0)} MiB/s`);
      results.record(onceKey('throughput', impl, 'rate'), rep, figures.mibPerSecond);
      results.record(onceKey('throughput', impl, 'clientCpu'), rep, figures.clientCpuSPerGiB);
      results.record(onceKey('throughput', impl, 'serverCpu'), rep, figures.serverCpuSPerGiB);
    }
  } finally {
    for (const server of servers.values()) await server.stop();
  }
  for (const impl of order) {
    const figures = await measureMemory(impl, serverHost(impl, true), plan);
    log(
      `rep ${rep + 1} memory ${impl}: ${figures.rssKiB.toFixed(1)} KiB RSS, ${figures.heapKiB.toFixed(1)} KiB heap per connection (${figures.held} held)`,
    );
    results.record(onceKey('memory', impl, 'rss'), rep, figures.rssKiB);
    results.record(onceKey('memory', impl, 'heap'), rep, figures.heapKiB);
    results.record(onceKey('memory', impl, 'held'), rep, figures.held);
    results.record(onceKey('memory', impl, 'failed'), rep, figures.failed);
  }
}

function versionOf(pkg: string): string {
  const json = JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8'));
  return `${pkg} ${(json as { version: string }).version}`;
}

function context(started: Date, loadAtStart: number): Context {
  const cpu = cpus();
  const libraries = ['libp2p', '@libp2p/tcp', '@chainsafe/libp2p-noise', '@chainsafe/libp2p-yamux'];
  return {
    command: ['npm run bench -- wire', ...argv].join(' '),
    started: started.toISOString(),
    machine: `${cpu.length} vCPU (${cpu[0]?.model ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, shared with other engineers' test runs`,
    versions: `Node ${process.version} (OpenSSL ${process.versions.openssl}); ${libraries.map(versionOf).join(', ')}`,
    reps,
    sequential: plan.sequential,
    parallel: plan.parallel,
    lanes: plan.lanes,
    idle: plan.idle,
    mib: plan.bytes / 2 ** 20,
    chunkKiB: plan.chunkBytes / 1024,
    blocks: plan.blocks,
    load: `${loadAtStart.toFixed(2)} / ${(loadavg()[0] ?? 0).toFixed(2)}`,
  };
}

const started = new Date();
const loadAtStart = loadavg()[0] ?? 0;
const results = new Results();
for (let rep = 0; rep < reps; rep++) await repetition(rep, results);
const report = render(results, context(started, loadAtStart));
mkdirSync(dirname(flags.out), { recursive: true });
writeFileSync(flags.out, report);
process.stdout.write(report);
