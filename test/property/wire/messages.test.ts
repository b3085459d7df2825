import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeMessage } from '../../../src/wire/messages.ts';
import { bodyBytes, FUZZ_RUNS, isTypedError, schemaCases } from './arbitraries.ts';

for (const c of schemaCases) {
  test(`decodeMessage(${c.name}): arbitrary bytes never throw; a failure is decode_error`, () => {
    fc.assert(
      fc.property(bodyBytes(c), (bytes) => {
        const result = decodeMessage(c.schema, bytes);
        if (!result.ok) {
          assert.ok(isTypedError(result.error, ['decode_error']), String(result.error));
          return;
        }
        // What decodes is a real message of the schema: it re-encodes and decodes to itself.
        const again = decodeMessage(c.schema, c.encode(result.value));
        assert.ok(again.ok && c.same(again.value, result.value));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  test(`decodeMessage(${c.name}): valid messages round-trip`, () => {
    fc.assert(
      fc.property(c.message, (message) => {
        const result = decodeMessage(c.schema, c.encode(message));
        assert.ok(result.ok);
        assert.ok(c.same(result.value, message));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
}
