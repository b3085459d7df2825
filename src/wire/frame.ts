import { fail, ok, type Result, WireError } from './errors.ts';

/**
 * Mux frame codec (DESIGN §3): `u16 protocol | u8 flags | u8 reserved | u32 length | payload`,
 * big-endian. The decoder is incremental, bounded by `maxPayload`, and never throws.
 */

export const FRAME_HEADER_BYTES = 8;

/** Flag bits; every other bit, and the reserved byte, must be zero. */
export const FrameFlags = {
  /** The client of this mini-protocol instance is the connection's dialer (Cardano's mode bit). */
  clientIsDialer: 1,
  /** This direction of the instance ends here: a clean return. */
  end: 2,
} as const;

const KNOWN_FLAGS = FrameFlags.clientIsDialer | FrameFlags.end;
const MAX_U16 = 0xffff;
const MAX_U32 = 0xffff_ffff;

export interface Frame {
  protocol: number;
  flags: number;
  payload: Uint8Array;
}

/**
 * The 8-byte header of a frame. Throws a RangeError on values that cannot be encoded (a caller
 * bug, never input from the network).
 */
export function encodeFrameHeader(protocol: number, flags: number, length: number): Uint8Array {
  checkRange('protocol', protocol, MAX_U16);
  checkRange('flags', flags, KNOWN_FLAGS);
  checkRange('length', length, MAX_U32);
  const header = new Uint8Array(FRAME_HEADER_BYTES);
  const view = new DataView(header.buffer);
  view.setUint16(0, protocol);
  view.setUint8(2, flags);
  view.setUint8(3, 0);
  view.setUint32(4, length);
  return header;
}

function checkRange(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`frame ${name} ${value} outside 0..${max}`);
  }
}

/**
 * A copy of `chunk[start, start + length)`, or a view when the frame is at least half the chunk:
 * a small frame kept as a view would pin its whole socket chunk while it waits to be read.
 */
export function takeBytes(chunk: Uint8Array, start: number, length: number): Uint8Array {
  const view = chunk.subarray(start, start + length);
  if (length * 2 >= chunk.length) return view;
  const copy = new Uint8Array(length);
  copy.set(view);
  return copy;
}

interface PartialFrame {
  protocol: number;
  flags: number;
  payload: Uint8Array;
  filled: number;
}

/**
 * Turns a byte stream into frames, whatever the chunking. A header announcing more than
 * `maxPayload` bytes fails with `frame_too_large` as soon as its 8 bytes are in (its payload is
 * never buffered); unknown flag bits or a non-zero reserved byte fail with `protocol_violation`.
 * Errors are sticky: every later push returns the same error. At most one header and one
 * payload (≤ `maxPayload`) are buffered.
 */
export class FrameDecoder {
  private readonly maxPayload: number;
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private readonly headerView = new DataView(this.header.buffer);
  private headerFilled = 0;
  private partial: PartialFrame | undefined;
  private error: WireError | undefined;

  constructor(maxPayload: number) {
    checkRange('maxPayload', maxPayload, MAX_U32);
    this.maxPayload = maxPayload;
  }

  /** Bytes received but not yet part of a returned frame. */
  get bufferedBytes(): number {
    const partial = this.partial;
    return this.headerFilled + (partial === undefined ? 0 : FRAME_HEADER_BYTES + partial.filled);
  }

  /** The frames completed by `chunk`, in order, or the error that ended the stream. */
  push(chunk: Uint8Array): Result<Frame[]> {
    if (this.error !== undefined) return fail(this.error);
    const frames: Frame[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.partial !== undefined) {
        offset = this.fillPayload(this.partial, chunk, offset, frames);
        continue;
      }
      const copied = Math.min(FRAME_HEADER_BYTES - this.headerFilled, chunk.length - offset);
      this.header.set(chunk.subarray(offset, offset + copied), this.headerFilled);
      this.headerFilled += copied;
      offset += copied;
      if (this.headerFilled < FRAME_HEADER_BYTES) break;
      this.headerFilled = 0;
      const started = this.startFrame();
      if (!started.ok) {
        this.error = started.error;
        return fail(started.error);
      }
      const { protocol, flags, length } = started.value;
      if (chunk.length - offset >= length) {
        frames.push({ protocol, flags, payload: takeBytes(chunk, offset, length) });
        offset += length;
      } else {
        this.partial = { protocol, flags, payload: new Uint8Array(length), filled: 0 };
      }
    }
    return ok(frames);
  }

  private startFrame(): Result<{ protocol: number; flags: number; length: number }> {
    const protocol = this.headerView.getUint16(0);
    const flags = this.headerView.getUint8(2);
    const reserved = this.headerView.getUint8(3);
    const length = this.headerView.getUint32(4);
    if ((flags & ~KNOWN_FLAGS) !== 0) {
      return fail(new WireError('protocol_violation', `unknown frame flags 0x${hex(flags)}`));
    }
    if (reserved !== 0) {
      return fail(new WireError('protocol_violation', `reserved frame byte 0x${hex(reserved)}`));
    }
    if (length > this.maxPayload) {
      return fail(
        new WireError('frame_too_large', `frame of ${length} bytes (max ${this.maxPayload})`),
      );
    }
    return ok({ protocol, flags, length });
  }

  private fillPayload(
    partial: PartialFrame,
    chunk: Uint8Array,
    offset: number,
    frames: Frame[],
  ): number {
    const copied = Math.min(partial.payload.length - partial.filled, chunk.length - offset);
    partial.payload.set(chunk.subarray(offset, offset + copied), partial.filled);
    partial.filled += copied;
    if (partial.filled === partial.payload.length) {
      frames.push({ protocol: partial.protocol, flags: partial.flags, payload: partial.payload });
      this.partial = undefined;
    }
    return offset + copied;
  }
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
