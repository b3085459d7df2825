import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WireError } from '../../../src/wire/errors.ts';
import {
  encodeFrameHeader,
  FRAME_HEADER_BYTES,
  type Frame,
  FrameDecoder,
  FrameFlags,
} from '../../../src/wire/frame.ts';

function encodeFrame(frame: Frame): Uint8Array {
  const header = encodeFrameHeader(frame.protocol, frame.flags, frame.payload.length);
  const out = new Uint8Array(header.length + frame.payload.length);
  out.set(header);
  out.set(frame.payload, header.length);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function bytes(length: number, seed = 1): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
}

function decodeAll(decoder: FrameDecoder, chunks: Uint8Array[]): Frame[] {
  const frames: Frame[] = [];
  for (const chunk of chunks) {
    const result = decoder.push(chunk);
    assert.ok(result.ok, result.ok ? '' : result.error.message);
    frames.push(...result.value);
  }
  return frames;
}

function expectError(result: ReturnType<FrameDecoder['push']>, code: string): WireError {
  assert.equal(result.ok, false);
  if (result.ok) throw new Error('unreachable');
  assert.ok(result.error instanceof WireError);
  assert.equal(result.error.code, code);
  return result.error;
}

const MAX = 64;
const frames: Frame[] = [
  { protocol: 1, flags: FrameFlags.clientIsDialer, payload: bytes(5) },
  { protocol: 2, flags: 0, payload: new Uint8Array(0) },
  { protocol: 0xffff, flags: FrameFlags.end | FrameFlags.clientIsDialer, payload: bytes(MAX, 7) },
  { protocol: 3, flags: FrameFlags.end, payload: new Uint8Array(0) },
  { protocol: 0, flags: 0, payload: bytes(1, 3) },
];
const stream = concat(frames.map(encodeFrame));

test('encodeFrameHeader: u16 protocol | u8 flags | u8 reserved | u32 length, big-endian', () => {
  assert.deepEqual(
    [...encodeFrameHeader(0x0102, FrameFlags.end | FrameFlags.clientIsDialer, 0x0a0b0c0d)],
    [0x01, 0x02, 0x03, 0x00, 0x0a, 0x0b, 0x0c, 0x0d],
  );
  assert.equal(FRAME_HEADER_BYTES, 8);
});

test('encodeFrameHeader: values that do not fit throw RangeError (caller bugs)', () => {
  assert.throws(() => encodeFrameHeader(0x10000, 0, 0), RangeError);
  assert.throws(() => encodeFrameHeader(-1, 0, 0), RangeError);
  assert.throws(() => encodeFrameHeader(1, 4, 0), RangeError);
  assert.throws(() => encodeFrameHeader(1, 0, 2 ** 32), RangeError);
  assert.throws(() => encodeFrameHeader(1, 0, 1.5), RangeError);
});

test('FrameDecoder: a stream in one chunk gives every frame, zero-length and max-size included', () => {
  assert.deepEqual(decodeAll(new FrameDecoder(MAX), [stream]), frames);
});

test('FrameDecoder: the same frames whatever byte boundary splits the stream', () => {
  for (let i = 0; i <= stream.length; i++) {
    const decoder = new FrameDecoder(MAX);
    const got = decodeAll(decoder, [stream.subarray(0, i), stream.subarray(i)]);
    assert.deepEqual(got, frames, `split at ${i}`);
    assert.equal(decoder.bufferedBytes, 0);
  }
});

test('FrameDecoder: the same frames fed one byte at a time and split at every pair of points', () => {
  const decoder = new FrameDecoder(MAX);
  const oneByOne = [...stream].map((b) => Uint8Array.of(b));
  assert.deepEqual(decodeAll(decoder, oneByOne), frames);
  for (let i = 0; i <= stream.length; i += 3) {
    for (let j = i; j <= stream.length; j += 5) {
      const parts = [stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)];
      assert.deepEqual(decodeAll(new FrameDecoder(MAX), parts), frames, `split at ${i},${j}`);
    }
  }
});

test('FrameDecoder: bufferedBytes counts the partial header and payload', () => {
  const decoder = new FrameDecoder(MAX);
  const frame = encodeFrame({ protocol: 1, flags: 0, payload: bytes(10) });
  decoder.push(frame.subarray(0, 5));
  assert.equal(decoder.bufferedBytes, 5);
  decoder.push(frame.subarray(5, 12));
  assert.equal(decoder.bufferedBytes, 12);
  decoder.push(frame.subarray(12));
  assert.equal(decoder.bufferedBytes, 0);
});

test('FrameDecoder: a payload of exactly maxPayload is accepted', () => {
  const payload = bytes(65536);
  const got = decodeAll(new FrameDecoder(65536), [encodeFrame({ protocol: 1, flags: 0, payload })]);
  assert.equal(got.length, 1);
  assert.deepEqual(got[0]?.payload, payload);
});

test('FrameDecoder: an oversize header is rejected on its 8 bytes, before any payload', () => {
  const decoder = new FrameDecoder(65536);
  const header = encodeFrameHeader(1, 0, 65537);
  assert.deepEqual(decoder.push(header.subarray(0, 7)), { ok: true, value: [] });
  const error = expectError(decoder.push(header.subarray(7)), 'frame_too_large');
  assert.match(error.message, /65537/);
  assert.equal(decoder.bufferedBytes, 0);
  // A 4 GiB claim is refused the same way: nothing is allocated for it.
  expectError(
    new FrameDecoder(65536).push(encodeFrameHeader(1, 0, 2 ** 32 - 1)),
    'frame_too_large',
  );
});

test('FrameDecoder: unknown flag bits or a non-zero reserved byte are protocol violations', () => {
  for (const flags of [4, 8, 0x80, 0xff]) {
    const header = encodeFrameHeader(1, 0, 0);
    header[2] = flags;
    expectError(new FrameDecoder(MAX).push(header), 'protocol_violation');
  }
  const header = encodeFrameHeader(1, 0, 0);
  header[3] = 1;
  expectError(new FrameDecoder(MAX).push(header), 'protocol_violation');
});

test('FrameDecoder: errors are sticky, even for valid bytes pushed afterwards', () => {
  const decoder = new FrameDecoder(MAX);
  const first = expectError(decoder.push(encodeFrameHeader(1, 0, MAX + 1)), 'frame_too_large');
  const valid = encodeFrame({ protocol: 1, flags: 0, payload: bytes(3) });
  assert.equal(expectError(decoder.push(valid), 'frame_too_large'), first);
  assert.equal(expectError(decoder.push(new Uint8Array(0)), 'frame_too_large'), first);
});

test('FrameDecoder: frames before an error in the same chunk are dropped with it', () => {
  const bad = encodeFrameHeader(1, 0, 0);
  bad[3] = 9;
  const chunk = concat([encodeFrame(frames[0] as Frame), bad]);
  expectError(new FrameDecoder(MAX).push(chunk), 'protocol_violation');
});

test('FrameDecoder: a small payload is copied out of its chunk, so it does not pin it', () => {
  const chunk = concat([
    encodeFrame({ protocol: 1, flags: 0, payload: bytes(4) }),
    encodeFrame({ protocol: 1, flags: 0, payload: bytes(40) }),
  ]);
  const got = decodeAll(new FrameDecoder(MAX), [chunk]);
  assert.notEqual(got[0]?.payload.buffer, chunk.buffer);
  chunk.fill(0);
  assert.deepEqual(got[0]?.payload, bytes(4));
});

test('FrameDecoder: maxPayload must be a u32', () => {
  assert.throws(() => new FrameDecoder(-1), RangeError);
  assert.throws(() => new FrameDecoder(2 ** 32), RangeError);
});
