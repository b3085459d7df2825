import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { WireError } from '../../../src/wire/errors.ts';
import { DelimitedReader, LENGTH_PREFIX_BYTES } from '../../../src/wire/messages.ts';
import {
  bodyBytes,
  chunked,
  concat,
  cuts,
  FUZZ_RUNS,
  isTypedError,
  type SchemaCase,
  schemaCases,
} from './arbitraries.ts';

const READER_CODES = ['protocol_violation', 'decode_error'] as const;

function prefixed(body: Uint8Array, length = body.length): Uint8Array {
  const prefix = new Uint8Array(LENGTH_PREFIX_BYTES);
  new DataView(prefix.buffer).setUint32(0, length);
  return concat([prefix, body]);
}

/** Streams for `c`: framed hostile bodies, lying prefixes, raw noise. */
function hostileStream(c: SchemaCase): fc.Arbitrary<Uint8Array> {
  return fc
    .array(
      fc.oneof(
        bodyBytes(c).map((body) => prefixed(body)),
        fc
          .tuple(bodyBytes(c), fc.oneof(fc.nat({ max: 80 }), fc.nat({ max: 0xffff_ffff })))
          .map(([body, length]) => prefixed(body, length)),
        fc.uint8Array({ maxLength: 24 }),
      ),
      { maxLength: 5 },
    )
    .map(concat);
}

type Outcome = { messages: unknown[]; error?: WireError };

/**
 * Feeds every chunk (each push bounded to `maxMessages`, then the held-back rest drained with
 * empty pushes), checking each result's shape and the buffering bound.
 */
function feed(c: SchemaCase, max: number, chunks: Uint8Array[], maxMessages = Infinity): Outcome {
  const reader = new DelimitedReader(c.schema, max);
  const messages: unknown[] = [];
  const pending = [...chunks];
  for (let chunk = pending.shift(); chunk !== undefined; chunk = pending.shift()) {
    const before = reader.bufferedBytes + chunk.length;
    const result = reader.push(chunk, maxMessages);
    if (!result.ok) {
      assert.ok(isTypedError(result.error, READER_CODES), String(result.error));
      assert.equal((reader.push(chunk) as { error?: unknown }).error, result.error, 'sticky');
      assert.equal(reader.bufferedBytes, 0);
      return { messages, error: result.error };
    }
    assert.ok(result.value.length <= maxMessages);
    messages.push(...result.value);
    if (result.value.length === maxMessages && reader.bufferedBytes > 0) {
      pending.unshift(new Uint8Array(0)); // parse what the bounded push held back
    } else {
      assert.ok(reader.bufferedBytes <= LENGTH_PREFIX_BYTES + max);
    }
    assert.ok(reader.bufferedBytes <= before);
  }
  return { messages };
}

function sameMessages(c: SchemaCase, got: unknown[], want: unknown[]): void {
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) assert.ok(c.same(got[i], want[i]), `message ${i}`);
}

const anyCase = fc.constantFrom(...schemaCases);

test('DelimitedReader: arbitrary bytes in arbitrary chunks never throw; results do not depend on chunking', () => {
  fc.assert(
    fc.property(
      anyCase.chain((c) =>
        fc.tuple(
          fc.constant(c),
          fc.nat({ max: 96 }),
          hostileStream(c),
          cuts,
          fc.integer({ min: 1, max: 3 }),
        ),
      ),
      ([c, max, stream, cutPoints, bound]) => {
        const whole = feed(c, max, [stream]);
        const split = feed(c, max, chunked(stream, cutPoints), bound);
        assert.equal(split.error?.code, whole.error?.code);
        if (whole.error === undefined) sameMessages(c, split.messages, whole.messages);
      },
    ),
    { numRuns: FUZZ_RUNS },
  );
});

test('DelimitedReader: encoded message sequences round-trip through any chunking', () => {
  fc.assert(
    fc.property(
      anyCase.chain((c) =>
        fc.tuple(
          fc.constant(c),
          fc.array(c.message, { maxLength: 5 }),
          cuts,
          fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 3 })),
        ),
      ),
      ([c, messages, cutPoints, bound]) => {
        const stream = concat(messages.map((m) => prefixed(c.encode(m))));
        const out = feed(c, 4096, chunked(stream, cutPoints), bound);
        assert.equal(out.error, undefined);
        sameMessages(c, out.messages, messages);
      },
    ),
    { numRuns: FUZZ_RUNS },
  );
});
