import { pino } from 'pino';
import { formatAddress } from '../../src/config/address.ts';
import { type Logger, noopTelemetry } from '../../src/telemetry/index.ts';
import type { Connection } from '../../src/wire/connection.ts';
import type { Channel } from '../../src/wire/mux.ts';
import { Protocol } from '../../src/wire/protocol-numbers.ts';
import { TicketCache } from '../../src/wire/tls.ts';
import { benchTransport, defaultConfig } from '../transport.ts';
import {
  ACK,
  type BenchConnection,
  type BenchServer,
  type ClientOptions,
  type Implementation,
  type ServerOptions,
  sinkCounter,
} from './endpoint.ts';
import { writeAll } from './write.ts';

/**
 * meshkeeper's real wire layer (src/wire Transport: TCP + TLS 1.3 + Hello handshake + mux) with
 * the default configuration and no-op telemetry, as bench/admin's lightweight peers run it. A
 * throughput stream is an instance of the gossip mini-protocol (its ingress limit, 8 MiB, is the
 * only one above a frame), read by a sink instead of the gossip responder.
 */

async function startServer(opts: ServerOptions): Promise<BenchServer> {
  let authenticated = 0;
  const { transport, peerId } = await benchTransport(defaultConfig(), noopTelemetry(), {
    onConnection: (connection) => {
      authenticated++;
      connection.setResponder(Protocol.gossip, (channel) => sink(channel, opts.sinkBytes));
    },
  });
  const { port } = await transport.listen(opts.host, 0);
  return {
    info: { host: opts.host, port, id: peerId },
    connections: () => transport.connections.size,
    authenticated: () => authenticated,
    close: () => transport.close(),
  };
}

function sink(channel: Channel, total: number): void {
  const count = sinkCounter(total, () => void channel.write(ACK).catch(() => {}));
  void (async () => {
    for (let chunk = await channel.read(); chunk !== null; chunk = await channel.read()) {
      count(chunk.length);
    }
  })().catch(() => {});
}

async function createClient(opts: ClientOptions) {
  const config = defaultConfig();
  const tickets = new TicketCache();
  let lastResumed = false;
  const telemetry = {
    ...noopTelemetry(),
    log: resumptionLog((resumed) => (lastResumed = resumed)),
  };
  const { transport } = await benchTransport(
    { ...config, wire: { ...config.wire, tlsGroups: opts.groups } },
    telemetry,
    { tickets, onConnection: () => {} },
  );
  // Listening on its own address is what makes the transport dial from there (and say so).
  await transport.listen(opts.localHost, 0);
  const point = { host: opts.server.host, port: opts.server.port, peerId: opts.server.id };
  const key = formatAddress(point);
  return {
    connect: async (): Promise<BenchConnection> => {
      // A first contact is a dial to a point with no ticket: forget the one the last dial kept.
      if (!opts.resume) tickets.delete(key);
      const connection = await transport.dial(point);
      return {
        resumed: lastResumed,
        push: (total, chunk) => push(connection, total, chunk),
        close: async () => {
          connection.close();
          await connection.closed;
        },
      };
    },
    close: () => transport.close(),
  };
}

async function push(connection: Connection, total: number, chunk: Uint8Array): Promise<void> {
  const channel = connection.mux.channel(Protocol.gossip, 'client');
  const acked = channel.read();
  await writeAll(total, chunk, (bytes) => channel.write(bytes));
  await acked;
}

/**
 * A logger that writes nothing and reports whether each established connection resumed its TLS
 * session (the transport says so only in that log line). The hook runs before pino serialises
 * anything and never calls on, so it costs what the silent logger costs plus one call.
 */
function resumptionLog(onEstablished: (resumed: boolean) => void): Logger {
  return pino({
    level: 'info',
    hooks: {
      logMethod(args) {
        const fields: unknown = args[0];
        if (typeof fields !== 'object' || fields === null) return;
        const line = fields as { event?: unknown; tlsResumed?: unknown };
        if (line.event === 'connection_established') onEstablished(line.tlsResumed === true);
      },
    },
  });
}

export const meshkeeper: Implementation = { startServer, createClient };
