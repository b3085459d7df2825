import type { Clock } from '../clock.ts';
import { parsePointKey, pointKeyOf } from '../pool/point-key.ts';
import type { Direction } from '../telemetry/metrics.ts';
import type { WireError } from './errors.ts';
import type { Channel, Mux } from './mux.ts';

/** What the remote said about itself in its Hello. */
export interface RemoteHello {
  /** `host:port` it can be dialed at, if it said so. */
  advertisedAddress?: string;
  privateNode: boolean;
  peerSharing: boolean;
  /** It dialed while below its band (DESIGN §6 deviation: docs/design-notes.md). */
  wantsConnections: boolean;
}

/**
 * The point an inbound peer can be dialed at: the address it connects from with the port it
 * advertised (as Octez does). Never the advertised host itself: a peer could name someone else's
 * address, a trusted one among them.
 */
export function inboundPoint(
  remoteHost: string,
  advertised: string | undefined,
): string | undefined {
  if (advertised === undefined) return undefined;
  const parsed = parsePointKey(advertised);
  return parsed === undefined ? undefined : pointKeyOf({ host: remoteHost, port: parsed.port });
}

export type Responder = (channel: Channel, connection: Connection) => void;

export interface ConnectionInit {
  peerId: string;
  direction: Direction;
  /** The socket's remote address. */
  remoteHost: string;
  remotePort: number;
  /** The point this connection reaches the peer at: the dialed one, or the advertised one. */
  point?: string;
  version: number;
  hello: RemoteHello;
  mux: Mux;
  clock: Clock;
}

/**
 * An established, handshaken connection to one peer: its identity, its mux, and the responders
 * started on demand when the remote opens a mini-protocol instance.
 */
export class Connection {
  readonly peerId: string;
  readonly direction: Direction;
  readonly remoteHost: string;
  readonly remotePort: number;
  readonly point: string | undefined;
  readonly version: number;
  readonly hello: RemoteHello;
  readonly mux: Mux;
  readonly establishedAt: number;
  readonly #responders = new Map<number, Responder>();
  readonly #waiting = new Map<number, Channel[]>();

  constructor(init: ConnectionInit) {
    this.peerId = init.peerId;
    this.direction = init.direction;
    this.remoteHost = init.remoteHost;
    this.remotePort = init.remotePort;
    this.point = init.point;
    this.version = init.version;
    this.hello = init.hello;
    this.mux = init.mux;
    this.establishedAt = init.clock.now();
  }

  /** Resolves when the connection is gone: undefined after a local close, the error otherwise. */
  get closed(): Promise<WireError | undefined> {
    return this.mux.closed;
  }

  get isClosed(): boolean {
    return this.mux.isClosed;
  }

  close(error?: WireError): void {
    this.mux.close(error);
  }

  /**
   * Serves instances of `protocol` the remote opens. Instances opened before a responder is
   * set wait (their bytes count against the mini-protocol's ingress limit) and are served then.
   */
  setResponder(protocol: number, responder: Responder): void {
    this.#responders.set(protocol, responder);
    const waiting = this.#waiting.get(protocol) ?? [];
    this.#waiting.delete(protocol);
    for (const channel of waiting) responder(channel, this);
  }

  /** Called by the mux for each instance the remote opens. */
  inbound(channel: Channel): void {
    const responder = this.#responders.get(channel.protocol);
    if (responder !== undefined) {
      responder(channel, this);
      return;
    }
    const waiting = this.#waiting.get(channel.protocol) ?? [];
    waiting.push(channel);
    this.#waiting.set(channel.protocol, waiting);
  }
}
