import { type DescMessage, fromBinary, type MessageShape, toBinary } from '@bufbuild/protobuf';
import { fail, ok, type Result, WireError } from './errors.ts';
import { takeBytes } from './frame.ts';

/**
 * Length-prefixed protobuf messages (DESIGN §3): `u32 length (big-endian) | message bytes`. Used
 * by the handshake and, across mux frames, by every mini-protocol.
 *
 * A oneof wrapper (`KeepAlive`, `PeerSharing`, `Gossip`, `HandshakeReply`) with no case set is a
 * valid message here — it is what an empty body decodes to. Whether it is allowed is the
 * protocol's decision (typically a `protocol_violation`), not the codec's.
 */

export const LENGTH_PREFIX_BYTES = 4;

/** Unknown fields are dropped: nothing is forwarded verbatim, so they would only hold memory. */
const readOptions = { readUnknownFields: false } as const;

/** `message` serialized with its u32 big-endian length in front. */
export function encodeDelimited<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
): Uint8Array {
  const body = toBinary(schema, message);
  const out = new Uint8Array(LENGTH_PREFIX_BYTES + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, LENGTH_PREFIX_BYTES);
  return out;
}

/**
 * One message from exactly `bytes` (no length prefix). Anything protobuf cannot parse —
 * truncation, bad wire types, invalid UTF-8 in a string, nesting too deep — is a `decode_error`;
 * it never throws. Bytes fields may be views into `bytes`.
 */
export function decodeMessage<Desc extends DescMessage>(
  schema: Desc,
  bytes: Uint8Array,
): Result<MessageShape<Desc>> {
  try {
    return ok(fromBinary(schema, bytes, readOptions));
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return fail(
      new WireError('decode_error', `undecodable ${schema.typeName}: ${reason}`, { cause }),
    );
  }
}

/**
 * Turns a stream of length-prefixed messages into messages, whatever the chunking. A prefix
 * announcing more than `maxMessageBytes` is a `protocol_violation` (the protocol's message limit,
 * not a frame limit) as soon as its 4 bytes are in; the body is never buffered. An undecodable
 * body is a `decode_error`. Errors are sticky. At most one prefix, one body and the rest of one
 * chunk are buffered.
 */
export class DelimitedReader<Desc extends DescMessage> {
  private readonly schema: Desc;
  private readonly maxMessageBytes: number;
  private readonly prefix = new Uint8Array(LENGTH_PREFIX_BYTES);
  private readonly prefixView = new DataView(this.prefix.buffer);
  private prefixFilled = 0;
  private body: Uint8Array | undefined;
  private bodyFilled = 0;
  /** Bytes after the last message a bounded push returned, not yet parsed. */
  private rest: Uint8Array = EMPTY;
  private error: WireError | undefined;

  constructor(schema: Desc, maxMessageBytes: number) {
    if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 0) {
      throw new RangeError(`maxMessageBytes ${maxMessageBytes} is not a size`);
    }
    this.schema = schema;
    this.maxMessageBytes = maxMessageBytes;
  }

  /** Bytes received but not yet part of a returned message. */
  get bufferedBytes(): number {
    const body = this.body === undefined ? 0 : LENGTH_PREFIX_BYTES + this.bodyFilled;
    return this.prefixFilled + body + this.rest.length;
  }

  /**
   * The messages completed by `chunk`, in order, or the error that ended the stream. With
   * `maxMessages`, parsing stops after that many messages and the bytes after them stay buffered
   * (parsed by the next push, or handed over by `takeRemainder`): the handshake reads exactly its
   * messages and passes what follows to the mux.
   */
  push(chunk: Uint8Array, maxMessages = Number.POSITIVE_INFINITY): Result<MessageShape<Desc>[]> {
    if (this.error !== undefined) return fail(this.error);
    let input = chunk;
    if (this.rest.length > 0) {
      input = concat(this.rest, chunk);
      this.rest = EMPTY;
    }
    const messages: MessageShape<Desc>[] = [];
    let offset = 0;
    while (offset < input.length) {
      if (messages.length >= maxMessages) {
        this.rest = input.subarray(offset);
        break;
      }
      let complete: Uint8Array | undefined;
      if (this.body !== undefined) {
        const copied = Math.min(this.body.length - this.bodyFilled, input.length - offset);
        this.body.set(input.subarray(offset, offset + copied), this.bodyFilled);
        this.bodyFilled += copied;
        offset += copied;
        if (this.bodyFilled < this.body.length) break;
        complete = this.body;
        this.body = undefined;
        this.bodyFilled = 0;
      } else {
        const copied = Math.min(LENGTH_PREFIX_BYTES - this.prefixFilled, input.length - offset);
        this.prefix.set(input.subarray(offset, offset + copied), this.prefixFilled);
        this.prefixFilled += copied;
        offset += copied;
        if (this.prefixFilled < LENGTH_PREFIX_BYTES) break;
        this.prefixFilled = 0;
        const length = this.prefixView.getUint32(0);
        if (length > this.maxMessageBytes) {
          return this.stop(
            new WireError(
              'protocol_violation',
              `${this.schema.typeName} of ${length} bytes (max ${this.maxMessageBytes})`,
            ),
          );
        }
        if (input.length - offset < length) {
          this.body = new Uint8Array(length);
          continue;
        }
        complete = takeBytes(input, offset, length);
        offset += length;
      }
      const decoded = decodeMessage(this.schema, complete);
      if (!decoded.ok) return this.stop(decoded.error);
      messages.push(decoded.value);
    }
    return ok(messages);
  }

  /**
   * Every buffered byte not yet part of a returned message (a partial prefix and body, and what a
   * bounded push left), in stream order; the reader is empty afterwards. Empty after an error.
   */
  takeRemainder(): Uint8Array {
    // While a body is pending, `prefix` still holds its (complete) length prefix.
    const filled = this.body === undefined ? this.prefixFilled : LENGTH_PREFIX_BYTES;
    const partial = this.prefix.subarray(0, filled);
    const body = this.body?.subarray(0, this.bodyFilled) ?? EMPTY;
    const out = concat(concat(partial, body), this.rest);
    this.prefixFilled = 0;
    this.body = undefined;
    this.bodyFilled = 0;
    this.rest = EMPTY;
    return out;
  }

  private stop(error: WireError): { ok: false; error: WireError } {
    this.error = error;
    this.body = undefined;
    this.prefixFilled = 0;
    this.bodyFilled = 0;
    this.rest = EMPTY;
    return fail(error);
  }
}

const EMPTY = new Uint8Array(0);

/** A fresh array (never a view: `prefix` is reused, and Buffer#slice would not copy). */
function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
