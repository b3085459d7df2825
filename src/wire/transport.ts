import net from 'node:net';
import tls from 'node:tls';
import { type Context, context } from '@opentelemetry/api';
import type { Clock, TimerHandle } from '../clock.ts';
import { formatAddress } from '../config/address.ts';
import type { Config, PointSpec } from '../config/types.ts';
import { peerIdFromCertificate } from '../identity/index.ts';
import { extractContext, injectTraceparent, type Telemetry, withSpan } from '../telemetry/index.ts';
import { type CounterCell, type Direction, observe } from '../telemetry/metrics.ts';
import {
  type AdmissionPolicy,
  admitAll,
  decideAccept,
  refusalOf,
  remoteHelloOf,
} from './accept.ts';
import { Connection, inboundPoint, type RemoteHello } from './connection.ts';
import { ConnectionTable, type TableEntry } from './connection-table.ts';
import { WireError } from './errors.ts';
import {
  HandshakeReplySchema,
  type Hello,
  HelloSchema,
} from './gen/meshkeeper/wire/v1/handshake_pb.ts';
import {
  type Decision,
  encodeReply,
  helloMessage,
  MAX_HANDSHAKE_MESSAGE_BYTES,
  type Refusal,
  readReply,
  WIRE_VERSIONS,
} from './handshake.ts';
import { HandshakeReader } from './handshake-reader.ts';
import { encodeDelimited } from './messages.ts';
import { Mux } from './mux.ts';
import { ingressLimits, protocolLabel } from './protocol-numbers.ts';
import {
  createNodeSecureContext,
  identityOnlyVerification,
  TicketCache,
  type TlsCredentials,
} from './tls.ts';

/** Why a connection attempt (either direction) failed; each is counted and logged. */
export type ConnectionFailure =
  | 'connect_timeout'
  | 'connect_error'
  | 'tls_error'
  | 'tls_identity'
  | 'unexpected_peer_id'
  | 'handshake_timeout'
  | 'pending_limit'
  | 'refused'
  | 'decode_error'
  | 'protocol_violation'
  | 'connection_closed'
  | 'aborted'
  | 'shutting_down';

/** A failed dial, with the refusal when the handshake ended in one. */
export class DialError extends Error {
  readonly code: ConnectionFailure;
  readonly refusal: Refusal | undefined;
  /** The peer id proven by TLS, when the dial got that far. */
  readonly peerId: string | undefined;

  constructor(
    code: ConnectionFailure,
    message: string,
    extra: { refusal?: Refusal; peerId?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: extra.cause });
    this.name = 'DialError';
    this.code = code;
    this.refusal = extra.refusal;
    this.peerId = extra.peerId;
  }
}

/** The DialError behind a failed dial: the error itself, or the cause a peer action wrapped. */
export function dialErrorOf(error: unknown): DialError | undefined {
  if (error instanceof DialError) return error;
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  return cause instanceof DialError ? cause : undefined;
}

export { type AdmissionPolicy, type AdmissionRequest, admitAll } from './accept.ts';

export interface TransportOptions {
  peerId: string;
  credentials: TlsCredentials;
  network: string;
  wire: Config['wire'];
  gossip: Config['gossip'];
  advertisedAddress?: string;
  privateNode: boolean;
  peerSharing: boolean;
  telemetry: Telemetry;
  clock: Clock;
  policy?: AdmissionPolicy;
  /** Whether our dials should say we want connections (the Hello's `wants_connections`). */
  wantsConnections?: () => boolean;
  /**
   * The TLS session tickets dials resume from (default: the transport's own). Passed in so that a
   * benchmark can forget a point's ticket and measure a first contact on the same transport.
   */
  tickets?: TicketCache;
  /** Every connection that completes its handshake, in either direction. */
  onConnection: (connection: Connection) => void;
}

const LISTEN_BACKLOG = 1024;
/** How long a refused connection may take to deliver its refusal and close. */
const REFUSAL_LINGER_MS = 2000;

/**
 * One source address may hold only an eighth of the pending-handshake slots, so a flood of
 * half-open connections from one host cannot lock out good peers (it still can from eight).
 */
function pendingPerIp(maxPendingInbound: number): number {
  return Math.max(1, Math.floor(maxPendingInbound / 8));
}

/**
 * TCP + TLS 1.3 + handshake, both directions (DESIGN §3). Produces Connections; decides nothing
 * beyond the wire's own rules and what the admission policy says.
 */
export class Transport {
  readonly #opts: TransportOptions;
  readonly #secureContext: tls.SecureContext;
  readonly #tickets: TicketCache;
  /** Peer ids proven on dialed sockets, and how to keep their tickets once proven. */
  readonly #proven = new WeakMap<tls.TLSSocket, string>();
  readonly #keepTicket = new WeakMap<tls.TLSSocket, (peerId: string) => void>();
  readonly #table: ConnectionTable;
  readonly #live = new Set<net.Socket>();
  readonly #connections = new Set<Connection>();
  #server: net.Server | undefined;
  #pendingInbound = 0;
  readonly #pendingByIp = new Map<string, number>();
  #closing = false;
  #localAddress: string | undefined;
  readonly #byteCells = new Map<number, CounterCell>();
  readonly #handshakeBytesOut: CounterCell;
  /** Encoded Hellos without a traceparent, by their fields; never changed once made. */
  readonly #helloCache = new Map<string, Uint8Array>();

  constructor(opts: TransportOptions) {
    this.#opts = opts;
    this.#secureContext = createNodeSecureContext(opts.credentials, opts.wire.tlsGroups);
    this.#tickets = opts.tickets ?? new TicketCache();
    this.#table = new ConnectionTable(opts.peerId);
    this.#handshakeBytesOut = opts.telemetry.metrics.bytes.cell({
      direction: 'out',
      protocol: 'handshake',
    });
  }

  get policy(): AdmissionPolicy {
    return this.#opts.policy ?? admitAll;
  }

  set policy(policy: AdmissionPolicy) {
    this.#opts.policy = policy;
  }

  /** Inbound connections not yet through their handshake. */
  get pendingInbound(): number {
    return this.#pendingInbound;
  }

  /** Handshakes admitted and not finished yet: connections about to count. */
  get handshakesInProgress(): number {
    return this.#table.pending;
  }

  get connections(): ReadonlySet<Connection> {
    return this.#connections;
  }

  /** Starts accepting on `host:port` (port 0 picks one); dials then leave from `host` too. */
  async listen(host: string, port: number): Promise<net.AddressInfo> {
    const server = net.createServer({ noDelay: true }, (socket) => this.#accept(socket));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, backlog: LISTEN_BACKLOG }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => this.#opts.telemetry.log.error({ err: error }, 'listen_error'));
    const address = server.address() as net.AddressInfo;
    if (host !== '0.0.0.0' && host !== '::') {
      this.#localAddress = host;
      // A node bound to one address can be dialed there: say so unless told otherwise.
      this.#opts.advertisedAddress ??= formatAddress({ host, port: address.port });
    }
    return address;
  }

  /** Stops listening and closes every connection, established or not. */
  async close(): Promise<void> {
    this.#closing = true;
    const server = this.#server;
    for (const connection of this.#connections) connection.close();
    for (const socket of this.#live) socket.destroy();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Dials `point`, authenticates it and runs the handshake. Resolves with the connection or
   * rejects with a DialError saying why; never leaves a socket behind.
   */
  async dial(point: PointSpec, signal?: AbortSignal): Promise<Connection> {
    const { telemetry } = this.#opts;
    const key = formatAddress(point);
    const started = performance.now();
    const parent = context.active();
    const attempt = new Attempt(this.#opts.clock, 'outbound');
    try {
      if (this.#closing) throw new DialError('shutting_down', 'transport is closing');
      const raw = await this.#traced('wire.dial', parent, { 'net.peer': key }, () =>
        this.#connectTcp(point, signal),
      );
      attempt.watch(raw, this.#opts.wire.handshakeTimeoutMs);
      // Read before TLS takes the socket's handle over.
      const remote = remoteOf(raw);
      const socket = await this.#traced('wire.tls', parent, { 'net.peer': key }, () =>
        this.#tlsClient(raw, key),
      );
      const peerId = this.#dialedPeerId(socket, key, point.peerId);
      this.#keepTicket.get(socket)?.(peerId);
      const connection = await this.#traced(
        'wire.handshake',
        parent,
        { 'net.peer': key, 'meshkeeper.peer_id': peerId, 'meshkeeper.direction': 'outbound' },
        () => this.#dialerHandshake(socket, peerId, key, remote),
      );
      attempt.done();
      this.#countHandshake('outbound', 'ok', started);
      this.#opts.onConnection(connection);
      return connection;
    } catch (error) {
      const failure = attempt.failure(error, signal);
      attempt.close(failure);
      this.#countFailure('outbound', failure, started);
      telemetry.log.info(
        {
          event: 'dial_failed',
          point: key,
          reason: failure.code,
          refusal: failure.refusal?.reason,
          peer: failure.peerId,
        },
        failure.message,
      );
      throw failure;
    }
  }

  async #connectTcp(point: PointSpec, signal: AbortSignal | undefined): Promise<net.Socket> {
    const { clock, wire } = this.#opts;
    const socket = net.connect({
      host: point.host,
      port: point.port,
      noDelay: true,
      ...(this.#localAddress === undefined ? {} : { localAddress: this.#localAddress }),
    });
    this.#track(socket);
    return await new Promise<net.Socket>((resolve, reject) => {
      const fail = (error: DialError): void => {
        cleanup();
        socket.destroy();
        reject(error);
      };
      const onAbort = (): void => fail(new DialError('aborted', 'dial aborted'));
      const timer = clock.setTimeout(
        () =>
          fail(
            new DialError('connect_timeout', `no TCP connection in ${wire.connectTimeoutMs} ms`),
          ),
        wire.connectTimeoutMs,
      );
      const onError = (error: Error): void =>
        fail(new DialError('connect_error', error.message, { cause: error }));
      const onConnect = (): void => {
        cleanup();
        resolve(socket);
      };
      const cleanup = (): void => {
        timer.cancel();
        signal?.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        socket.off('connect', onConnect);
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('error', onError);
      socket.once('connect', onConnect);
    });
  }

  #tlsClient(raw: net.Socket, key: string): Promise<tls.TLSSocket> {
    const ticket = this.#tickets.get(key);
    const socket = tls.connect({
      socket: raw,
      secureContext: this.#secureContext,
      ...identityOnlyVerification,
      ...(ticket === undefined ? {} : { session: ticket.session }),
    });
    this.#track(socket);
    // Tickets may arrive before the peer id is proven (Node emits 'session' before
    // 'secureConnect'): the latest waits until the dial has checked the identity.
    let latest: Buffer | undefined;
    socket.on('session', (session: Buffer) => {
      const proven = this.#proven.get(socket);
      if (proven === undefined) latest = session;
      else this.#tickets.set(key, { session, peerId: proven });
    });
    this.#keepTicket.set(socket, (peerId) => {
      this.#proven.set(socket, peerId);
      if (latest !== undefined) this.#tickets.set(key, { session: latest, peerId });
    });
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        socket.off('secureConnect', onSecure);
        socket.destroy();
        reject(new DialError('tls_error', error.message, { cause: error }));
      };
      const onSecure = (): void => {
        socket.off('error', onError);
        resolve(socket);
      };
      socket.once('error', onError);
      socket.once('secureConnect', onSecure);
    });
  }

  /** The peer id the server proved, checked against the one the point names, if any. */
  #dialedPeerId(socket: tls.TLSSocket, key: string, expected: string | undefined): string {
    const cert = socket.getPeerX509Certificate();
    let peerId: string | undefined;
    if (cert !== undefined) {
      peerId = idFromCert(cert);
    } else if (socket.isSessionReused()) {
      peerId = this.#tickets.get(key)?.peerId;
    }
    if (peerId === undefined) {
      socket.destroy();
      this.#tickets.delete(key);
      throw new DialError('tls_identity', 'server presented no valid identity certificate');
    }
    if (expected !== undefined && expected !== peerId) {
      socket.destroy();
      throw new DialError('unexpected_peer_id', `expected ${expected}, found ${peerId}`, {
        peerId,
      });
    }
    return peerId;
  }

  async #dialerHandshake(
    socket: tls.TLSSocket,
    peerId: string,
    key: string,
    address: RemoteAddress,
  ): Promise<Connection> {
    const reader = new HandshakeReader(socket);
    this.#send(
      socket,
      this.#helloBytes(injectTraceparent(), this.#opts.wantsConnections?.() ?? false),
    );
    const theirHello = await reader.next(HelloSchema, MAX_HANDSHAKE_MESSAGE_BYTES);
    const reply = await reader.next(HandshakeReplySchema, MAX_HANDSHAKE_MESSAGE_BYTES);
    const reading = readReply(reply, WIRE_VERSIONS);
    if (reading.kind === 'violation') {
      throw new DialError('protocol_violation', reading.detail, { peerId });
    }
    if (reading.kind === 'refuse') {
      socket.end();
      throw new DialError('refused', `refused: ${reading.refusal.reason}`, {
        refusal: reading.refusal,
        peerId,
      });
    }
    // The dialer has the last word: its own limits may have changed since it dialed.
    const remote = remoteHelloOf(theirHello);
    const { decision, entry } = this.#admit(
      'outbound',
      peerId,
      address.host,
      theirHello,
      reading.version,
    );
    const confirmation = encodeReply(decision);
    if (!decision.accept || entry === undefined) {
      this.#send(socket, confirmation);
      socket.end();
      const refusal = refusalOf(decision);
      throw new DialError('refused', `refused by us: ${refusal.reason}`, { refusal, peerId });
    }
    // The dial returns once the confirmation has left. A caller closing at once would otherwise
    // destroy the socket under a write in flight, and Node makes an error (a stack trace) for
    // that every time: ~5 % of a dial's CPU in bench/wire's connect-and-close loop.
    try {
      await this.#sendWritten(socket, confirmation);
      // Node also reports a write as done when the socket was destroyed after taking it (the
      // handshake timeout, a reset): that dial has failed.
      if (socket.destroyed) {
        throw new WireError('connection_closed', 'connection closed during the handshake');
      }
    } catch (error) {
      this.#table.release(entry);
      throw error;
    }
    return this.#established(socket, reader, {
      peerId,
      direction: 'outbound',
      remote: address,
      point: key,
      version: decision.version,
      hello: remote,
      entry,
    });
  }

  #accept(raw: net.Socket): void {
    const { wire, telemetry } = this.#opts;
    // Each read of remoteAddress is a getpeername call: read once, passed along.
    const remote = remoteOf(raw);
    const ip = remote.host;
    const fromIp = this.#pendingByIp.get(ip) ?? 0;
    if (
      this.#closing ||
      this.#pendingInbound >= wire.maxPendingInbound ||
      fromIp >= pendingPerIp(wire.maxPendingInbound)
    ) {
      raw.destroy();
      this.#countFailure('inbound', new DialError('pending_limit', 'too many pending inbound'));
      return;
    }
    this.#pendingInbound++;
    this.#pendingByIp.set(ip, fromIp + 1);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.#pendingInbound--;
      const left = (this.#pendingByIp.get(ip) ?? 1) - 1;
      if (left === 0) this.#pendingByIp.delete(ip);
      else this.#pendingByIp.set(ip, left);
    };
    raw.once('close', release);
    this.#track(raw);
    const started = performance.now();
    const attempt = new Attempt(this.#opts.clock, 'inbound');
    attempt.watch(raw, wire.handshakeTimeoutMs);
    const socket = new tls.TLSSocket(raw, {
      isServer: true,
      secureContext: this.#secureContext,
      requestCert: true,
      rejectUnauthorized: false,
    });
    this.#track(socket);
    const onTlsError = (error: Error): void => {
      attempt.fail(new DialError('tls_error', error.message, { cause: error }));
    };
    socket.once('error', onTlsError);
    socket.once('secure', () => {
      socket.off('error', onTlsError);
      this.#acceptorHandshake(socket, remote, attempt)
        .then((connection) => {
          attempt.done();
          release();
          this.#countHandshake('inbound', 'ok', started);
          this.#opts.onConnection(connection);
        })
        .catch((error: unknown) => {
          attempt.fail(error);
        });
    });
    attempt.failed.then((failure) => {
      release();
      if (failure.code === 'refused') {
        this.#countHandshake('inbound', failure.refusal?.reason ?? 'refused', started);
      } else {
        this.#countFailure('inbound', failure, started);
      }
      telemetry.log.info(
        {
          event: 'inbound_failed',
          remote: `${remote.host}:${remote.port}`,
          reason: failure.code,
          refusal: failure.refusal?.reason,
          peer: failure.peerId,
        },
        failure.message,
      );
    });
  }

  async #acceptorHandshake(
    socket: tls.TLSSocket,
    address: RemoteAddress,
    attempt: Attempt,
  ): Promise<Connection> {
    const cert = socket.getPeerX509Certificate();
    const peerId = cert === undefined ? undefined : idFromCert(cert);
    if (peerId === undefined) {
      socket.destroy();
      throw new DialError('tls_identity', 'dialer presented no valid identity certificate');
    }
    attempt.peerId = peerId;
    const reader = new HandshakeReader(socket);
    // The dialer's Hello comes with its TLS Finished; ours goes out with the answer, in one
    // write (one TLS record, one wake-up of the dialer).
    const hello = await reader.next(HelloSchema, MAX_HANDSHAKE_MESSAGE_BYTES);
    const parent = hello.traceparent === '' ? context.active() : extractContext(hello.traceparent);
    return this.#traced(
      'wire.handshake',
      parent,
      { 'meshkeeper.peer_id': peerId, 'meshkeeper.direction': 'inbound' },
      async () => {
        const { decision, entry } = this.#admit('inbound', peerId, address.host, hello, undefined);
        this.#send(
          socket,
          Buffer.concat([this.#helloBytes(undefined, false), encodeReply(decision)]),
        );
        if (!decision.accept || entry === undefined) {
          socket.end();
          const refusal = refusalOf(decision);
          throw new DialError('refused', `refused ${peerId}: ${refusal.reason}`, {
            refusal,
            peerId,
          });
        }
        const final = decision;
        const remote = remoteHelloOf(hello);
        try {
          const confirm = readReply(
            await reader.next(HandshakeReplySchema, MAX_HANDSHAKE_MESSAGE_BYTES),
            [final.version],
          );
          if (confirm.kind === 'violation') {
            throw new DialError('protocol_violation', confirm.detail, { peerId });
          }
          if (confirm.kind === 'refuse') {
            throw new DialError('refused', `dialer withdrew: ${confirm.refusal.reason}`, {
              refusal: confirm.refusal,
              peerId,
            });
          }
        } catch (error) {
          this.#table.release(entry);
          socket.destroy();
          throw error;
        }
        return this.#established(socket, reader, {
          peerId,
          direction: 'inbound',
          remote: address,
          ...optionalPoint(inboundPoint(address.host, remote.advertisedAddress)),
          version: final.version,
          hello: remote,
          entry,
        });
      },
    );
  }

  /** The accept decision (accept.ts); the dialer passes the version the acceptor chose. */
  #admit(
    direction: Direction,
    peerId: string,
    remoteHost: string,
    hello: Hello,
    acceptedVersion: number | undefined,
  ): { decision: Decision; entry?: TableEntry } {
    const gate = {
      network: this.#opts.network,
      peerId: this.#opts.peerId,
      table: this.#table,
      policy: this.policy,
    };
    return decideAccept(gate, {
      direction,
      peerId,
      remoteHost,
      hello,
      ...(acceptedVersion === undefined ? {} : { acceptedVersion }),
    });
  }

  #established(
    socket: tls.TLSSocket,
    reader: HandshakeReader,
    init: {
      peerId: string;
      direction: Direction;
      remote: RemoteAddress;
      point?: string;
      version: number;
      hello: RemoteHello;
      entry: TableEntry;
    },
  ): Connection {
    const { telemetry, clock, wire, gossip } = this.#opts;
    if (!this.#table.establish(init.entry)) {
      this.#table.release(init.entry);
      socket.destroy();
      throw new DialError('refused', 'another connection to this peer won', {
        refusal: { reason: 'already_connected', alternatives: [] },
        peerId: init.peerId,
      });
    }
    reader.release();
    let connection: Connection | undefined;
    const mux = new Mux(socket, {
      isDialer: init.direction === 'outbound',
      maxFramePayload: wire.maxFramePayload,
      ingressLimits: ingressLimits(gossip),
      onBytes: (direction, protocol, bytes) => this.#bytesCell(direction, protocol).add(bytes),
      onInbound: (channel) => connection?.inbound(channel),
    });
    const { remote, ...fields } = init;
    connection = new Connection({
      ...fields,
      remoteHost: remote.host,
      remotePort: remote.port,
      mux,
      clock,
    });
    const established = connection;
    this.#connections.add(established);
    telemetry.metrics.connections.inc({ direction: init.direction });
    telemetry.log.info(
      {
        event: 'connection_established',
        peer: init.peerId,
        direction: init.direction,
        point: init.point,
        tlsResumed: socket.isSessionReused(),
      },
      'connection established',
    );
    void mux.closed.then((error) => {
      this.#table.release(init.entry);
      this.#connections.delete(established);
      telemetry.metrics.connections.dec({ direction: init.direction });
      observe(
        telemetry.metrics.connectionDuration,
        { direction: init.direction },
        (clock.now() - established.establishedAt) / 1000,
      );
      if (error !== undefined && error.code !== 'connection_closed') {
        telemetry.metrics.connectionFailures.inc({ reason: error.code });
      }
      telemetry.log.info(
        {
          event: 'connection_closed',
          peer: init.peerId,
          direction: init.direction,
          reason: error?.code ?? 'local_close',
        },
        'connection closed',
      );
    });
    return established;
  }

  /**
   * Our Hello, encoded. Without a traceparent it is the same bytes for every connection, so those
   * are encoded once per set of fields.
   */
  #helloBytes(traceparent: string | undefined, wantsConnections: boolean): Uint8Array {
    const { network, advertisedAddress, privateNode, peerSharing } = this.#opts;
    const encode = (): Uint8Array =>
      encodeDelimited(
        HelloSchema,
        helloMessage({
          network,
          privateNode,
          peerSharing,
          wantsConnections,
          ...(advertisedAddress === undefined ? {} : { advertisedAddress }),
          ...(traceparent === undefined ? {} : { traceparent }),
        }),
      );
    if (traceparent !== undefined) return encode();
    const key = `${network}\u0000${advertisedAddress}\u0000${privateNode}${peerSharing}${wantsConnections}`;
    const cached = this.#helloCache.get(key);
    if (cached !== undefined) return cached;
    const bytes = encode();
    // Two entries in practice (wants connections or not); a bound all the same.
    if (this.#helloCache.size >= 8) this.#helloCache.clear();
    this.#helloCache.set(key, bytes);
    return bytes;
  }

  #send(socket: tls.TLSSocket, bytes: Uint8Array, written?: (error?: Error | null) => void): void {
    socket.write(bytes, written);
    this.#handshakeBytesOut.add(bytes.length);
  }

  /** Sends `bytes`; resolves once the socket has written them, rejects if it cannot. */
  #sendWritten(socket: tls.TLSSocket, bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#send(socket, bytes, (error) => {
        if (error == null) resolve();
        else {
          reject(
            new WireError('connection_closed', `handshake write failed: ${error.message}`, {
              cause: error,
            }),
          );
        }
      });
    });
  }

  /** The byte counter of (direction, mini-protocol), looked up once per pair. */
  #bytesCell(direction: 'in' | 'out', protocol: number): CounterCell {
    const key = protocol * 2 + (direction === 'in' ? 0 : 1);
    let cell = this.#byteCells.get(key);
    if (cell === undefined) {
      cell = this.#opts.telemetry.metrics.bytes.cell({
        direction,
        protocol: protocolLabel(protocol),
      });
      this.#byteCells.set(key, cell);
    }
    return cell;
  }

  #track(socket: net.Socket): void {
    this.#live.add(socket);
    // Errors surface through 'close' and the attempt or mux that owns the socket; an 'error'
    // with no listener would crash the process on any peer's reset.
    socket.on('error', () => {});
    socket.once('close', () => this.#live.delete(socket));
  }

  #traced<T>(
    name: string,
    parent: Context,
    attributes: Record<string, string>,
    fn: () => Promise<T>,
  ): Promise<T> {
    return withSpan(this.#opts.telemetry.tracer, name, { attributes, parent }, fn);
  }

  #countHandshake(direction: Direction, result: string, startedMs: number): void {
    const { metrics } = this.#opts.telemetry;
    metrics.handshakes.inc({ direction, result });
    if (result === 'ok') {
      observe(metrics.handshakeDuration, { direction }, (performance.now() - startedMs) / 1000);
    }
  }

  #countFailure(direction: Direction, failure: DialError, startedMs?: number): void {
    const { metrics } = this.#opts.telemetry;
    if (failure.code === 'refused') {
      metrics.handshakes.inc({ direction, result: failure.refusal?.reason ?? 'refused' });
      return;
    }
    metrics.connectionFailures.inc({ reason: failure.code });
    if (startedMs !== undefined) metrics.handshakes.inc({ direction, result: 'error' });
  }
}

/**
 * One connection attempt's deadline and outcome. The timer destroys the socket when the
 * handshake takes too long; whatever error that causes downstream is reported as the timeout.
 */
class Attempt {
  readonly #clock: Clock;
  readonly direction: Direction;
  peerId: string | undefined;
  #timer: TimerHandle | undefined;
  #timedOut = false;
  #socket: net.Socket | undefined;
  #settled = false;
  #reportFailure: (failure: DialError) => void = () => {};
  readonly failed: Promise<DialError>;

  constructor(clock: Clock, direction: Direction) {
    this.#clock = clock;
    this.direction = direction;
    this.failed = new Promise((resolve) => {
      this.#reportFailure = resolve;
    });
  }

  watch(socket: net.Socket, timeoutMs: number): void {
    this.#socket = socket;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timedOut = true;
      this.fail(new DialError('handshake_timeout', `no handshake in ${timeoutMs} ms`));
    }, timeoutMs);
  }

  done(): void {
    this.#settled = true;
    this.#timer?.cancel();
  }

  /** Normalises any error of the attempt into a DialError. */
  failure(error: unknown, signal?: AbortSignal): DialError {
    if (this.#timedOut) {
      return new DialError('handshake_timeout', 'handshake timed out', peerOf(this.peerId, error));
    }
    if (error instanceof DialError) return error;
    if (signal?.aborted)
      return new DialError('aborted', 'dial aborted', peerOf(this.peerId, error));
    if (error instanceof WireError) {
      const code: ConnectionFailure =
        error.code === 'decode_error' || error.code === 'protocol_violation'
          ? error.code
          : error.code === 'connection_closed'
            ? 'connection_closed'
            : 'protocol_violation';
      return new DialError(code, error.message, peerOf(this.peerId, error));
    }
    const message = error instanceof Error ? error.message : String(error);
    return new DialError('connection_closed', message, peerOf(this.peerId, error));
  }

  /** Ends the attempt with a failure (first one wins) and closes its socket. */
  fail(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    const failure = this.failure(error);
    this.close(failure);
    this.#reportFailure(failure);
  }

  /**
   * Closes the socket after a failure. A refusal was written just before and the socket ended:
   * destroying it now could drop the refusal unsent, so it gets a moment to flush and close.
   */
  close(failure: DialError): void {
    this.#settled = true;
    this.#timer?.cancel();
    const socket = this.#socket;
    if (socket === undefined || socket.destroyed) return;
    if (failure.code !== 'refused') {
      socket.destroy();
      return;
    }
    const linger = this.#clock.setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS);
    socket.once('close', () => linger.cancel());
  }
}

function peerOf(peerId: string | undefined, cause: unknown): { peerId?: string; cause: unknown } {
  return peerId === undefined ? { cause } : { peerId, cause };
}

function idFromCert(cert: import('node:crypto').X509Certificate): string | undefined {
  const result = peerIdFromCertificate(cert);
  return result.ok ? result.peerId : undefined;
}

interface RemoteAddress {
  host: string;
  port: number;
}

function remoteOf(socket: net.Socket): RemoteAddress {
  return { host: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
}

function optionalPoint(point: string | undefined): { point?: string } {
  return point === undefined ? {} : { point };
}
