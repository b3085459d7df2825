import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { Libp2p, Stream } from '@libp2p/interface';
import { type TCPSocketOptions, tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p, type Libp2pOptions } from 'libp2p';
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
 * js-libp2p as its users build it for the same job: TCP + Noise + Yamux, no services (no
 * identify, no ping), every setting at its default except the limits that would make it refuse
 * the benchmark's load. Noise authenticates both peer ids; the dialer pins the server's through
 * the `/p2p/` component. js-libp2p has no session resumption: every dial is a full handshake.
 */

const PROTOCOL = '/meshkeeper-bench/sink/1.0.0';

/**
 * Raised (STACK.md): by default js-libp2p refuses more than 5 inbound connections per second from
 * one host, more than 10 pending upgrades and more than 300 connections; and its connection
 * monitor pings every connection, which meshkeeper's transport does not do.
 */
const LIMITS_RAISED = {
  connectionManager: {
    maxConnections: 100_000,
    inboundConnectionThreshold: 1_000_000,
    maxIncomingPendingConnections: 1_024,
    maxParallelDials: 1_024,
  },
  connectionMonitor: { enabled: false },
} satisfies Libp2pOptions;

async function node(listen: string[], dialFrom?: string): Promise<Libp2p> {
  // Net's localAddress is passed through to net.connect, though TCPSocketOptions does not list it.
  const dialOpts: TCPSocketOptions & { localAddress?: string } =
    dialFrom === undefined ? {} : { localAddress: dialFrom };
  return createLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    addresses: { listen },
    transports: [tcp({ backlog: 1024, dialOpts })],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...LIMITS_RAISED,
  });
}

async function startServer(opts: ServerOptions): Promise<BenchServer> {
  const server = await node([`/ip4/${opts.host}/tcp/0`]);
  // A connection opens once Noise has proven the remote peer id and the muxer is agreed.
  let authenticated = 0;
  server.addEventListener('connection:open', () => authenticated++);
  await server.handle(
    PROTOCOL,
    (stream) => {
      const count = sinkCounter(opts.sinkBytes, () => stream.send(ACK));
      stream.addEventListener('message', (event) => count(event.data.byteLength));
    },
    { maxInboundStreams: 1024 },
  );
  const port = server
    .getMultiaddrs()[0]
    ?.getComponents()
    .find((component) => component.name === 'tcp')?.value;
  if (port === undefined) throw new Error('libp2p listens on no TCP address');
  return {
    info: { host: opts.host, port: Number(port), id: server.peerId.toString() },
    connections: () => server.getConnections().length,
    authenticated: () => authenticated,
    close: async () => {
      await server.stop();
    },
  };
}

async function createClient(opts: ClientOptions) {
  const client = await node([], opts.localHost);
  const target = multiaddr(
    `/ip4/${opts.server.host}/tcp/${opts.server.port}/p2p/${opts.server.id}`,
  );
  return {
    connect: async (): Promise<BenchConnection> => {
      const connection = await client.dial(target);
      // One stream for the connection's whole throughput run, as the others use one channel or
      // socket: a stream per push would add a negotiation each time (and stop at 64 streams).
      let stream: Promise<Stream> | undefined;
      return {
        resumed: false,
        push: async (total, chunk) => {
          stream ??= connection.newStream(PROTOCOL);
          await push(await stream, total, chunk);
        },
        close: () => connection.close(),
      };
    },
    close: async () => {
      await client.stop();
    },
  };
}

async function push(stream: Stream, total: number, chunk: Uint8Array): Promise<void> {
  const acked = nextMessage(stream);
  await writeAll(total, chunk, async (bytes) => {
    if (!stream.send(bytes)) await stream.onDrain();
  });
  await acked;
}

/** Resolves on the stream's next message; rejects if it closes first. */
function nextMessage(stream: Stream): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (): void => {
      stream.removeEventListener('close', onClose);
      resolve();
    };
    const onClose = (event: { error?: Error }): void => {
      stream.removeEventListener('message', onMessage);
      reject(event.error ?? new Error('closed'));
    };
    stream.addEventListener('message', onMessage, { once: true });
    stream.addEventListener('close', onClose, { once: true });
  });
}

export const libp2p: Implementation = { startServer, createClient };
