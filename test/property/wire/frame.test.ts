import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { WireError } from '../../../src/wire/errors.ts';
import {
  encodeFrameHeader,
  FRAME_HEADER_BYTES,
  type Frame,
  FrameDecoder,
} from '../../../src/wire/frame.ts';
import { chunked, concat, cuts, FUZZ_RUNS, isTypedError } from './arbitraries.ts';

const FRAME_CODES = ['frame_too_large', 'protocol_violation'] as const;

const validFrame = (maxPayload: number) =>
  fc
    .record({
      protocol: fc.nat({ max: 0xffff }),
      flags: fc.integer({ min: 0, max: 3 }),
      payload: fc.uint8Array({ maxLength: maxPayload }),
    })
    .map((f): Frame => ({ ...f })); // fc.record builds null-prototype objects

function encodeFrame(frame: Frame): Uint8Array {
  return concat([
    encodeFrameHeader(frame.protocol, frame.flags, frame.payload.length),
    frame.payload,
  ]);
}

/** A header with any field values, valid or not (length kept small or huge). */
const anyHeader = fc
  .tuple(
    fc.nat({ max: 0xffff }),
    fc.integer({ min: 0, max: 255 }),
    fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 })),
    fc.oneof(fc.nat({ max: 80 }), fc.nat({ max: 0xffff_ffff })),
  )
  .map(([protocol, flags, reserved, length]) => {
    const header = new Uint8Array(FRAME_HEADER_BYTES);
    const view = new DataView(header.buffer);
    view.setUint16(0, protocol);
    view.setUint8(2, flags);
    view.setUint8(3, reserved);
    view.setUint32(4, length);
    return header;
  });

/** Streams that reach every branch: valid frames, odd headers, raw noise. */
const hostileStream = fc
  .array(
    fc.oneof(
      validFrame(80).map(encodeFrame),
      fc.tuple(anyHeader, fc.uint8Array({ maxLength: 80 })).map(([h, p]) => concat([h, p])),
      fc.uint8Array({ maxLength: 40 }),
    ),
    { maxLength: 6 },
  )
  .map(concat);

type Outcome = { frames: Frame[]; error?: WireError };

/** Feeds every chunk, checking each result's shape and the buffering bound as it goes. */
function feed(maxPayload: number, chunks: Uint8Array[]): Outcome {
  const decoder = new FrameDecoder(maxPayload);
  const frames: Frame[] = [];
  for (const chunk of chunks) {
    const result = decoder.push(chunk);
    if (!result.ok) {
      assert.ok(isTypedError(result.error, FRAME_CODES), String(result.error));
      assert.equal((decoder.push(chunk) as { error?: unknown }).error, result.error, 'sticky');
      return { frames, error: result.error };
    }
    for (const frame of result.value) {
      assert.ok(frame.payload.length <= maxPayload);
      assert.ok(frame.flags >= 0 && frame.flags <= 3);
    }
    frames.push(...result.value);
    assert.ok(decoder.bufferedBytes <= FRAME_HEADER_BYTES + maxPayload);
  }
  return { frames };
}

test('FrameDecoder: arbitrary bytes in arbitrary chunks never throw; results do not depend on chunking', () => {
  fc.assert(
    fc.property(fc.nat({ max: 64 }), hostileStream, cuts, (maxPayload, stream, cutPoints) => {
      const whole = feed(maxPayload, [stream]);
      const split = feed(maxPayload, chunked(stream, cutPoints));
      assert.equal(split.error?.code, whole.error?.code);
      if (whole.error === undefined) assert.deepEqual(split.frames, whole.frames);
      // Whatever was returned before an error is a prefix of the frames byte-by-byte decoding sees.
      const bytewise = feed(
        maxPayload,
        [...stream].map((b) => Uint8Array.of(b)),
      );
      assert.equal(bytewise.error?.code, whole.error?.code);
      assert.deepEqual(split.frames, bytewise.frames.slice(0, split.frames.length));
    }),
    { numRuns: FUZZ_RUNS },
  );
});

test('FrameDecoder: encoded frames round-trip through any chunking', () => {
  fc.assert(
    fc.property(
      fc
        .nat({ max: 64 })
        .chain((max) => fc.tuple(fc.constant(max), fc.array(validFrame(max), { maxLength: 6 }))),
      cuts,
      ([maxPayload, frames], cutPoints) => {
        const out = feed(maxPayload, chunked(concat(frames.map(encodeFrame)), cutPoints));
        assert.equal(out.error, undefined);
        assert.deepEqual(out.frames, frames);
      },
    ),
    { numRuns: FUZZ_RUNS },
  );
});
