import type { Duplex } from 'node:stream';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { WireError } from './errors.ts';
import { decodeMessage } from './messages.ts';

const LENGTH_BYTES = 4;

/**
 * Reads the few length-prefixed messages of the handshake straight off the socket, then hands
 * any bytes read past them back to the socket so the mux sees the stream from its first frame.
 */
export class HandshakeReader {
  readonly #socket: Duplex;
  #buffer: Buffer = Buffer.alloc(0);

  constructor(socket: Duplex) {
    this.#socket = socket;
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
          const decoded = decodeMessage(schema, bytes);
          if (!decoded.ok) throw decoded.error;
          return decoded.value;
        }
      }
      await this.#readMore();
    }
  }

  /**
   * Gives unread bytes back to the socket and lets it flow again. Call it in the same tick as the
   * next reader attaches its 'data' listener: flowing resumes on the next tick, so nothing is lost,
   * and a socket paused explicitly would not resume by itself when a listener is added.
   */
  release(): void {
    if (this.#buffer.length > 0) this.#socket.unshift(this.#buffer);
    this.#buffer = Buffer.alloc(0);
    this.#socket.resume();
  }

  #readMore(): Promise<void> {
    const socket = this.#socket;
    return new Promise((resolve, reject) => {
      if (socket.destroyed || socket.readableEnded) {
        reject(new WireError('connection_closed', 'connection closed during the handshake'));
        return;
      }
      const cleanup = (): void => {
        socket.off('data', onData);
        socket.off('end', onClosed);
        socket.off('close', onClosed);
        socket.off('error', onClosed);
      };
      const onData = (chunk: Buffer): void => {
        cleanup();
        socket.pause();
        this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
        resolve();
      };
      const onClosed = (error?: Error): void => {
        cleanup();
        reject(
          new WireError('connection_closed', 'connection closed during the handshake', {
            cause: error,
          }),
        );
      };
      socket.on('data', onData);
      socket.once('end', onClosed);
      socket.once('close', onClosed);
      socket.once('error', onClosed);
      socket.resume();
    });
  }
}
