import type { ImplName } from './endpoint.ts';
import { fmt } from './format.ts';
import { cpuTable, goalTable } from './goals.ts';
import { onceKey, runsFor, SETUP_CASES, setupKey } from './keys.ts';
import type { Groups, SetupCase } from './measure.ts';
import type { Results } from './results.ts';

/** How the figures become bench/results/wire.md. */

interface Column {
  impl: ImplName;
  groups: Groups;
  title: string;
}

const SETUP_COLUMNS: readonly Column[] = [
  { impl: 'meshkeeper', groups: 'default', title: 'meshkeeper' },
  { impl: 'meshkeeper', groups: 'X25519', title: 'meshkeeper, X25519' },
  { impl: 'tls', groups: 'default', title: 'raw mTLS' },
  { impl: 'tls', groups: 'X25519', title: 'raw mTLS, X25519' },
  { impl: 'libp2p', groups: 'default', title: 'js-libp2p (Noise: X25519)' },
];

const ONCE_COLUMNS: readonly ImplName[] = ['meshkeeper', 'tls', 'libp2p'];
const ONCE_TITLES: Record<ImplName, string> = {
  meshkeeper: 'meshkeeper',
  tls: 'raw mTLS',
  libp2p: 'js-libp2p',
};

export interface Context {
  command: string;
  started: string;
  machine: string;
  versions: string;
  reps: number;
  sequential: number;
  parallel: number;
  lanes: number;
  idle: number;
  mib: number;
  chunkKiB: number;
  blocks: number;
  load: string;
}

/** Median, and the spread of the repetitions when there are several. */
function cell(results: Results, key: string, digits = 0): string {
  const values = results.values(key);
  if (values.length === 0) return '–';
  const median = fmt(results.median(key), digits);
  if (values.length === 1) return median;
  return `${median} (${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)})`;
}

function caseTitle(setup: SetupCase, ctx: Context): string {
  const mode =
    setup.mode === 'sequential'
      ? `sequential, ${fmt(ctx.sequential)}`
      : `${ctx.lanes} in parallel, ${fmt(ctx.parallel)}`;
  const contact = setup.contact === 'first' ? 'first contact' : 'reconnect, TLS resumption';
  return `${mode} × (dial + mutual auth + close), ${contact}`;
}

const CASES_BY_CONTACT = (['first', 'resumed'] as const).flatMap((contact) =>
  (['sequential', 'parallel'] as const).map((mode) => ({ mode, contact })),
);

function setupTable(results: Results, ctx: Context, metric: 'rate' | 'cpu'): string[] {
  const head = `| ${metric === 'rate' ? 'conn/s' : 'CPU ms per connection, client / server'} | ${SETUP_COLUMNS.map((c) => c.title).join(' | ')} |`;
  const lines = [head, `|---|${SETUP_COLUMNS.map(() => '---').join('|')}|`];
  for (const { mode, contact } of CASES_BY_CONTACT) {
    const cells = SETUP_COLUMNS.map((column) => {
      const setup: SetupCase = { mode, contact, groups: column.groups };
      if (column.impl === 'libp2p' && contact === 'resumed') return '(none: as first contact)';
      if (metric === 'rate') return cell(results, setupKey(setup, column.impl, 'rate'));
      const client = results.median(setupKey(setup, column.impl, 'clientCpu'));
      const server = results.median(setupKey(setup, column.impl, 'serverCpu'));
      return `${fmt(client, 2)} / ${fmt(server, 2)}`;
    });
    lines.push(
      `| ${caseTitle({ mode, contact, groups: 'default' }, ctx)} | ${cells.join(' | ')} |`,
    );
  }
  return lines;
}

function onceTable(results: Results, ctx: Context): string[] {
  const row = (title: string, key: (impl: ImplName) => string, digits: number) =>
    `| ${title} | ${ONCE_COLUMNS.map((impl) => cell(results, key(impl), digits)).join(' | ')} |`;
  return [
    `| | ${ONCE_COLUMNS.map((impl) => ONCE_TITLES[impl]).join(' | ')} |`,
    `|---|${ONCE_COLUMNS.map(() => '---').join('|')}|`,
    row(
      `throughput, ${fmt(ctx.mib)} MiB on one connection/stream, ${fmt(ctx.chunkKiB)} KiB writes, MiB/s`,
      (impl) => onceKey('throughput', impl, 'rate'),
      0,
    ),
    row('throughput: client CPU s per GiB', (impl) => onceKey('throughput', impl, 'clientCpu'), 2),
    row('throughput: server CPU s per GiB', (impl) => onceKey('throughput', impl, 'serverCpu'), 2),
    row(
      `server RSS per idle connection, ${fmt(ctx.idle)} connections, after GC, KiB`,
      (impl) => onceKey('memory', impl, 'rss'),
      1,
    ),
    row(
      'server V8 heap used per idle connection, KiB',
      (impl) => onceKey('memory', impl, 'heap'),
      1,
    ),
  ];
}

function counts(results: Results, ctx: Context): string[] {
  const sum = (key: string) => results.values(key).reduce((a, b) => a + b, 0);
  const lines: string[] = [];
  for (const setup of SETUP_CASES) {
    for (const impl of ['meshkeeper', 'tls'] as const) {
      if (setup.contact !== 'resumed') continue;
      const resumed = sum(setupKey(setup, impl, 'resumed'));
      const total = sum(setupKey(setup, impl, 'count'));
      lines.push(
        `${ONCE_TITLES[impl]}, ${setup.mode} reconnect, ${setup.groups} groups: ${fmt(resumed)} of ${fmt(total)} resumed`,
      );
    }
  }
  for (const impl of ONCE_COLUMNS) {
    const cases = SETUP_CASES.filter((setup) => runsFor(setup, impl));
    const proven = cases.reduce((n, setup) => n + sum(setupKey(setup, impl, 'proven')), 0);
    const dialed = cases.reduce((n, setup) => n + sum(setupKey(setup, impl, 'dialed')), 0);
    lines.push(
      `${ONCE_TITLES[impl]}: the server proved the client's identity on ${fmt(proven)} of ${fmt(dialed)} setup dials (warm-up included)`,
    );
  }
  let failures = 0;
  for (const setup of SETUP_CASES) {
    for (const impl of ONCE_COLUMNS) failures += sum(setupKey(setup, impl, 'failed'));
  }
  for (const impl of ONCE_COLUMNS) failures += sum(onceKey('memory', impl, 'failed'));
  const held = ONCE_COLUMNS.map(
    (impl) => `${ONCE_TITLES[impl]} ${results.values(onceKey('memory', impl, 'held')).join('/')}`,
  );
  lines.push(`failed connection attempts, all runs: ${fmt(failures)}`);
  lines.push(
    `idle connections held by the server when measured (per repetition, of ${fmt(ctx.idle)}): ${held.join('; ')}`,
  );
  return lines.map((line) => `- ${line}`);
}

export function render(results: Results, ctx: Context): string {
  return [
    '# Wire: connection setup, throughput and memory — meshkeeper vs js-libp2p vs raw mutual TLS',
    '',
    `Measured ${ctx.started} with \`${ctx.command}\` on ${ctx.machine}. ${ctx.versions}. Load average (1 min) at start / end: ${ctx.load}.`,
    '',
    `Method: client and server in separate processes on loopback (127.0.30.x servers, each client identity dialing from its own address in a /24 of 127.32.0.0/11 that no other client run of the last minute used: a bound dial's port search slows with the address's TIME_WAIT connections). ${ctx.reps} repetitions; in each, every setup case and the throughput are cut into ${ctx.blocks} blocks, and the implementations take turns block by block (the first of each round rotates, and every other pass goes backwards, so each follows each other one as often), so that a busy moment of this shared machine slows them alike; memory is measured one implementation after the other (the order rotates every repetition). Ratios are the median of same-repetition ratios; cells show the median and, in brackets, the range over repetitions. Each setup run starts with untimed warm-up connections; setup = dial + TLS/Noise with both identities proven + meshkeeper's Hello/Accept handshake (meshkeeper only) + close, one connection at a time per client identity (${ctx.lanes} identities in the parallel runs). First contact: meshkeeper's transport forgets the point's session ticket before each dial (its ticket cache is injected for this); the raw TLS client offers no session. Reconnect: the ticket of the previous connection is offered. Groups: meshkeeper's \`wire.tlsGroups\` setting (empty = Node's default, X25519MLKEM768 first) or \`X25519\`, like-for-like with Noise; the raw TLS pair passes the same value as \`ecdhCurve\`. Throughput: one connection, one stream (meshkeeper: a gossip mini-protocol instance through the mux; js-libp2p: one yamux stream; raw TLS: the socket), the server acknowledges the last byte of each block. Memory: a fresh server per implementation, warmed by a few connections, RSS and V8 heap after full GCs (\`--expose-gc\`; \`--no-flush-bytecode\`, or V8 dropping unused start-up bytecode between the two measurements offsets the connections' heap) before and after ${fmt(ctx.idle)} idle connections from ${fmt(ctx.idle)} distinct client identities.`,
    '',
    "js-libp2p: TCP + Noise + Yamux, no services, defaults except limits raised so it does not refuse the load: `maxConnections` 100,000, `inboundConnectionThreshold` 1,000,000 (default 5 per second per host), `maxIncomingPendingConnections` 1,024 (default 10), `maxParallelDials` 1,024, connection monitor off (it pings every connection). meshkeeper: the default configuration, no-op telemetry. Raw TLS: Node `tls`, TLS 1.3 only, both sides present meshkeeper-style Ed25519 certificates and each derives and checks the other's id from the certificate (as meshkeeper does); the server answers one byte once it has proven the client, and a dial ends on that byte (in TLS 1.3 the client finishes before the server has read its certificate: closing on `secureConnect` hung up before the server proved anything).",
    '',
    '## Connection setup',
    '',
    ...setupTable(results, ctx, 'rate'),
    '',
    ...setupTable(results, ctx, 'cpu'),
    '',
    '## Throughput and memory',
    '',
    ...onceTable(results, ctx),
    '',
    '## Ratios and goals (median of same-repetition ratios)',
    '',
    ...goalTable(results),
    '',
    'The setup ratios from CPU time per connection (client + server; other / meshkeeper, so above 1 favours meshkeeper), the rate ratio a CPU-bound run would show on an idle machine:',
    '',
    ...cpuTable(results),
    '',
    '## Checks',
    '',
    ...counts(results, ctx),
    '',
  ].join('\n');
}
