import { systemClock } from '../../src/clock.ts';
import { GossipRouter, serveGossip } from '../../src/protocols/gossip.ts';
import { serveKeepAlive } from '../../src/protocols/keep-alive.ts';
import { servePeerSharing } from '../../src/protocols/peer-sharing.ts';
import { noopTelemetry } from '../../src/telemetry/index.ts';
import { Protocol } from '../../src/wire/protocol-numbers.ts';
import type { Transport } from '../../src/wire/transport.ts';
import { benchTransport, defaultConfig } from '../transport.ts';

/**
 * `node bench/admin/peers.ts <count> <host>`: `count` lightweight peers in one process, each its
 * own identity, TLS certificate and listener on `host` (ports picked by the system). Each is the
 * real wire layer (TCP + TLS 1.3 + handshake + mux) serving what a node serves on an established
 * connection — keep-alive, peer-sharing, gossip — and nothing else: no pool, maintenance or
 * governor. One line of JSON per peer on stdout (`{"point","peerId"}`), then `ready`; SIGTERM
 * stops them. 50 full nodes would need 50 processes, too many for the benchmark's 2 cores.
 */

const count = Number(process.argv[2] ?? '50');
const host = process.argv[3] ?? '127.0.9.100';
const config = defaultConfig();
const telemetry = noopTelemetry();
const transports: Transport[] = [];

for (let i = 0; i < count; i++) {
  const router = new GossipRouter({
    clock: systemClock,
    config: config.gossip,
    metrics: telemetry.metrics,
    log: telemetry.log,
    onMessage: () => {},
  });
  const { transport, peerId } = await benchTransport(config, telemetry, {
    onConnection: (connection) => {
      connection.setResponder(Protocol.keepAlive, (channel, conn) => {
        serveKeepAlive(channel, conn).catch(() => {});
      });
      connection.setResponder(Protocol.peerSharing, (channel, conn) => {
        servePeerSharing(channel, conn, { clock: systemClock, provide: () => [] }).catch(() => {});
      });
      connection.setResponder(Protocol.gossip, (channel, conn) =>
        serveGossip(channel, conn, router),
      );
    },
  });
  const address = await transport.listen(host, 0);
  transports.push(transport);
  process.stdout.write(`${JSON.stringify({ point: `${host}:${address.port}`, peerId })}\n`);
}
process.stdout.write('ready\n');

process.on('SIGTERM', () => {
  void Promise.all(transports.map((t) => t.close())).then(() => process.exit(0));
});
