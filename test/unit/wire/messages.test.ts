import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, type DescMessage, equals, type MessageShape, toBinary } from '@bufbuild/protobuf';
import { WireError } from '../../../src/wire/errors.ts';
import { GossipSchema } from '../../../src/wire/gen/meshkeeper/wire/v1/gossip_pb.ts';
import {
  HandshakeReplySchema,
  HelloSchema,
  RefuseReason,
} from '../../../src/wire/gen/meshkeeper/wire/v1/handshake_pb.ts';
import { KeepAliveSchema } from '../../../src/wire/gen/meshkeeper/wire/v1/keepalive_pb.ts';
import { PeerSharingSchema } from '../../../src/wire/gen/meshkeeper/wire/v1/peersharing_pb.ts';
import {
  DelimitedReader,
  decodeMessage,
  encodeDelimited,
  LENGTH_PREFIX_BYTES,
} from '../../../src/wire/messages.ts';

const gossip = [
  create(GossipSchema, {
    message: { case: 'announce', value: { ids: [new Uint8Array(32).fill(1)] } },
  }),
  create(GossipSchema, {}), // no case set: valid at this layer
  create(GossipSchema, {
    message: {
      case: 'deliver',
      value: { id: new Uint8Array(32).fill(2), payload: new Uint8Array(300).fill(3) },
    },
  }),
  create(GossipSchema, { message: { case: 'request', value: { ids: [] } } }),
];
const stream = concatAll(gossip.map((m) => encodeDelimited(GossipSchema, m)));

function concatAll(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function expectCode(result: { ok: boolean; error?: unknown }, code: string): void {
  assert.equal(result.ok, false);
  assert.ok(result.error instanceof WireError);
  assert.equal(result.error.code, code);
}

function readAll<R extends DelimitedReader<typeof GossipSchema>>(reader: R, chunks: Uint8Array[]) {
  const out = [];
  for (const chunk of chunks) {
    const result = reader.push(chunk);
    assert.ok(result.ok, result.ok ? '' : result.error.message);
    out.push(...result.value);
  }
  return out;
}

function assertSameGossip(got: unknown[], want = gossip): void {
  assert.equal(got.length, want.length);
  want.forEach((m, i) => {
    assert.ok(equals(GossipSchema, m, got[i] as (typeof gossip)[number]), `message ${i}`);
  });
}

test('encodeDelimited: u32 big-endian length, then the protobuf bytes', () => {
  const hello = create(HelloSchema, { network: 'main', versions: [1, 2], peerSharing: true });
  const body = toBinary(HelloSchema, hello);
  const framed = encodeDelimited(HelloSchema, hello);
  assert.equal(framed.length, LENGTH_PREFIX_BYTES + body.length);
  assert.equal(new DataView(framed.buffer).getUint32(0), body.length);
  assert.deepEqual(framed.subarray(LENGTH_PREFIX_BYTES), body);
});

function assertRoundTrip<D extends DescMessage>(schema: D, message: MessageShape<D>): void {
  const result = decodeMessage(schema, toBinary(schema, message));
  assert.ok(result.ok);
  assert.ok(equals(schema, result.value, message), schema.typeName);
}

test('decodeMessage: every wire schema round-trips', () => {
  assertRoundTrip(
    HelloSchema,
    create(HelloSchema, {
      network: 'n',
      versions: [1],
      advertisedAddress: 'a:1',
      traceparent: 't',
    }),
  );
  assertRoundTrip(
    HandshakeReplySchema,
    create(HandshakeReplySchema, {
      result: {
        case: 'refuse',
        value: { reason: RefuseReason.TOO_MANY_CONNECTIONS, alternatives: ['h:1'] },
      },
    }),
  );
  assertRoundTrip(
    KeepAliveSchema,
    create(KeepAliveSchema, { message: { case: 'pong', value: { cookie: 2 ** 32 - 1 } } }),
  );
  assertRoundTrip(
    PeerSharingSchema,
    create(PeerSharingSchema, { message: { case: 'reply', value: { points: ['x:1', 'y:2'] } } }),
  );
  for (const message of gossip) assertRoundTrip(GossipSchema, message);
});

test('decodeMessage: an empty body is a oneof wrapper with no case (the protocol decides)', () => {
  for (const schema of [KeepAliveSchema, PeerSharingSchema, GossipSchema, HandshakeReplySchema]) {
    const result = decodeMessage(schema, new Uint8Array(0));
    assert.ok(result.ok);
    assert.equal((result.value as { $typeName: string }).$typeName, schema.typeName);
  }
  const keepAlive = decodeMessage(KeepAliveSchema, new Uint8Array(0));
  assert.ok(keepAlive.ok);
  assert.equal(keepAlive.value.message.case, undefined);
});

test('decodeMessage: malformed bytes are decode_error, never a throw', () => {
  const cases: [string, number[]][] = [
    ['truncated length-delimited field', [0x0a, 0x05, 0x61]],
    ['truncated varint', [0x10, 0xff]],
    ['invalid UTF-8 in a string', [0x0a, 0x02, 0xc3, 0x28]],
    ['field number 0', [0x00, 0x01]],
    ['wire type 7', [0x0f, 0x00]],
    ['unterminated group', [0x0b]],
  ];
  for (const [name, bytes] of cases) {
    const result = decodeMessage(HelloSchema, Uint8Array.from(bytes));
    expectCode(result, 'decode_error');
    if (!result.ok) assert.match(result.error.message, /meshkeeper\.wire\.v1\.Hello/, name);
  }
});

test('decodeMessage: unknown fields are dropped', () => {
  const result = decodeMessage(KeepAliveSchema, Uint8Array.from([0x78, 0x01])); // field 15 varint
  assert.ok(result.ok);
  assert.deepEqual(toBinary(KeepAliveSchema, result.value), new Uint8Array(0));
});

test('DelimitedReader: every message, whatever byte boundary splits the stream', () => {
  for (let i = 0; i <= stream.length; i++) {
    const reader = new DelimitedReader(GossipSchema, 1024);
    assertSameGossip(readAll(reader, [stream.subarray(0, i), stream.subarray(i)]));
    assert.equal(reader.bufferedBytes, 0, `split at ${i}`);
  }
  const reader = new DelimitedReader(GossipSchema, 1024);
  assertSameGossip(
    readAll(
      reader,
      [...stream].map((b) => Uint8Array.of(b)),
    ),
  );
});

test('DelimitedReader: a zero-length message is the default message', () => {
  const result = new DelimitedReader(KeepAliveSchema, 16).push(new Uint8Array(4));
  assert.ok(result.ok);
  assert.equal(result.value.length, 1);
  assert.equal(result.value[0]?.message.case, undefined);
});

test('DelimitedReader: bufferedBytes counts a partial prefix and a partial body', () => {
  const framed = encodeDelimited(GossipSchema, gossip[2] as (typeof gossip)[number]);
  const reader = new DelimitedReader(GossipSchema, 1024);
  reader.push(framed.subarray(0, 3));
  assert.equal(reader.bufferedBytes, 3);
  reader.push(framed.subarray(3, 20));
  assert.equal(reader.bufferedBytes, 20);
  reader.push(framed.subarray(20));
  assert.equal(reader.bufferedBytes, 0);
});

test('DelimitedReader: a message of exactly the maximum is read; one byte more is refused on its prefix', () => {
  const deliver = create(GossipSchema, {
    message: { case: 'deliver', value: { id: new Uint8Array(32), payload: new Uint8Array(1000) } },
  });
  const framed = encodeDelimited(GossipSchema, deliver);
  const size = framed.length - LENGTH_PREFIX_BYTES;
  const exact = new DelimitedReader(GossipSchema, size).push(framed);
  assert.ok(exact.ok);
  assert.equal(exact.value.length, 1);

  const reader = new DelimitedReader(GossipSchema, size - 1);
  assert.deepEqual(reader.push(framed.subarray(0, 3)), { ok: true, value: [] });
  const over = reader.push(framed.subarray(3, 4));
  expectCode(over, 'protocol_violation');
  assert.equal(reader.bufferedBytes, 0);
  expectCode(
    new DelimitedReader(GossipSchema, 1 << 20).push(Uint8Array.of(0xff, 0xff, 0xff, 0xff)),
    'protocol_violation',
  );
});

test('DelimitedReader: errors are sticky; an undecodable body is decode_error', () => {
  const reader = new DelimitedReader(HelloSchema, 64);
  const bad = reader.push(Uint8Array.from([0, 0, 0, 2, 0x0a, 0x05]));
  expectCode(bad, 'decode_error');
  const again = reader.push(encodeDelimited(HelloSchema, create(HelloSchema, {})));
  expectCode(again, 'decode_error');
  if (!bad.ok && !again.ok) assert.equal(again.error, bad.error);
});

test('DelimitedReader: a bounded push stops after N messages and hands over the rest', () => {
  const hello = encodeDelimited(HelloSchema, create(HelloSchema, { network: 'main' }));
  const reply = encodeDelimited(
    HandshakeReplySchema,
    create(HandshakeReplySchema, { result: { case: 'accept', value: { version: 1 } } }),
  );
  const after = Uint8Array.of(0, 1, 3, 0, 0, 0);
  const all = concatAll([hello, reply, after]);
  for (let i = 0; i <= all.length; i++) {
    const pending = [all.subarray(0, i), all.subarray(i)];
    const helloReader = new DelimitedReader(HelloSchema, 64);
    assert.equal(readOne(helloReader, pending)?.network, 'main');
    pending.unshift(helloReader.takeRemainder());
    assert.equal(helloReader.bufferedBytes, 0);
    const replyReader = new DelimitedReader(HandshakeReplySchema, 64);
    assert.equal(readOne(replyReader, pending)?.result.case, 'accept', `split ${i}`);
    const remainder = concatAll([replyReader.takeRemainder(), ...pending]);
    assert.deepEqual([...remainder], [...after], `split ${i}`);
  }
});

/** Feeds chunks from `pending` until one message is read: what a handshake does. */
function readOne<D extends typeof HelloSchema | typeof HandshakeReplySchema>(
  reader: DelimitedReader<D>,
  pending: Uint8Array[],
) {
  for (let chunk = pending.shift(); chunk !== undefined; chunk = pending.shift()) {
    const result = reader.push(chunk, 1);
    assert.ok(result.ok);
    if (result.value.length === 1) return result.value[0];
  }
  return undefined;
}

test('DelimitedReader: takeRemainder returns a partial prefix and body in stream order', () => {
  const framed = encodeDelimited(GossipSchema, gossip[0] as (typeof gossip)[number]);
  for (const cut of [2, 4, 9]) {
    const reader = new DelimitedReader(GossipSchema, 1024);
    reader.push(framed.subarray(0, cut));
    assert.deepEqual([...reader.takeRemainder()], [...framed.subarray(0, cut)]);
    assert.equal(reader.bufferedBytes, 0);
    // The reader is usable again from a message boundary.
    assertSameGossip(readAll(reader, [framed]), [gossip[0] as (typeof gossip)[number]]);
  }
});
