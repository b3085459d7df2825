import type { Duplex } from 'node:stream';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { WireError } from './errors.ts';
import { decodeMessage } from './messages.ts';

const LENGTH_BYTES = 4;
const EMPTY = Buffer.alloc(0);

/**
 * Reads the few length-prefixed messages of the handshake straight off the socket, then hands
 * any bytes read past them back to the socket so the mux sees the stream from its first frame.
 *
 * One set of listeners for the whole handshake (a promise and four listeners per read cost more
 * than decoding the messages, bench/wire profile). The socket flows until more than
 * `pauseAboveBytes` wait unread; it is paused then, so a peer flooding the handshake is held by
 * TCP backpressure, not by our memory. A read waiting for the rest of a message resumes it: the
 * message's length is checked against its limit first, so that wait is bounded too.
 */
export class HandshakeReader {
  readonly #socket: Duplex;
  readonly #pauseAbove: number;
  #buffer: Buffer = EMPTY;
  #paused = false;
  #ended: WireError | undefined;
  #wake: (() => void) | undefined;
  readonly #onData = (chunk: Buffer): void => {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    if (this.#buffer.length > this.#pauseAbove && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
    }
    this.#wake?.();
  };
  readonly #onError = (error: Error): void => this.#end(error);
  readonly #onEnd = (): void => this.#end(undefined);

  constructor(socket: Duplex, pauseAboveBytes = 64 * 1024) {
    this.#socket = socket;
    this.#pauseAbove = pauseAboveBytes;
    if (socket.destroyed || socket.readableEnded) this.#end(undefined);
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onEnd);
    socket.on('error', this.#onError);
    // A socket paused by its previous owner stays paused when a 'data' listener is added.
    if (socket.readableFlowing === false) socket.resume();
  }

  #end(cause: Error | undefined): void {
    this.#ended ??= new WireError(
      'connection_closed',
      'connection closed during the handshake',
      cause === undefined ? {} : { cause },
    );
    this.#wake?.();
  }

  /** The next message; rejects with a WireError (decode_error, protocol_violation, connection_closed). */
  async next<Desc extends DescMessage>(
    schema: Desc,
    maxBytes: number,
  ): Promise<MessageShape<Desc>> {
    for (;;) {
      if (this.#buffer.length >= LENGTH_BYTES) {
        const length = this.#buffer.readUInt32BE(0);
        if (length > maxBytes) {
          throw new WireError('protocol_violation', `handshake message of ${length} bytes`);
        }
        const end = LENGTH_BYTES + length;
        if (this.#buffer.length >= end) {
          const bytes = this.#buffer.subarray(LENGTH_BYTES, end);
          this.#buffer = this.#buffer.subarray(end);
          if (this.#paused && this.#buffer.length <= this.#pauseAbove) {
            this.#paused = false;
            this.#socket.resume();
          }
          const decoded = decodeMessage(schema, bytes);
          if (!decoded.ok) throw decoded.error;
          return decoded.value;
        }
      }
      if (this.#ended !== undefined) throw this.#ended;
      if (this.#paused) {
        this.#paused = false;
        this.#socket.resume();
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }

  /**
   * Stops reading, gives unread bytes back to the socket and lets it flow. Call it in the same
   * tick as the next reader attaches its 'data' listener: the given-back bytes flow on the next
   * tick, so nothing is lost. Once the peer has ended its side they cannot be given back (a
   * stream takes nothing after 'end'): they are dropped, as the connection is closing anyway
   * and the next reader sees it close.
   */
  release(): void {
    const socket = this.#socket;
    socket.off('data', this.#onData);
    socket.off('end', this.#onEnd);
    socket.off('close', this.#onEnd);
    socket.off('error', this.#onError);
    if (this.#buffer.length > 0 && !socket.readableEnded) {
      socket.pause();
      socket.unshift(this.#buffer);
      this.#paused = true;
    }
    this.#buffer = EMPTY;
    if (this.#paused) socket.resume();
  }
}
