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
  // A plain Uint8Array either way, whether `chunk` is one or a Buffer (whose subarray is a Buffer).
  if (length * 2 >= chunk.length) {
    return new Uint8Array(chunk.buffer, chunk.byteOffset + start, length);
  }
  const copy = new Uint8Array(length);
  copy.set(chunk.subarray(start, start + length));
  return copy;
}

/**
 * A run of one frame's payload, as it arrived: a frame comes as one or more pieces, in order,
 * the first of which carries its header fields. A zero-length frame is one empty piece.
 */
export interface FramePiece {
  protocol: number;
  flags: number;
  /** The whole frame's payload length. */
  length: number;
  bytes: Uint8Array;
  /** This piece starts its frame (its header has just been read). */
  first: boolean;
  /** This piece completes its frame. */
  last: boolean;
}

interface CurrentFrame {
  protocol: number;
  flags: number;
  length: number;
  /** Payload bytes of this frame not yet received. */
  remaining: number;
  /** Nothing of this frame has been handed out yet. */
  fresh: boolean;
}

/**
 * Turns a byte stream into frames, whatever the chunking. A header announcing more than
 * `maxPayload` bytes fails with `frame_too_large` as soon as its 8 bytes are in (its payload is
 * never buffered); unknown flag bits or a non-zero reserved byte fail with `protocol_violation`.
 * Errors are sticky: every later push returns the same error.
 *
 * `pushPieces` hands payload out as it arrives, as views of the pushed chunk where that does not
 * pin much more memory than it holds: no reassembly, no copy. Reassembling every 64 KiB frame
 * (a fresh zeroed buffer, a copy, then garbage for the collector) made the receiver the
 * bottleneck of a bulk transfer: half the raw TLS pair's throughput (bench/wire). `push` gives
 * whole frames, buffering at most one header and one payload (≤ `maxPayload`). Use one of the
 * two on a decoder, not both.
 */
export class FrameDecoder {
  private readonly maxPayload: number;
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private readonly headerView = new DataView(this.header.buffer);
  private headerFilled = 0;
  private current: CurrentFrame | undefined;
  /** `push` only: the frame being reassembled and how much of its payload is in. */
  private assembling: { payload: Uint8Array; filled: number } | undefined;
  private error: WireError | undefined;

  constructor(maxPayload: number) {
    checkRange('maxPayload', maxPayload, MAX_U32);
    this.maxPayload = maxPayload;
  }

  /** Bytes of the frame in progress received so far (its header included). */
  get bufferedBytes(): number {
    const current = this.current;
    if (current === undefined) return this.headerFilled;
    return FRAME_HEADER_BYTES + current.length - current.remaining;
  }

  /** The frames completed by `chunk`, in order, or the error that ended the stream. */
  push(chunk: Uint8Array): Result<Frame[]> {
    const pieces = this.pushPieces(chunk);
    if (!pieces.ok) return pieces;
    const frames: Frame[] = [];
    for (const piece of pieces.value) {
      const { protocol, flags } = piece;
      if (piece.first && piece.last) {
        frames.push({ protocol, flags, payload: piece.bytes });
        continue;
      }
      const assembling = this.assembling ?? { payload: new Uint8Array(piece.length), filled: 0 };
      assembling.payload.set(piece.bytes, assembling.filled);
      assembling.filled += piece.bytes.length;
      this.assembling = piece.last ? undefined : assembling;
      if (piece.last) frames.push({ protocol, flags, payload: assembling.payload });
    }
    return ok(frames);
  }

  /** The payload pieces in `chunk`, in order, or the error that ended the stream. */
  pushPieces(chunk: Uint8Array): Result<FramePiece[]> {
    if (this.error !== undefined) return fail(this.error);
    const pieces: FramePiece[] = [];
    let offset = 0;
    while (offset < chunk.length || this.current?.remaining === 0) {
      const current = this.current;
      if (current !== undefined) {
        const take = Math.min(current.remaining, chunk.length - offset);
        current.remaining -= take;
        const last = current.remaining === 0;
        pieces.push({
          protocol: current.protocol,
          flags: current.flags,
          length: current.length,
          // A view when the piece is most of the chunk (a large frame's pieces mostly are whole
          // socket chunks): no copy. Smaller pieces are copied, for the reason takeBytes gives.
          bytes: takeBytes(chunk, offset, take),
          first: current.fresh,
          last,
        });
        current.fresh = false;
        offset += take;
        if (last) this.current = undefined;
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
      this.current = { ...started.value, remaining: started.value.length, fresh: true };
    }
    return ok(pieces);
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
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
