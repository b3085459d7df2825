import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import { duplexPair } from 'node:stream';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { create } from '@bufbuild/protobuf';
import { systemClock } from '../../../src/clock.ts';
import {
  type GossipConnection,
  type GossipLimits,
  GossipRouter,
  messageId,
  serveGossip,
  startGossip,
} from '../../../src/protocols/gossip.ts';
import { createMetrics } from '../../../src/telemetry/metrics.ts';
import type { WireError } from '../../../src/wire/errors.ts';
import { encodeFrameHeader, FrameDecoder, FrameFlags } from '../../../src/wire/frame.ts';
import { type Gossip, GossipSchema } from '../../../src/wire/gen/meshkeeper/wire/v1/gossip_pb.ts';
import { DelimitedReader, encodeDelimited } from '../../../src/wire/messages.ts';
import { Mux } from '../../../src/wire/mux.ts';
import { ingressLimits, Protocol } from '../../../src/wire/protocol-numbers.ts';

/**
 * Sessions over two muxes joined by an in-memory duplex pair (real framing and backpressure, no
 * TLS); the integration tests run the same over real sockets.
 */

const MiB = 1024 * 1024;
const config = {
  maxMessageBytes: MiB,
  maxIngressBytes: 8 * MiB,
  seenCacheSize: 100_000,
  seenTtlMs: 600_000,
};

type Counts = Record<'published' | 'delivered' | 'duplicate' | 'dropped', number>;

interface TestNode {
  router: GossipRouter;
  received: Uint8Array[];
  counts(): Promise<Counts>;
}

function node(limits: Partial<GossipLimits> = {}): TestNode {
  const metrics = createMetrics({ version: 'test', defaultMetrics: false });
  const received: Uint8Array[] = [];
  const router = new GossipRouter({
    clock: systemClock,
    config,
    metrics,
    limits,
    onMessage: (payload) => received.push(payload),
  });
  return {
    router,
    received,
    async counts() {
      const out: Counts = { published: 0, delivered: 0, duplicate: 0, dropped: 0 };
      for (const v of (await metrics.gossipMessages.get()).values) {
        out[v.labels.event as keyof Counts] = v.value;
      }
      return out;
    },
  };
}

/** One side of a connection: a mux that serves gossip through `router`. */
function attach(
  socket: Duplex,
  isDialer: boolean,
  router: GossipRouter,
  highWaterMark?: number,
): GossipConnection & { mux: Mux } {
  let connection: (GossipConnection & { mux: Mux }) | undefined;
  const mux = new Mux(socket, {
    isDialer,
    ...(highWaterMark === undefined ? {} : { highWaterMark }),
    maxFramePayload: 65536,
    ingressLimits: ingressLimits(config),
    onInbound: (channel) => {
      if (connection !== undefined) serveGossip(channel, connection, router);
    },
  });
  connection = { mux, close: (error?: WireError) => mux.close(error) };
  return connection;
}

function link(a: TestNode, b: TestNode) {
  const [left, right] = duplexPair();
  return { ab: attach(left, true, a.router), ba: attach(right, false, b.router) };
}

async function eventually(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const bytes = (s: string) => new TextEncoder().encode(s);

test('a published message crosses a connection once, in both directions', async () => {
  const [a, b] = [node(), node()];
  const { ab, ba } = link(a, b);
  const runs = [startGossip(ab, a.router), startGossip(ba, b.router)];
  a.router.publish(bytes('from a'));
  b.router.publish(bytes('from b'));
  await eventually(() => a.received.length === 1 && b.received.length === 1, 'both messages');
  assert.deepEqual(b.received, [bytes('from a')]);
  assert.deepEqual(a.received, [bytes('from b')]);
  for (const run of runs) run.stop();
  await Promise.all(runs.map((r) => r.done));
  assert.equal((await b.counts()).delivered, 1);
  assert.equal((await b.counts()).duplicate, 0);
});

test('a session started on one side only is enough: the responder joins with its own session', async () => {
  const [a, b] = [node(), node()];
  const { ab } = link(a, b);
  const run = startGossip(ab, a.router);
  await eventually(() => b.router.attachedPeers === 1, 'the remote session');
  b.router.publish(bytes('to a'));
  a.router.publish(bytes('to b'));
  await eventually(() => a.received.length === 1 && b.received.length === 1, 'both messages');
  run.stop();
  await run.done;
  assert.equal(b.router.attachedPeers, 0, 'our stop ended the remote session too');
});

test('stop() on both ends resolves cleanly and leaves the connection open', async () => {
  const [a, b] = [node(), node()];
  const { ab, ba } = link(a, b);
  const runs = [startGossip(ab, a.router), startGossip(ba, b.router)];
  a.router.publish(bytes('m'));
  await eventually(() => b.received.length === 1, 'the message');
  for (const run of runs) run.stop();
  await Promise.all(runs.map((r) => r.done));
  assert.equal(ab.mux.isClosed, false);
  assert.equal(ba.mux.isClosed, false);
  assert.equal(runs[0]?.session.state, 'done');
});

test('the remote stopping is a clean return here too (the monitoring loop then deactivates)', async () => {
  const [a, b] = [node(), node()];
  const { ab, ba } = link(a, b);
  const ours = startGossip(ab, a.router);
  const theirs = startGossip(ba, b.router);
  await eventually(() => a.router.attachedPeers === 1 && b.router.attachedPeers === 1, 'both');
  theirs.stop();
  await ours.done;
  await theirs.done;
  assert.equal(ab.mux.isClosed, false);
});

test('after a clean stop the hot protocol restarts on the same connection', async () => {
  const [a, b] = [node(), node()];
  const { ab, ba } = link(a, b);
  let runs = [startGossip(ab, a.router), startGossip(ba, b.router)];
  for (const run of runs) run.stop();
  await Promise.all(runs.map((r) => r.done));
  runs = [startGossip(ab, a.router), startGossip(ba, b.router)];
  a.router.publish(bytes('second life'));
  await eventually(() => b.received.length === 1, 'the message after restart');
  for (const run of runs) run.stop();
  await Promise.all(runs.map((r) => r.done));
});

test('stop and immediate restart: the new session opens only after the old instance completed', async () => {
  const [a, b] = [node(), node()];
  const { ab, ba } = link(a, b);
  const theirs = startGossip(ba, b.router);
  const first = startGossip(ab, a.router);
  await sleep(10);
  first.stop();
  const second = startGossip(ab, a.router);
  assert.notEqual(second.session, first.session);
  await first.done;
  // Either session may end up paired with the remote's instance; whichever way, nothing breaks.
  second.stop();
  theirs.stop();
  await Promise.all([second.done, theirs.done]);
  assert.equal(ab.mux.isClosed, false);
  const again = [startGossip(ab, a.router), startGossip(ba, b.router)];
  a.router.publish(bytes('after restart'));
  await eventually(() => b.received.length === 1, 'delivery through new sessions');
  for (const run of again) run.stop();
  await Promise.all(again.map((r) => r.done));
});

test('a line A–B–C: B forwards to C and never announces back to A', async () => {
  const [a, b, c] = [node(), node(), node()];
  const l1 = link(a, b);
  const l2 = link(b, c);
  const runs = [
    startGossip(l1.ab, a.router),
    startGossip(l1.ba, b.router),
    startGossip(l2.ab, b.router),
    startGossip(l2.ba, c.router),
  ];
  const { id } = a.router.publish(bytes('travels'));
  await eventually(() => c.received.length === 1, 'C receives');
  assert.deepEqual(messageId(c.received[0] as Uint8Array), id);
  await sleep(50);
  assert.equal(runs[0]?.session.receivedDeliveries, 0, 'A was never sent its own message');
  assert.equal((await a.counts()).duplicate, 0);
  for (const run of runs) run.stop();
  await Promise.all(runs.map((r) => r.done));
});

/** A mux side whose far end is driven by hand: `raw` is the other duplex end. */
function rawLink(a: TestNode, highWaterMark?: number) {
  const [left, right] = duplexPair();
  const connection = attach(left, false, a.router, highWaterMark);
  return { connection, raw: right };
}

/**
 * Frames of one Gossip message on the raw side's own instance (the raw side is the dialer), or
 * with `flags` 0 on the instance the node opened (its server direction).
 */
function rawMessage(message: Gossip, flags: number = FrameFlags.clientIsDialer): Uint8Array {
  const body = encodeDelimited(GossipSchema, message);
  const parts: Uint8Array[] = [];
  for (let offset = 0; offset < body.length; offset += 65536) {
    const chunk = body.subarray(offset, offset + 65536);
    parts.push(encodeFrameHeader(Protocol.gossip, flags, chunk.length), chunk);
  }
  return Buffer.concat(parts);
}

/** Collects the Gossip messages the node writes on its own instance, as the raw side reads them. */
function rawReader(raw: Duplex): Gossip[] {
  const frames = new FrameDecoder(65536);
  const messages = new DelimitedReader(GossipSchema, 2 * MiB);
  const out: Gossip[] = [];
  raw.on('data', (chunk: Uint8Array) => {
    const decoded = frames.push(chunk);
    if (!decoded.ok) throw decoded.error;
    for (const f of decoded.value) {
      if ((f.flags & FrameFlags.clientIsDialer) !== 0 || f.payload.length === 0) continue;
      const parsed = messages.push(f.payload);
      if (!parsed.ok) throw parsed.error;
      out.push(...parsed.value);
    }
  });
  return out;
}

const announce = (ids: Uint8Array[]) =>
  create(GossipSchema, { message: { case: 'announce', value: { ids } } });
const request = (ids: Uint8Array[]) =>
  create(GossipSchema, { message: { case: 'request', value: { ids } } });

const deliver = (id: Uint8Array, payload: Uint8Array) =>
  create(GossipSchema, { message: { case: 'deliver', value: { id, payload } } });

test('a deliver whose id is not the SHA-256 of its payload closes with protocol_violation', async () => {
  const a = node();
  const { connection, raw } = rawLink(a);
  raw.resume();
  raw.write(rawMessage(deliver(new Uint8Array(32), bytes('payload'))));
  const error = await connection.mux.closed;
  assert.equal(error?.code, 'protocol_violation');
  assert.equal(a.received.length, 0);
});

test('an announce of more than maxIdsPerMessage ids closes with protocol_violation', async () => {
  const a = node({ maxIdsPerMessage: 4 });
  const { connection, raw } = rawLink(a);
  raw.resume();
  const ids = Array.from({ length: 5 }, (_, i) => messageId(new Uint8Array([i])));
  raw.write(rawMessage(announce(ids)));
  assert.equal((await connection.mux.closed)?.code, 'protocol_violation');
});

const violations: Array<[string, (a: TestNode) => Uint8Array]> = [
  [
    'a deliver over maxMessageBytes, even with the right id',
    () => {
      const payload = new Uint8Array(config.maxMessageBytes + 1);
      return rawMessage(deliver(messageId(payload), payload));
    },
  ],
  ['an announce whose id is not 32 bytes', () => rawMessage(announce([new Uint8Array(31)]))],
  ['a request whose id is not 32 bytes', () => rawMessage(request([new Uint8Array(33)]))],
  ['an empty gossip message', () => rawMessage(create(GossipSchema))],
  [
    'a message on the server side of the instance the node opened',
    () => rawMessage(announce([]), 0),
  ],
];

for (const [what, bytesOf] of violations) {
  test(`${what} closes the connection with protocol_violation`, async () => {
    const a = node();
    const { connection, raw } = rawLink(a);
    const run = startGossip(connection, a.router); // opens the node's instance
    raw.resume();
    await sleep(5);
    raw.write(bytesOf(a));
    assert.equal((await connection.mux.closed)?.code, 'protocol_violation');
    await assert.rejects(run.done, { code: 'protocol_violation' });
    assert.equal(a.received.length, 0);
  });
}

test('a request is answered with one deliver per id held; unknown and repeated ids are ignored', async () => {
  const a = node();
  const { connection, raw } = rawLink(a);
  const written = rawReader(raw);
  const held = [a.router.publish(bytes('one')).id, a.router.publish(bytes('two')).id];
  const unknown = messageId(bytes('never published'));
  raw.write(rawMessage(request([held[0] as Uint8Array, unknown, held[1] as Uint8Array])));
  raw.write(rawMessage(request([held[0] as Uint8Array])));
  await eventually(() => written.filter((m) => m.message.case === 'deliver').length === 2, 'two');
  await sleep(20);
  const delivered = written.flatMap((m) => (m.message.case === 'deliver' ? [m.message.value] : []));
  assert.deepEqual(
    delivered.map((d) => d.payload),
    [bytes('one'), bytes('two')],
  );
  assert.deepEqual(
    delivered.map((d) => d.id),
    held,
  );
  assert.equal(connection.mux.isClosed, false);
});

test('an announce of unseen ids is answered with one request for them; seen ids are not asked', async () => {
  const a = node();
  const { raw } = rawLink(a);
  const written = rawReader(raw);
  const seen = a.router.publish(bytes('already here')).id;
  const fresh = [messageId(bytes('x')), messageId(bytes('y'))];
  raw.write(rawMessage(announce([fresh[0] as Uint8Array, seen, fresh[1] as Uint8Array])));
  raw.write(rawMessage(announce([fresh[0] as Uint8Array]))); // announced again: not asked again
  await eventually(() => written.some((m) => m.message.case === 'request'), 'a request');
  await sleep(20);
  const requested = written.flatMap((m) =>
    m.message.case === 'request' ? m.message.value.ids : [],
  );
  assert.deepEqual(requested, fresh);
  // The answer is checked, delivered to the application and not announced back to the sender.
  raw.write(rawMessage(deliver(fresh[0] as Uint8Array, bytes('x'))));
  await eventually(() => a.received.length === 1, 'delivery');
  assert.equal((await a.counts()).delivered, 1);
  await sleep(20);
  const announcedBack = written.flatMap((m) =>
    m.message.case === 'announce' ? m.message.value.ids : [],
  );
  assert.deepEqual(announcedBack, [], 'a delivered message is not announced back to its sender');
});

test('a remote that never reads: the announce queue stays at its bound and the excess is dropped', async () => {
  const a = node({ maxPendingAnnounceIds: 100 });
  const { connection } = rawLink(a, 4096); // the raw end is never read
  const run = startGossip(connection, a.router);
  const total = 20_000;
  for (let i = 0; i < total; i++) {
    a.router.publish(bytes(`m${i}`));
    if (i % 100 === 0) await sleep(0); // let the writer run into backpressure
  }
  await sleep(20);
  const { session } = run;
  assert.equal(session.pendingAnnounceIds, 100, 'the queue is full, not over');
  const written = session.announcedIds;
  assert.ok(written < total / 2, `${written} written before the socket stopped taking bytes`);
  for (let i = 0; i < 1000; i++) a.router.publish(bytes(`more${i}`));
  await sleep(20);
  assert.equal(
    session.announcedIds,
    written,
    'nothing more is written while the peer reads nothing',
  );
  assert.equal(session.pendingAnnounceIds, 100);
  const dropped = (await a.counts()).dropped;
  assert.equal(dropped + session.pendingAnnounceIds + session.announcedIds, total + 1000);
  connection.mux.close();
  await assert.rejects(run.done);
  assert.equal(
    (await a.counts()).dropped + session.announcedIds,
    total + 1000,
    'every announce never written is counted as dropped',
  );
});
