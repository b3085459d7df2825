import type { TimerHandle } from '../../src/clock.ts';
import type { Config, PointSpec } from '../../src/config/types.ts';
import { pointKeyOf } from '../../src/pool/index.ts';
import { withDeadline } from '../../src/protocols/deadline.ts';
import {
  type AcceptGate,
  type AdmissionPolicy,
  admitAll,
  decideAccept,
  refusalOf,
  remoteHelloOf,
} from '../../src/wire/accept.ts';
import { Connection, inboundPoint, type RemoteHello } from '../../src/wire/connection.ts';
import { ConnectionTable, type TableEntry } from '../../src/wire/connection-table.ts';
import type { Hello } from '../../src/wire/gen/meshkeeper/wire/v1/handshake_pb.ts';
import { type Decision, helloMessage } from '../../src/wire/handshake.ts';
import { Mux } from '../../src/wire/mux.ts';
import { ingressLimits } from '../../src/wire/protocol-numbers.ts';
import { DialError } from '../../src/wire/transport.ts';
import { Link, type SimSocket } from './link.ts';
import type { NodeClock } from './node-clock.ts';

/** Where a dial goes: the network finds the listener and the link's round trip. */
export interface Switchboard {
  listener(point: PointSpec): SimTransport | undefined;
  rttMs(a: SimTransport, b: SimTransport): number;
  /** Every handshake's outcome, as the acceptor (or a failed dialer) saw it. */
  record(outcome: string): void;
}

export interface SimTransportInit {
  peerId: string;
  host: string;
  port: number;
  config: Pick<Config, 'network' | 'wire' | 'gossip'>;
  clock: NodeClock;
  network: Switchboard;
}

/** An accepted Hello waiting for the dialer's last word. */
interface PendingAccept {
  entry: TableEntry;
  /** The dialer's Hello. */
  hello: Hello;
  version: number;
  deadline: TimerHandle;
}

/**
 * A node's wire in the simulator, standing in for `Transport` (TCP, TLS, handshake bytes): the
 * same accept decision (`decideAccept`: network, version, self, duplicates, then the node's real
 * admission policy) on both sides of every handshake, the dialer's last word, the connection
 * table, and the handshake timeout; the connections it produces are real `Connection`s on a real
 * `Mux` over a simulated socket.
 */
export class SimTransport {
  readonly peerId: string;
  readonly host: string;
  readonly port: number;
  readonly clock: NodeClock;
  readonly hello: Hello;
  policy: AdmissionPolicy = admitAll;
  /** Whether this node's dials say it is below its minimum target (the Hello's flag). */
  wantsConnections: () => boolean = () => false;
  /** Every connection that completes its handshake, in either direction. */
  onConnection: (connection: Connection) => void = () => {};
  readonly #config: SimTransportInit['config'];
  readonly #network: Switchboard;
  readonly #table: ConnectionTable;
  /** Live connections' sockets, with the peer at the other end. */
  readonly #sockets = new Map<SimSocket, string>();
  #ephemeralPort = 40_000;

  constructor(init: SimTransportInit) {
    this.peerId = init.peerId;
    this.host = init.host;
    this.port = init.port;
    this.clock = init.clock;
    this.#config = init.config;
    this.#network = init.network;
    this.#table = new ConnectionTable(init.peerId);
    this.hello = helloMessage({
      network: init.config.network,
      advertisedAddress: `${init.host}:${init.port}`,
      privateNode: false,
      peerSharing: true,
    });
  }

  /** A node whose process runs answers on its port; a dead one's host resets the SYN. */
  get listening(): boolean {
    return !this.clock.stopped;
  }

  /** Handshakes admitted and not finished yet: connections about to count. */
  get handshakesInProgress(): number {
    return this.#table.pending;
  }

  /**
   * Dials `point` as `Transport.dial` does: TCP (a round trip), TLS (another, proving both
   * identities), Hellos crossing, the acceptor's answer, our last word. Rejects with a DialError.
   */
  async dial(point: PointSpec): Promise<Connection> {
    const { connectTimeoutMs, handshakeTimeoutMs } = this.#config.wire;
    const remote = this.#network.listener(point);
    if (remote === undefined) {
      await this.clock.sleep(connectTimeoutMs);
      throw this.#failed(new DialError('connect_timeout', `no host at ${pointKeyOf(point)}`));
    }
    const rttMs = this.#network.rttMs(this, remote);
    await this.clock.sleep(rttMs);
    if (!remote.listening) {
      throw this.#failed(new DialError('connect_error', `${pointKeyOf(point)} reset the SYN`));
    }
    // As the transport's attempt timer: past the deadline the handshake goes no further.
    const deadline = new AbortController();
    try {
      return await withDeadline(
        this.clock,
        this.#handshake(
          remote,
          point,
          new Link(this.clock, remote.clock, rttMs / 2),
          deadline.signal,
        ),
        handshakeTimeoutMs,
        () => {
          deadline.abort();
          return new DialError('handshake_timeout', `no handshake in ${handshakeTimeoutMs} ms`);
        },
      );
    } catch (error) {
      throw error instanceof DialError && error.code === 'refused' ? error : this.#failed(error);
    }
  }

  /** The process died: its sockets reset, its clock runs nothing more. */
  kill(): void {
    this.clock.stop();
    for (const socket of this.#sockets.keys()) socket.vanish();
    this.#sockets.clear();
  }

  /** The link of the live connection to `peerId`, if there is one. */
  linkTo(peerId: string): Link | undefined {
    for (const [socket, remote] of this.#sockets) if (remote === peerId) return socket.link;
    return undefined;
  }

  async #handshake(
    remote: SimTransport,
    point: PointSpec,
    link: Link,
    deadline: AbortSignal,
  ): Promise<Connection> {
    await this.clock.sleep(2 * link.oneWayMs);
    deadline.throwIfAborted();
    if (point.peerId !== undefined && point.peerId !== remote.peerId) {
      throw new DialError(
        'unexpected_peer_id',
        `expected ${point.peerId}, found ${remote.peerId}`,
        {
          peerId: remote.peerId,
        },
      );
    }
    // The Hello our dial sends now; the acceptor's is fixed.
    const sent: Hello = { ...this.hello, wantsConnections: this.wantsConnections() };
    const answer = await link.hop(remote.clock, () => remote.#answer(this, sent));
    // The answer travels back.
    await link.hop(this.clock, () => undefined);
    deadline.throwIfAborted();
    if (!answer.decision.accept) {
      throw new DialError('refused', `refused: ${answer.decision.refusal.reason}`, {
        refusal: answer.decision.refusal,
        peerId: remote.peerId,
      });
    }
    // The dialer has the last word: its own limits may have changed since it dialed.
    const version = answer.decision.version;
    const { decision, entry } = this.#decide('outbound', remote, remote.hello, version);
    link.carry(remote.clock, () => remote.#confirmed(this, link, answer.pending, decision));
    if (!decision.accept || entry === undefined) {
      const refusal = refusalOf(decision);
      throw new DialError('refused', `refused by us: ${refusal.reason}`, {
        refusal,
        peerId: remote.peerId,
      });
    }
    const connection = this.#open(link.dialerEnd, remote, {
      direction: 'outbound',
      point: pointKeyOf(point),
      version,
      entry,
      hello: remote.hello,
    });
    this.onConnection(connection);
    return connection;
  }

  /** The acceptor, on the dialer's Hello. */
  #answer(dialer: SimTransport, hello: Hello): { decision: Decision; pending?: PendingAccept } {
    const { decision, entry } = this.#decide('inbound', dialer, hello);
    this.#network.record(decision.accept ? 'accepted' : decision.refusal.reason);
    if (!decision.accept || entry === undefined) return { decision };
    const deadline = this.clock.setTimeout(
      () => this.#table.release(entry),
      this.#config.wire.handshakeTimeoutMs,
    );
    return { decision, pending: { entry, version: decision.version, deadline, hello } };
  }

  /** The acceptor, on the dialer's last word. */
  #confirmed(
    dialer: SimTransport,
    link: Link,
    pending: PendingAccept | undefined,
    decision: Decision,
  ): void {
    if (pending === undefined) return;
    pending.deadline.cancel();
    if (!decision.accept) {
      this.#table.release(pending.entry);
      return;
    }
    const connection = this.#tryOpen(link.acceptorEnd, dialer, pending);
    if (connection !== undefined) this.onConnection(connection);
  }

  #tryOpen(
    socket: SimSocket,
    dialer: SimTransport,
    pending: PendingAccept,
  ): Connection | undefined {
    try {
      return this.#open(socket, dialer, {
        direction: 'inbound',
        point: inboundPoint(dialer.host, pending.hello.advertisedAddress),
        version: pending.version,
        entry: pending.entry,
        hello: pending.hello,
      });
    } catch (error) {
      this.#failed(error);
      return undefined;
    }
  }

  #decide(
    direction: 'inbound' | 'outbound',
    remote: SimTransport,
    hello: Hello,
    acceptedVersion?: number,
  ) {
    const gate: AcceptGate = {
      network: this.#config.network,
      peerId: this.peerId,
      table: this.#table,
      policy: this.policy,
    };
    return decideAccept(gate, {
      direction,
      peerId: remote.peerId,
      remoteHost: remote.host,
      hello,
      ...(acceptedVersion === undefined ? {} : { acceptedVersion }),
    });
  }

  /** As `Transport`'s `#established`: one connection per peer, a real mux on the socket. */
  #open(
    socket: SimSocket,
    remote: SimTransport,
    init: {
      direction: 'inbound' | 'outbound';
      point?: string;
      version: number;
      entry: TableEntry;
      hello: Hello;
    },
  ): Connection {
    if (!this.#table.establish(init.entry)) {
      this.#table.release(init.entry);
      socket.destroy();
      throw new DialError('refused', 'another connection to this peer won', {
        refusal: { reason: 'already_connected', alternatives: [] },
        peerId: remote.peerId,
      });
    }
    let connection: Connection | undefined;
    const mux = new Mux(socket, {
      isDialer: init.direction === 'outbound',
      maxFramePayload: this.#config.wire.maxFramePayload,
      ingressLimits: ingressLimits(this.#config.gossip),
      onInbound: (channel) => connection?.inbound(channel),
    });
    const hello: RemoteHello = remoteHelloOf(init.hello);
    connection = new Connection({
      peerId: remote.peerId,
      direction: init.direction,
      remoteHost: remote.host,
      remotePort: init.direction === 'outbound' ? remote.port : remote.#nextEphemeralPort(),
      ...(init.point === undefined ? {} : { point: init.point }),
      version: init.version,
      hello,
      mux,
      clock: this.clock,
    });
    this.#sockets.set(socket, remote.peerId);
    void mux.closed.then(() => {
      this.#table.release(init.entry);
      this.#sockets.delete(socket);
    });
    return connection;
  }

  #nextEphemeralPort(): number {
    this.#ephemeralPort = this.#ephemeralPort >= 60_999 ? 40_000 : this.#ephemeralPort + 1;
    return this.#ephemeralPort;
  }

  #failed(error: unknown): DialError {
    const failure =
      error instanceof DialError ? error : new DialError('connection_closed', String(error));
    this.#network.record(failure.code);
    return failure;
  }
}
