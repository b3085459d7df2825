import { WireError, wireErrorWithoutStack } from './errors.ts';
import {
  encodeFrameHeader,
  FRAME_HEADER_BYTES,
  FrameDecoder,
  FrameFlags,
  type FramePiece,
} from './frame.ts';

/**
 * The connection multiplexer (DESIGN §3, Cardano's mux): after the handshake a connection carries
 * frames of mini-protocol instances. Each mini-protocol runs at most once in each direction; the
 * frame's `clientIsDialer` bit tells the two instances apart. Every received byte is bounded (one
 * frame in the decoder, each instance's unread bytes by its ingress limit) and every sent byte
 * waits for socket backpressure, so nothing buffers without bound.
 *
 * Lifecycle of an instance: the client writes first (a responder is created on demand when its
 * first frame arrives); each side calls `end()` to finish its direction, and the reader of that
 * direction then reads `null`. Once both directions have ended the instance is complete and
 * forgotten: `channel()` (or the client's next frame) starts a fresh instance of the same
 * mini-protocol, as Cardano restarts hot protocols on re-promotion. A frame after the remote's
 * `end` on an instance that is not complete is a `protocol_violation`.
 */

/**
 * What the mux uses of its socket: a TLS socket in the node, an in-memory one in the
 * discrete-event simulator (test/sim).
 */
export interface MuxSocket {
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
  on(event: 'drain' | 'end' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (cause: Error) => void): unknown;
  readonly destroyed: boolean;
  readonly closed: boolean;
  readonly writableHighWaterMark: number;
  readonly writableNeedDrain: boolean;
  readonly writableLength: number;
  cork(): void;
  uncork(): void;
  write(chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean;
  destroy(): void;
}

export interface MuxOptions {
  /** Which side of the TCP connection we are. */
  isDialer: boolean;
  /** Largest frame payload received or sent (`wire.maxFramePayload`, default 65536). */
  maxFramePayload: number;
  /**
   * Protocol number → most bytes received on one instance but not yet read. A protocol number not
   * in the map is unknown: a frame for it closes the connection with `unknown_protocol`.
   */
  ingressLimits: ReadonlyMap<number, number>;
  /** Writes wait for 'drain' above this many buffered bytes (default: the socket's own). */
  highWaterMark?: number;
  /** Metrics hook: wire bytes of each frame, header included, per protocol. */
  onBytes?: (direction: 'in' | 'out', protocol: number, bytes: number) => void;
  /**
   * A frame arrived for an instance whose client is the remote and that we have not opened: its
   * responder ('server' channel) was created on demand; its data waits (within the ingress limit)
   * until read. Without this hook the channel is still created and `channel(p, 'server')` finds it.
   */
  onInbound?: (channel: Channel) => void;
  /**
   * Bytes the handshake already read past its last message (see `DelimitedReader.takeRemainder`);
   * they are decoded as frames before anything else the socket delivers. `onInbound` may fire for
   * them while the constructor runs.
   */
  initialBytes?: Uint8Array;
}

/** 'client' = we run the client of this mini-protocol instance. */
export type ChannelRole = 'client' | 'server';

export interface Channel {
  readonly protocol: number;
  readonly role: ChannelRole;
  /**
   * Sends `bytes` as frames of at most `maxFramePayload`, waiting for socket backpressure between
   * frames; writes of one channel never interleave. Zero bytes send nothing. Rejects with the mux
   * error (or `connection_closed`) once the connection is closed, and with `protocol_violation`
   * after `end()` (a local bug; the connection stays up). `bytes` must not be changed afterwards.
   */
  write(bytes: Uint8Array): Promise<void>;
  /** Sends an empty frame with the `end` flag: a clean return of our direction. Idempotent. */
  end(): Promise<void>;
  /**
   * The next chunk of payload bytes, in order; `null` once the remote sent `end` and every byte
   * before it was read. Rejects with the mux error when the connection fails or is closed.
   */
  read(): Promise<Uint8Array | null>;
  /** Bytes received on this instance and not yet read. */
  readonly bytesBuffered: number;
}

/** Payloads below this are copied into shared blocks, so tiny frames cost bytes, not objects. */
const COALESCE_BELOW_BYTES = 1024;
const COALESCE_BLOCK_BYTES = 16 * 1024;

/**
 * FIFO of received payloads. Small payloads are coalesced so that memory tracks the byte count:
 * otherwise a peer sending 1-byte frames would make each byte of ingress allowance cost a
 * Uint8Array object (~100 bytes).
 */
class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0;
  private block: Uint8Array | undefined;
  private blockFilled = 0;
  bytes = 0;

  push(bytes: Uint8Array): void {
    this.bytes += bytes.length;
    if (bytes.length >= COALESCE_BELOW_BYTES) {
      this.sealBlock();
      this.chunks.push(bytes);
      return;
    }
    if (this.block === undefined || this.blockFilled + bytes.length > this.block.length) {
      this.sealBlock();
      this.block = new Uint8Array(COALESCE_BLOCK_BYTES);
    }
    this.block.set(bytes, this.blockFilled);
    this.blockFilled += bytes.length;
  }

  shift(): Uint8Array | undefined {
    if (this.head === this.chunks.length) this.sealBlock();
    const chunk = this.chunks[this.head];
    if (chunk === undefined) return undefined;
    this.chunks[this.head] = EMPTY;
    this.head += 1;
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    }
    this.bytes -= chunk.length;
    return chunk;
  }

  private sealBlock(): void {
    if (this.block === undefined) return;
    // A mostly empty block is copied out so that it does not pin 16 KiB for a few bytes.
    const filled =
      this.blockFilled * 2 >= this.block.length
        ? this.block.subarray(0, this.blockFilled)
        : this.block.slice(0, this.blockFilled);
    this.chunks.push(filled);
    this.block = undefined;
    this.blockFilled = 0;
  }
}

const EMPTY = new Uint8Array(0);

interface Reader {
  resolve: (chunk: Uint8Array | null) => void;
  reject: (error: WireError) => void;
}

/** What a channel needs from its mux. */
interface ChannelHost {
  send(channel: MuxChannel, bytes: Uint8Array, end: boolean): Promise<void>;
  ended(channel: MuxChannel): void;
}

class MuxChannel implements Channel {
  readonly protocol: number;
  readonly role: ChannelRole;
  private readonly host: ChannelHost;
  private readonly queue = new ByteQueue();
  private readers: Reader[] = [];
  private writeChain: Promise<void> = Promise.resolve();
  private ending: Promise<void> | undefined;
  private failure: WireError | undefined;
  /** The remote sent `end` on this instance. */
  remoteEnded = false;
  /** Our `end` frame is on the socket. */
  localEnded = false;

  constructor(host: ChannelHost, protocol: number, role: ChannelRole) {
    this.host = host;
    this.protocol = protocol;
    this.role = role;
  }

  get bytesBuffered(): number {
    return this.queue.bytes;
  }

  get complete(): boolean {
    return this.remoteEnded && this.localEnded;
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.ending !== undefined) {
      return Promise.reject(
        new WireError('protocol_violation', `write after end on protocol ${this.protocol}`),
      );
    }
    if (bytes.length === 0) return Promise.resolve();
    return this.enqueue(() => this.host.send(this, bytes, false));
  }

  end(): Promise<void> {
    if (this.ending !== undefined) return this.ending;
    if (this.failure !== undefined) return Promise.reject(this.failure);
    this.ending = this.enqueue(async () => {
      await this.host.send(this, EMPTY, true);
      this.localEnded = true;
      this.host.ended(this);
    });
    return this.ending;
  }

  read(): Promise<Uint8Array | null> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const chunk = this.queue.shift();
    if (chunk !== undefined) return Promise.resolve(chunk);
    if (this.remoteEnded) return Promise.resolve(null);
    return new Promise((resolve, reject) => this.readers.push({ resolve, reject }));
  }

  /** Received payload; returns the bytes now waiting to be read. */
  deliver(payload: Uint8Array): number {
    const reader = this.readers.shift();
    if (reader !== undefined) reader.resolve(payload);
    else this.queue.push(payload);
    return this.queue.bytes;
  }

  remoteEnd(): void {
    this.remoteEnded = true;
    for (const reader of this.readers.splice(0)) reader.resolve(null);
  }

  fail(error: WireError): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    while (this.queue.shift() !== undefined) {}
    for (const reader of this.readers.splice(0)) reader.reject(error);
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const result = this.writeChain.then(task);
    this.writeChain = result.catch(() => {});
    return result;
  }
}

/** Where the frame being received goes. */
interface Receiving {
  channel: MuxChannel;
  limit: number;
  /** Its first piece created the instance (announced once that piece is delivered). */
  created: boolean;
}

/** Key of an instance in the channel table. */
function channelKey(protocol: number, role: ChannelRole): number {
  return protocol * 2 + (role === 'server' ? 1 : 0);
}

export class Mux {
  /**
   * Resolves once the socket is gone: `undefined` after a clean local `close()`, otherwise the
   * error that ended the connection (`connection_closed` when the remote closed or reset it).
   */
  readonly closed: Promise<WireError | undefined>;
  private readonly socket: MuxSocket;
  private readonly isDialer: boolean;
  private readonly maxFramePayload: number;
  private readonly limits: ReadonlyMap<number, number>;
  private readonly highWaterMark: number;
  private readonly onBytes: MuxOptions['onBytes'];
  private readonly onInbound: MuxOptions['onInbound'];
  private readonly decoder: FrameDecoder;
  private readonly channels = new Map<number, MuxChannel>();
  /** The instance the frame in progress goes to, between its first and last pieces. */
  private receiving: Receiving | undefined;
  private readonly host: ChannelHost;
  private writeWaiters: (() => void)[] = [];
  private closing = false;
  private closeError: WireError | undefined;
  private channelError: WireError | undefined;
  private resolveClosed: (error: WireError | undefined) => void = () => {};

  constructor(socket: MuxSocket, options: MuxOptions) {
    this.socket = socket;
    this.isDialer = options.isDialer;
    this.maxFramePayload = options.maxFramePayload;
    this.limits = options.ingressLimits;
    this.highWaterMark = options.highWaterMark ?? socket.writableHighWaterMark;
    this.onBytes = options.onBytes;
    this.onInbound = options.onInbound;
    if (!Number.isInteger(this.maxFramePayload) || this.maxFramePayload < 1) {
      throw new RangeError(`maxFramePayload ${this.maxFramePayload} must be a positive integer`);
    }
    this.decoder = new FrameDecoder(options.maxFramePayload);
    this.host = {
      send: (channel, bytes, end) => this.send(channel, bytes, end),
      ended: (channel) => this.forgetIfComplete(channel),
    };
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    socket.on('drain', () => this.wakeWriters());
    socket.on('end', () => this.gone('remote closed'));
    socket.on('error', (cause: Error) => this.gone(`socket error: ${cause.message}`, cause));
    socket.on('close', () => {
      this.gone('socket closed');
      this.resolveClosed(this.closeError);
    });
    if (socket.destroyed) {
      this.gone('socket already destroyed');
      if (socket.closed) this.resolveClosed(this.closeError); // its 'close' has been emitted
    }
    if (options.initialBytes !== undefined && options.initialBytes.length > 0) {
      this.onData(options.initialBytes);
    }
    // Attached last: attaching 'data' resumes the socket, and the initial bytes come first.
    socket.on('data', (chunk: Uint8Array) => this.onData(chunk));
  }

  get isClosed(): boolean {
    return this.closing;
  }

  /**
   * Our side of instance (`protocol`, `role`): the same object until the instance completes (both
   * directions ended). Throws `unknown_protocol` for a protocol without an ingress limit.
   */
  channel(protocol: number, role: ChannelRole): Channel {
    if (!this.limits.has(protocol)) {
      throw new WireError('unknown_protocol', `protocol ${protocol} has no ingress limit`);
    }
    return this.channels.get(channelKey(protocol, role)) ?? this.open(protocol, role);
  }

  /**
   * Destroys the socket at once. Every pending and later read/write rejects with `error`, or with
   * `connection_closed` for a clean close; `closed` resolves with `error` (undefined if none).
   */
  close(error?: WireError): void {
    if (this.closing) return;
    this.closing = true;
    this.closeError = error;
    for (const channel of this.channels.values()) channel.fail(this.failure());
    this.wakeWriters();
    this.socket.destroy();
  }

  private fail(error: WireError): void {
    this.close(error);
  }

  /**
   * The socket ended, failed or closed: `connection_closed`, unless already closing. Errors are
   * made only when they will be used: each captures a stack trace, and every connection's close
   * used to make two or three for nothing (~2 % of a connection's setup CPU, bench/wire).
   */
  private gone(message: string, cause?: Error): void {
    if (this.closing) return;
    this.fail(
      wireErrorWithoutStack('connection_closed', message, cause === undefined ? {} : { cause }),
    );
  }

  /** What reads and writes reject with once the mux is closed. */
  private failure(): WireError {
    this.channelError ??=
      this.closeError ?? new WireError('connection_closed', 'connection closed locally');
    return this.channelError;
  }

  private open(protocol: number, role: ChannelRole): MuxChannel {
    const channel = new MuxChannel(this.host, protocol, role);
    if (this.closing) channel.fail(this.failure());
    else this.channels.set(channelKey(protocol, role), channel);
    return channel;
  }

  private forgetIfComplete(channel: MuxChannel): void {
    const key = channelKey(channel.protocol, channel.role);
    if (channel.complete && this.channels.get(key) === channel) this.channels.delete(key);
  }

  private onData(chunk: Uint8Array): void {
    if (this.closing) return;
    // Pieces, not whole frames: payload goes to its channel as it arrives, without being
    // reassembled into a fresh buffer first (frame.ts says what that cost).
    const decoded = this.decoder.pushPieces(chunk);
    if (!decoded.ok) {
      this.fail(decoded.error);
      return;
    }
    for (const piece of decoded.value) {
      if (this.closing) return;
      const error = this.onPiece(piece);
      if (error !== undefined) {
        this.fail(error);
        return;
      }
    }
  }

  /** Routes one piece of a frame; returns the error that must close the connection, if any. */
  private onPiece(piece: FramePiece): WireError | undefined {
    const routed = piece.first ? this.route(piece) : this.receiving;
    if (routed instanceof WireError) return routed;
    if (routed === undefined) {
      // Unreachable: the decoder gives each frame's first piece before its others.
      return new WireError('protocol_violation', 'frame data without its header');
    }
    const { channel, limit } = routed;
    this.receiving = piece.last ? undefined : routed;
    if (piece.bytes.length > 0 && channel.deliver(piece.bytes) > limit) {
      return new WireError(
        'ingress_overflow',
        `protocol ${channel.protocol} (${channel.role}): ${channel.bytesBuffered} unread bytes (limit ${limit})`,
      );
    }
    if (piece.last) {
      this.onBytes?.('in', piece.protocol, FRAME_HEADER_BYTES + piece.length);
      if ((piece.flags & FrameFlags.end) !== 0) {
        channel.remoteEnd();
        this.forgetIfComplete(channel);
      }
    }
    return piece.first && routed.created ? this.announce(channel) : undefined;
  }

  /** The instance a frame is for, from its header, or the error that must close the connection. */
  private route(piece: FramePiece): Receiving | WireError {
    const { protocol, flags } = piece;
    const limit = this.limits.get(protocol);
    if (limit === undefined) {
      return new WireError('unknown_protocol', `frame for unknown protocol ${protocol}`);
    }
    const clientIsDialer = (flags & FrameFlags.clientIsDialer) !== 0;
    const role: ChannelRole = clientIsDialer === this.isDialer ? 'client' : 'server';
    const channel = this.channels.get(channelKey(protocol, role));
    if (channel === undefined) {
      if (role === 'client') {
        return new WireError(
          'protocol_violation',
          `responder data for protocol ${protocol}, whose client we never started`,
        );
      }
      return { channel: this.open(protocol, role), limit, created: true };
    }
    if (channel.remoteEnded) {
      return new WireError(
        'protocol_violation',
        `data after end on protocol ${protocol} (${role})`,
      );
    }
    return { channel, limit, created: false };
  }

  private announce(channel: MuxChannel): WireError | undefined {
    try {
      this.onInbound?.(channel);
      return undefined;
    } catch (cause) {
      // Our handler's bug, not the peer's fault: close without a misbehaviour code.
      return new WireError('connection_closed', 'onInbound handler failed', { cause });
    }
  }

  private async send(channel: MuxChannel, bytes: Uint8Array, end: boolean): Promise<void> {
    const clientIsDialer = (channel.role === 'client') === this.isDialer;
    const baseFlags = clientIsDialer ? FrameFlags.clientIsDialer : 0;
    let offset = 0;
    do {
      await this.writable();
      const length = Math.min(this.maxFramePayload, bytes.length - offset);
      const last = offset + length === bytes.length;
      const flags = end && last ? baseFlags | FrameFlags.end : baseFlags;
      this.writeFrame(channel.protocol, flags, bytes.subarray(offset, offset + length));
      offset += length;
    } while (offset < bytes.length);
  }

  /** Resolves when the socket takes more bytes; rejects once the connection is closed. */
  private async writable(): Promise<void> {
    for (;;) {
      if (this.closing) throw this.failure();
      const socket = this.socket;
      if (!socket.writableNeedDrain && socket.writableLength <= this.highWaterMark) return;
      await new Promise<void>((resolve) => this.writeWaiters.push(resolve));
    }
  }

  private writeFrame(protocol: number, flags: number, payload: Uint8Array): void {
    const header = encodeFrameHeader(protocol, flags, payload.length);
    const socket = this.socket;
    socket.cork();
    if (payload.length === 0) {
      socket.write(header, this.flushed);
    } else {
      socket.write(header);
      socket.write(payload, this.flushed);
    }
    socket.uncork();
    this.onBytes?.('out', protocol, FRAME_HEADER_BYTES + payload.length);
  }

  /**
   * Write callbacks wake waiting writers as well as 'drain': with a high-water mark below the
   * socket's own, the socket never needs a drain and would never emit one.
   */
  private readonly flushed = (): void => this.wakeWriters();

  private wakeWriters(): void {
    if (this.writeWaiters.length === 0) return;
    for (const wake of this.writeWaiters.splice(0)) wake();
  }
}
