import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../../src/clock.ts';
import {
  GossipError,
  type GossipPeer,
  GossipRouter,
  type GossipRouterDeps,
  messageId,
} from '../../../src/protocols/gossip.ts';
import { createMetrics } from '../../../src/telemetry/metrics.ts';

const MiB = 1024 * 1024;
const config = {
  maxMessageBytes: MiB,
  maxIngressBytes: 8 * MiB,
  seenCacheSize: 100_000,
  seenTtlMs: 600_000,
};

/** A peer that records what the router asked it to announce. */
class RecordingPeer implements GossipPeer {
  readonly announced: Uint8Array[] = [];
  announce(id: Uint8Array): void {
    this.announced.push(id);
  }
}

function setup(overrides: Partial<GossipRouterDeps> = {}) {
  const clock = new FakeClock();
  const metrics = createMetrics({ version: 'test', defaultMetrics: false });
  const received: Array<{ payload: Uint8Array; id: Uint8Array }> = [];
  const router = new GossipRouter({
    clock,
    config,
    metrics,
    onMessage: (payload, id) => received.push({ payload, id }),
    ...overrides,
  });
  const counts = async () => {
    const data = await metrics.gossipMessages.get();
    const out: Record<string, number> = { published: 0, delivered: 0, duplicate: 0, dropped: 0 };
    for (const v of data.values) out[String(v.labels.event)] = v.value;
    return out;
  };
  return { clock, router, received, counts };
}

const bytes = (s: string) => new TextEncoder().encode(s);

test('messageId is the SHA-256 of the payload', () => {
  assert.equal(
    Buffer.from(messageId(bytes('abc'))).toString('hex'),
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  );
});

test('publish: announces to every attached peer, once, and counts published', async () => {
  const { router, counts, received } = setup();
  const [a, b] = [new RecordingPeer(), new RecordingPeer()];
  router.attach(a);
  router.attach(b);
  const { id, fresh } = router.publish(bytes('hello'));
  assert.equal(fresh, true);
  assert.deepEqual(id, messageId(bytes('hello')));
  assert.deepEqual(a.announced, [id]);
  assert.deepEqual(b.announced, [id]);
  assert.deepEqual(router.payloadOf(id), bytes('hello'));
  assert.equal(received.length, 0, 'our own publishes are not handed to onMessage');
  assert.equal((await counts()).published, 1);
});

test('publish: the same payload again within the TTL announces nothing', async () => {
  const { router, counts } = setup();
  const peer = new RecordingPeer();
  router.attach(peer);
  router.publish(bytes('x'));
  assert.equal(router.publish(bytes('x')).fresh, false);
  assert.equal(peer.announced.length, 1);
  assert.equal((await counts()).published, 1);
});

test('publish: over maxMessageBytes → GossipError message_too_large, nothing sent or stored', async () => {
  const { router, counts } = setup({ config: { ...config, maxMessageBytes: 16 } });
  const peer = new RecordingPeer();
  router.attach(peer);
  const payload = new Uint8Array(17);
  assert.throws(
    () => router.publish(payload),
    (e: unknown) => e instanceof GossipError && e.code === 'message_too_large',
  );
  assert.equal(peer.announced.length, 0);
  assert.equal(router.isSeen(messageId(payload)), false);
  assert.equal(router.payloadOf(messageId(payload)), undefined);
  assert.equal((await counts()).published, 0);
  assert.equal(router.publish(new Uint8Array(16)).fresh, true, 'exactly the limit is allowed');
});

test('publish: the stored payload is a copy, safe from the caller reusing its buffer', () => {
  const { router } = setup();
  const buffer = bytes('original');
  const { id } = router.publish(buffer);
  buffer.fill(0);
  assert.deepEqual(router.payloadOf(id), bytes('original'));
});

test('dedup: the first delivery reaches onMessage and counts delivered, repeats count duplicate', async () => {
  const { router, received, counts } = setup();
  const from = new RecordingPeer();
  const payload = bytes('m1');
  const id = messageId(payload);
  assert.equal(router.accept(from, id, payload), 'delivered');
  assert.equal(router.accept(from, id, payload), 'duplicate');
  assert.equal(router.accept(new RecordingPeer(), id, payload), 'duplicate');
  assert.equal(received.length, 1);
  assert.deepEqual(received[0]?.payload, payload);
  assert.deepEqual(received[0]?.id, id);
  const c = await counts();
  assert.equal(c.delivered, 1);
  assert.equal(c.duplicate, 2);
});

test('dedup: a message we published is a duplicate when it comes back', async () => {
  const { router, received, counts } = setup();
  const { id } = router.publish(bytes('mine'));
  assert.equal(router.accept(new RecordingPeer(), id, bytes('mine')), 'duplicate');
  assert.equal(received.length, 0);
  assert.equal((await counts()).duplicate, 1);
});

test('re-announce: a first delivery goes to every other attached peer, never back to the sender', () => {
  const { router } = setup();
  const [sender, b, c] = [new RecordingPeer(), new RecordingPeer(), new RecordingPeer()];
  for (const peer of [sender, b, c]) router.attach(peer);
  const payload = bytes('m');
  const id = messageId(payload);
  router.accept(sender, id, payload);
  assert.deepEqual(sender.announced, []);
  assert.deepEqual(b.announced, [id]);
  assert.deepEqual(c.announced, [id]);
  router.accept(b, id, payload);
  assert.equal(c.announced.length, 1, 'a duplicate is not announced again');
});

test('detach: a detached peer receives no more announcements', () => {
  const { router } = setup();
  const peer = new RecordingPeer();
  router.attach(peer);
  router.detach(peer);
  router.publish(bytes('after'));
  assert.deepEqual(peer.announced, []);
  assert.equal(router.attachedPeers, 0);
});

test('seen TTL: exactly seenTtlMs after the first sighting a message is new again', async () => {
  const { router, clock, received } = setup();
  const payload = bytes('old news');
  const id = messageId(payload);
  router.accept(new RecordingPeer(), id, payload);
  await clock.advance(config.seenTtlMs - 1);
  assert.equal(router.accept(new RecordingPeer(), id, payload), 'duplicate');
  assert.ok(router.payloadOf(id) !== undefined);
  await clock.advance(1);
  assert.equal(router.payloadOf(id), undefined, 'the store forgets with the seen TTL');
  assert.equal(router.accept(new RecordingPeer(), id, payload), 'delivered');
  assert.equal(received.length, 2);
});

test('store: bounded by bytes, the oldest payloads go first; the seen-cache still remembers them', () => {
  const { router } = setup({ limits: { storeBytes: 3 * (1000 + 128) } });
  const ids = [1, 2, 3, 4].map((n) => router.publish(new Uint8Array(1000).fill(n)).id);
  assert.equal(router.payloadOf(ids[0] as Uint8Array), undefined);
  for (const id of ids.slice(1)) assert.ok(router.payloadOf(id) !== undefined);
  assert.equal(router.isSeen(ids[0] as Uint8Array), true);
});

test('a throwing onMessage is logged and does not stop the re-announce', () => {
  const { router } = setup({
    onMessage: () => {
      throw new Error('application bug');
    },
  });
  const other = new RecordingPeer();
  router.attach(other);
  const payload = bytes('m');
  assert.equal(router.accept(new RecordingPeer(), messageId(payload), payload), 'delivered');
  assert.equal(other.announced.length, 1);
});

test('dropped: counted by the amount reported', async () => {
  const { router, counts } = setup();
  router.dropped(3);
  assert.equal((await counts()).dropped, 3);
});
