import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HandshakeReplySchema } from '../../../src/wire/gen/meshkeeper/wire/v1/handshake_pb.ts';
import { encodeReply, readReply, refuse, WIRE_VERSIONS } from '../../../src/wire/handshake.ts';
import { DelimitedReader } from '../../../src/wire/messages.ts';

function decodeReply(bytes: Uint8Array) {
  const reader = new DelimitedReader(HandshakeReplySchema, 64 * 1024);
  const decoded = reader.push(bytes);
  assert.ok(decoded.ok);
  assert.equal(decoded.value.length, 1);
  return decoded.value[0] as NonNullable<(typeof decoded.value)[0]>;
}

test('encodeReply: an Accept reads back as itself, and is encoded once per version', () => {
  const version = WIRE_VERSIONS[0] as number;
  const bytes = encodeReply({ accept: true, version });
  assert.deepEqual(readReply(decodeReply(bytes), WIRE_VERSIONS), { kind: 'accept', version });
  assert.equal(encodeReply({ accept: true, version }), bytes);
  // A version we do not speak is still encoded faithfully, and not kept.
  const other = encodeReply({ accept: true, version: 99 });
  assert.deepEqual(readReply(decodeReply(other), [99]), { kind: 'accept', version: 99 });
  assert.notEqual(encodeReply({ accept: true, version: 99 }), other);
});

test('encodeReply: a refusal carries its reason and alternatives', () => {
  const decision = refuse('too_many_connections', ['127.0.0.9:9732', '127.0.0.10:9732']);
  const reading = readReply(decodeReply(encodeReply(decision)), WIRE_VERSIONS);
  assert.deepEqual(reading, {
    kind: 'refuse',
    refusal: {
      reason: 'too_many_connections',
      alternatives: ['127.0.0.9:9732', '127.0.0.10:9732'],
    },
  });
});
