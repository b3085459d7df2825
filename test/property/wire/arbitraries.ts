import { create, type DescMessage, equals, type MessageShape, toBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { WireError, type WireErrorCode } from '../../../src/wire/errors.ts';
import { GossipSchema } from '../../../src/wire/gen/meshkeeper/wire/v1/gossip_pb.ts';
import {
  HandshakeReplySchema,
  HelloSchema,
  type RefuseReason,
} from '../../../src/wire/gen/meshkeeper/wire/v1/handshake_pb.ts';
import { KeepAliveSchema } from '../../../src/wire/gen/meshkeeper/wire/v1/keepalive_pb.ts';
import { PeerSharingSchema } from '../../../src/wire/gen/meshkeeper/wire/v1/peersharing_pb.ts';

/** Inputs per decoder property; CI runs the default (≥ 100,000). */
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 100_000);

const u32 = fc.nat({ max: 0xffff_ffff });
/** Any int32: proto3 enums are open, so unknown refusal reasons must decode too. */
const refuseReason = fc
  .integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })
  .map((n) => n as RefuseReason);
const text = fc.string({ unit: 'binary', maxLength: 12 });
const blob = (maxLength: number) => fc.uint8Array({ maxLength });

const hello = fc
  .record({
    network: text,
    versions: fc.array(u32, { maxLength: 4 }),
    advertisedAddress: text,
    privateNode: fc.boolean(),
    peerSharing: fc.boolean(),
    traceparent: text,
  })
  .map((fields) => create(HelloSchema, fields));

const handshakeReply = fc.oneof(
  fc.constant(null).map(() => create(HandshakeReplySchema)),
  u32.map((version) =>
    create(HandshakeReplySchema, { result: { case: 'accept', value: { version } } }),
  ),
  fc
    .record({ reason: refuseReason, alternatives: fc.array(text, { maxLength: 4 }) })
    .map(({ reason, alternatives }) =>
      create(HandshakeReplySchema, { result: { case: 'refuse', value: { reason, alternatives } } }),
    ),
);

const keepAlive = fc.oneof(
  fc.constant(null).map(() => create(KeepAliveSchema)),
  u32.map((cookie) => create(KeepAliveSchema, { message: { case: 'ping', value: { cookie } } })),
  u32.map((cookie) => create(KeepAliveSchema, { message: { case: 'pong', value: { cookie } } })),
);

const peerSharing = fc.oneof(
  fc.constant(null).map(() => create(PeerSharingSchema)),
  u32.map((amount) =>
    create(PeerSharingSchema, { message: { case: 'request', value: { amount } } }),
  ),
  fc
    .array(text, { maxLength: 5 })
    .map((points) => create(PeerSharingSchema, { message: { case: 'reply', value: { points } } })),
);

const ids = fc.array(blob(40), { maxLength: 4 });
const gossip = fc.oneof(
  fc.constant(null).map(() => create(GossipSchema)),
  ids.map((value) =>
    create(GossipSchema, { message: { case: 'announce', value: { ids: value } } }),
  ),
  ids.map((value) => create(GossipSchema, { message: { case: 'request', value: { ids: value } } })),
  fc
    .record({ id: blob(40), payload: blob(64) })
    .map(({ id, payload }) =>
      create(GossipSchema, { message: { case: 'deliver', value: { id, payload } } }),
    ),
);

/** One wire schema with what the properties need, hiding its message type. */
export interface SchemaCase {
  name: string;
  schema: DescMessage;
  /** A valid message, as the decoder must return it. */
  message: fc.Arbitrary<unknown>;
  encode(message: unknown): Uint8Array;
  same(a: unknown, b: unknown): boolean;
}

function schemaCase<D extends DescMessage>(
  schema: D,
  message: fc.Arbitrary<MessageShape<D>>,
): SchemaCase {
  return {
    name: schema.typeName,
    schema,
    message,
    encode: (m) => toBinary(schema, m as MessageShape<D>),
    same: (a, b) => equals(schema, a as MessageShape<D>, b as MessageShape<D>),
  };
}

export const schemaCases: SchemaCase[] = [
  schemaCase(HelloSchema, hello),
  schemaCase(HandshakeReplySchema, handshakeReply),
  schemaCase(KeepAliveSchema, keepAlive),
  schemaCase(PeerSharingSchema, peerSharing),
  schemaCase(GossipSchema, gossip),
];

type Edit = { kind: 'set' | 'insert' | 'delete'; at: number; byte: number };

const edit: fc.Arbitrary<Edit> = fc.record({
  kind: fc.constantFrom('set', 'insert', 'delete'),
  at: fc.nat(),
  byte: fc.integer({ min: 0, max: 255 }),
});

function applyEdits(bytes: Uint8Array, edits: Edit[], cut: number | null): Uint8Array {
  const out = [...bytes];
  for (const { kind, at, byte } of edits) {
    const i = at % (out.length + 1);
    if (kind === 'insert') out.splice(i, 0, byte);
    else if (i < out.length) {
      if (kind === 'set') out[i] = byte;
      else out.splice(i, 1);
    }
  }
  return Uint8Array.from(cut === null ? out : out.slice(0, cut % (out.length + 1)));
}

/** A valid encoding with a few bytes changed, inserted or removed, maybe truncated. */
export function mutated(encoding: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(
      encoding,
      fc.array(edit, { maxLength: 3 }),
      fc.oneof({ arbitrary: fc.constant(null), weight: 3 }, { arbitrary: fc.nat(), weight: 1 }),
    )
    .map(([bytes, edits, cut]) => applyEdits(bytes, edits, cut));
}

/** Hostile bodies for `c`: random bytes, or valid encodings (of any schema) lightly broken. */
export function bodyBytes(c: SchemaCase): fc.Arbitrary<Uint8Array> {
  const anyValid = fc.oneof(
    ...schemaCases.map((other) => other.message.map((m) => other.encode(m))),
  );
  return fc.oneof(blob(48), mutated(c.message.map((m) => c.encode(m))), mutated(anyValid));
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Cut points for an input of any length (taken modulo its length + 1). */
export const cuts = fc.array(fc.nat(), { maxLength: 6 });

/** `bytes` split at `cuts` (empty chunks included: a decoder must accept them). */
export function chunked(bytes: Uint8Array, cutPoints: readonly number[]): Uint8Array[] {
  const points = cutPoints.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(start, p));
    start = p;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

/** The failure shape every decoder promises: a WireError with one of `codes`. */
export function isTypedError(error: unknown, codes: readonly WireErrorCode[]): boolean {
  return error instanceof WireError && codes.includes(error.code);
}
