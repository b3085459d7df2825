import { parseArgs } from 'node:util';
import { systemClock } from '../../src/clock.ts';
import { serveKeepAlive } from '../../src/protocols/keep-alive.ts';
import { servePeerSharing } from '../../src/protocols/peer-sharing.ts';
import { noopTelemetry } from '../../src/telemetry/index.ts';
import type { Connection } from '../../src/wire/connection.ts';
import { Protocol } from '../../src/wire/protocol-numbers.ts';
import { benchTransport, defaultConfig } from '../transport.ts';

/*
 * The client side of the telemetry benchmark, in its own process (STACK: one process holding both
 * ends of 1,000 loopback connections would need 2,000 descriptors and share the CPU it measures).
 * Opens `--count` connections to `--target`, each from its own identity (a node refuses a second
 * connection from one peer id), `--concurrency` at a time, answers keep-alive and peer-sharing
 * like a real peer, and holds them until SIGTERM.
 *
 * stdout: one JSON line when all are up ({connected, failed, wallMs, perSecond}), one at exit
 * ({closedByServer}).
 */

const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    count: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '16' },
  },
});
if (values.target === undefined) throw new Error('--target host:port');
const [host = '', port = ''] = values.target.split(':');
const count = Number(values.count);
const concurrency = Number(values.concurrency);

const config = defaultConfig();
const telemetry = noopTelemetry();

// Identities first, so the timed part is the connection setup only.
const transports = await Promise.all(
  Array.from(
    { length: count },
    async () => (await benchTransport(config, telemetry, { onConnection: serve })).transport,
  ),
);

const connections: Connection[] = [];
let closedByServer = 0;
let failed = 0;
let stopping = false;
const queue = [...transports];
const started = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    for (let t = queue.shift(); t !== undefined; t = queue.shift()) {
      try {
        const connection = await t.dial({ host, port: Number(port) });
        connections.push(connection);
        void connection.closed.then(() => {
          if (!stopping) closedByServer++;
        });
      } catch {
        failed++;
      }
    }
  }),
);
const wallMs = performance.now() - started;
process.stdout.write(
  `${JSON.stringify({
    connected: connections.length,
    failed,
    wallMs: Math.round(wallMs),
    perSecond: Math.round((connections.length / wallMs) * 1000),
  })}\n`,
);

await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
stopping = true;
process.stdout.write(`${JSON.stringify({ closedByServer })}\n`);
await Promise.all(transports.map((t) => t.close()));
process.exit(0);

function serve(connection: Connection): void {
  connection.setResponder(Protocol.keepAlive, (channel, conn) => {
    serveKeepAlive(channel, conn).catch(() => {});
  });
  connection.setResponder(Protocol.peerSharing, (channel, conn) => {
    servePeerSharing(channel, conn, { clock: systemClock, provide: () => [] }).catch(() => {});
  });
}
