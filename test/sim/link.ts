import { EventEmitter } from 'node:events';
import type { Clock } from '../../src/clock.ts';
import type { MuxSocket } from '../../src/wire/mux.ts';

/**
 * One simulated TCP connection between two nodes: whatever one end sends reaches the other
 * after the link's one-way latency, in order, on the receiver's clock (so a dead receiver gets
 * nothing). A cut link is a black hole in both directions: bytes, FIN and RST alike vanish, and
 * only keep-alive timeouts can tell.
 */
export class Link {
  readonly oneWayMs: number;
  readonly dialerEnd: SimSocket;
  readonly acceptorEnd: SimSocket;
  #cut = false;

  constructor(dialerClock: Clock, acceptorClock: Clock, oneWayMs: number) {
    this.oneWayMs = oneWayMs;
    this.dialerEnd = new SimSocket(this, dialerClock);
    this.acceptorEnd = new SimSocket(this, acceptorClock);
    this.dialerEnd.peer = this.acceptorEnd;
    this.acceptorEnd.peer = this.dialerEnd;
  }

  get isCut(): boolean {
    return this.#cut;
  }

  cut(): void {
    this.#cut = true;
  }

  /** Runs `arrive` on the receiver's clock one latency from now, unless the link is cut by then. */
  carry(receiver: Clock, arrive: () => void): void {
    receiver.setTimeout(() => {
      if (!this.#cut) arrive();
    }, this.oneWayMs);
  }

  /** A message of the handshake: `answer` runs where it arrives and its result travels back. */
  hop<T>(receiver: Clock, answer: () => T): Promise<T> {
    return new Promise((resolve, reject) =>
      this.carry(receiver, () => {
        try {
          resolve(answer());
        } catch (error) {
          reject(error);
        }
      }),
    );
  }
}

/**
 * One end of a Link, as the real Mux sees a socket (`MuxSocket`). No backpressure: the
 * simulated network has no bandwidth limit, only latency.
 */
export class SimSocket extends EventEmitter implements MuxSocket {
  destroyed = false;
  closed = false;
  readonly writableHighWaterMark = 64 * 1024;
  readonly writableNeedDrain = false;
  readonly writableLength = 0;
  peer: SimSocket | undefined;
  /** This end's node clock: deliveries to this end run on it. */
  readonly clock: Clock;
  readonly link: Link;
  #corked: Uint8Array[] | undefined;
  /** Bytes that arrived before anyone read (the mux attaches after the handshake). */
  #held: Uint8Array[] | undefined = [];

  constructor(link: Link, clock: Clock) {
    super();
    this.link = link;
    this.clock = clock;
    this.on('newListener', (event) => {
      if (event === 'data') queueMicrotask(() => this.#release());
    });
  }

  cork(): void {
    this.#corked ??= [];
  }

  uncork(): void {
    const chunks = this.#corked;
    this.#corked = undefined;
    if (chunks !== undefined && chunks.length > 0) this.#send(Buffer.concat(chunks));
  }

  write(chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean {
    if (this.destroyed) {
      if (callback !== undefined) queueMicrotask(() => callback(new Error('socket destroyed')));
      return false;
    }
    if (this.#corked !== undefined) this.#corked.push(chunk);
    else this.#send(chunk);
    if (callback !== undefined) queueMicrotask(() => callback());
    return true;
  }

  /** A local close: the remote reads an end (FIN). */
  destroy(): void {
    if (this.destroyed) return;
    this.#goDown('end');
    queueMicrotask(() => {
      this.closed = true;
      this.emit('close');
    });
  }

  /** The process died: nothing more happens on this end; the remote gets a reset. */
  vanish(): void {
    if (!this.destroyed) this.#goDown('reset');
  }

  #goDown(signal: 'end' | 'reset'): void {
    this.destroyed = true;
    this.#held = undefined;
    const peer = this.peer;
    if (peer !== undefined) this.link.carry(peer.clock, () => peer.#remoteGone(signal));
  }

  #send(bytes: Uint8Array): void {
    const peer = this.peer;
    if (peer !== undefined) this.link.carry(peer.clock, () => peer.#receive(bytes));
  }

  #receive(bytes: Uint8Array): void {
    if (this.destroyed) return;
    if (this.#held !== undefined) this.#held.push(bytes);
    else this.emit('data', bytes);
  }

  #release(): void {
    const held = this.#held;
    this.#held = undefined;
    for (const bytes of held ?? []) if (!this.destroyed) this.emit('data', bytes);
  }

  #remoteGone(signal: 'end' | 'reset'): void {
    if (this.destroyed) return;
    if (signal === 'end') this.emit('end');
    else if (this.listenerCount('error') > 0) this.emit('error', new Error('ECONNRESET'));
    this.destroy();
  }
}
