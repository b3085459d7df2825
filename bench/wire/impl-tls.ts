import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import {
  createCertificate,
  generateIdentity,
  peerIdFromCertificate,
} from '../../src/identity/index.ts';
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
 * The ceiling: mutual TLS 1.3 with Node's `tls` and nothing above it. Same Ed25519 certificates
 * as meshkeeper; each side derives the other's id from its certificate (self-signature checked)
 * and the client pins the server's, so the authentication work matches meshkeeper's. No
 * application handshake, no framing: a throughput stream is the socket itself.
 *
 * In TLS 1.3 the client's handshake ends before the server has read the client's certificate,
 * so a client that closed on 'secureConnect' would hang up before the server proved anything
 * (measured: every such server handshake ended in a reset, none authenticated the client). The
 * server therefore answers one byte once it has proven the client, and a dial ends on it.
 */

const TLS13 = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' } as const;
/** The server's answer once it has proven the client's identity. */
const PROVEN = new Uint8Array([2]);
const LISTEN_BACKLOG = 1024;

async function startServer(opts: ServerOptions): Promise<BenchServer> {
  const identity = generateIdentity();
  const { certPem, keyPem } = await createCertificate(identity);
  const open = new Set<tls.TLSSocket>();
  let authenticated = 0;
  const server = tls.createServer(
    {
      key: keyPem,
      cert: certPem,
      ...TLS13,
      requestCert: true,
      rejectUnauthorized: false,
      noDelay: true,
    },
    (socket) => {
      socket.on('error', () => {});
      const cert = socket.getPeerX509Certificate();
      if (cert === undefined || !peerIdFromCertificate(cert).ok) {
        socket.destroy();
        return;
      }
      authenticated++;
      socket.write(PROVEN);
      open.add(socket);
      socket.once('close', () => open.delete(socket));
      const count = sinkCounter(opts.sinkBytes, () => socket.write(ACK));
      socket.on('data', (chunk: Buffer) => count(chunk.length));
    },
  );
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) =>
    server.listen({ host: opts.host, port: 0, backlog: LISTEN_BACKLOG }, resolve),
  );
  const { port } = server.address() as { port: number };
  return {
    info: { host: opts.host, port, id: identity.peerId },
    connections: () => open.size,
    authenticated: () => authenticated,
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function createClient(opts: ClientOptions) {
  const { certPem, keyPem } = await createCertificate(generateIdentity());
  // One context per client, as meshkeeper keeps one per node (STACK: per-dial contexts cost ~25 %).
  const secureContext = tls.createSecureContext({
    key: keyPem,
    cert: certPem,
    ...TLS13,
    ...(opts.groups === '' ? {} : { ecdhCurve: opts.groups }),
  });
  let session: Buffer | undefined;
  return {
    connect: async (): Promise<BenchConnection> => {
      const raw = net.connect({
        host: opts.server.host,
        port: opts.server.port,
        localAddress: opts.localHost,
        noDelay: true,
      });
      const socket = tls.connect({
        socket: raw,
        secureContext,
        rejectUnauthorized: false,
        checkServerIdentity: () => undefined,
        ...(opts.resume && session !== undefined ? { session } : {}),
      });
      socket.on('session', (ticket: Buffer) => {
        session = ticket;
      });
      const proven = provenByServer(socket);
      // Awaited below; a dial failing before that must not leave it rejected and unhandled.
      proven.catch(() => {});
      await once(socket, 'secureConnect');
      const resumed = socket.isSessionReused();
      if (!resumed) checkServer(socket, opts.server.id);
      await proven;
      return {
        resumed,
        push: (total, chunk) => pushRaw(socket, total, chunk),
        close: async () => {
          // Resuming needs a ticket, which arrives just after the first handshake (a resumed
          // session may bring none: the one held stays valid, as meshkeeper's cache keeps it).
          if (opts.resume && session === undefined) await once(socket, 'session');
          socket.destroy();
          if (!socket.closed) await once(socket, 'close');
        },
      };
    },
    close: async () => {},
  };
}

/** Resolves on the server's first byte; rejects if the server closes or fails first. */
function provenByServer(socket: tls.TLSSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error): void => {
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', done);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onData = (): void => done();
    const onClose = (): void => done(new Error('the server closed before proving the client'));
    socket.once('data', onData);
    socket.once('close', onClose);
    socket.once('error', done);
  });
}

function checkServer(socket: tls.TLSSocket, expected: string): void {
  const cert = socket.getPeerX509Certificate();
  const proven = cert === undefined ? undefined : peerIdFromCertificate(cert);
  if (proven?.ok !== true || proven.peerId !== expected) {
    socket.destroy();
    throw new Error('server identity does not match');
  }
}

async function pushRaw(socket: tls.TLSSocket, total: number, chunk: Uint8Array): Promise<void> {
  const acked = once(socket, 'data');
  await writeAll(total, chunk, async (bytes) => {
    if (!socket.write(bytes)) await once(socket, 'drain');
  });
  await acked;
}

export const rawTls: Implementation = { startServer, createClient };
