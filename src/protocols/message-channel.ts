import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { WireError } from '../wire/errors.ts';
import { DelimitedReader, encodeDelimited } from '../wire/messages.ts';
import type { Channel } from '../wire/mux.ts';

/** The connection a channel runs on (a Connection or its Mux). */
export interface Closable {
  close(error?: WireError): void;
}

/**
 * Typed messages over one mini-protocol instance: length-prefixed protobuf split across frames.
 * A message larger than `maxMessageBytes` or one that does not decode is the peer's fault and
 * ends the connection with that reason.
 */
export class MessageChannel<Desc extends DescMessage> {
  readonly channel: Channel;
  readonly #schema: Desc;
  readonly #reader: DelimitedReader<Desc>;
  readonly #queue: MessageShape<Desc>[] = [];
  readonly #connection: Closable;

  constructor(channel: Channel, connection: Closable, schema: Desc, maxMessageBytes: number) {
    this.channel = channel;
    this.#connection = connection;
    this.#schema = schema;
    this.#reader = new DelimitedReader(schema, maxMessageBytes);
  }

  send(message: MessageShape<Desc>): Promise<void> {
    return this.channel.write(encodeDelimited(this.#schema, message));
  }

  /**
   * The next message, or null when the remote returned cleanly (ended the instance) between
   * messages. Rejects with the connection's error, or closes the connection on bad input.
   */
  async next(): Promise<MessageShape<Desc> | null> {
    for (;;) {
      const queued = this.#queue.shift();
      if (queued !== undefined) return queued;
      const chunk = await this.channel.read();
      if (chunk === null) {
        if (this.#reader.bufferedBytes > 0) {
          throw this.#fail(new WireError('protocol_violation', 'instance ended inside a message'));
        }
        return null;
      }
      const decoded = this.#reader.push(chunk);
      if (!decoded.ok) throw this.#fail(decoded.error);
      this.#queue.push(...decoded.value);
    }
  }

  /** Ends our side of the instance: a clean return. */
  end(): Promise<void> {
    return this.channel.end();
  }

  /** Closes the whole connection for a protocol error and returns the error to throw. */
  fail(code: WireError['code'], message: string): WireError {
    return this.#fail(new WireError(code, message));
  }

  #fail(error: WireError): WireError {
    this.#connection.close(error);
    return error;
  }
}
