import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Clock } from '../../../src/clock.ts';
import { type GossipPeer, GossipRouter, messageId } from '../../../src/protocols/gossip.ts';
import { SeenCache } from '../../../src/protocols/seen-cache.ts';
import { createMetrics } from '../../../src/telemetry/metrics.ts';

/** Runs per property; a few thousand by default, more with PROPERTY_RUNS. */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 3000);

/** A clock the property moves by hand (synchronously; no timers are used by these parts). */
function manualClock(): Clock & { advance(ms: number): void } {
  let now = 1_700_000_000_000;
  return {
    now: () => now,
    advance(ms) {
      now += ms;
    },
    setTimeout() {
      throw new Error('not used');
    },
    sleep() {
      throw new Error('not used');
    },
  };
}

type Op =
  | { kind: 'add'; key: string }
  | { kind: 'has'; key: string }
  | { kind: 'advance'; ms: number };

const key = fc.integer({ min: 0, max: 12 }).map((n) => `k${n}`);
const op = (ttlMs: number): fc.Arbitrary<Op> =>
  fc.oneof(
    key.map((k): Op => ({ kind: 'add', key: k })),
    key.map((k): Op => ({ kind: 'has', key: k })),
    // Steps around the TTL so that exact boundaries come up often.
    fc
      .oneof(fc.integer({ min: 0, max: ttlMs + 1 }), fc.constantFrom(1, ttlMs - 1, ttlMs))
      .map((ms): Op => ({ kind: 'advance', ms })),
  );

/** The specification: a list in first-seen order, expired at age ≥ ttl, oldest evicted first. */
class SeenModel {
  entries: Array<{ key: string; at: number }> = [];
  readonly capacity: number;
  readonly ttlMs: number;
  constructor(capacity: number, ttlMs: number) {
    this.capacity = capacity;
    this.ttlMs = ttlMs;
  }
  expire(now: number): void {
    this.entries = this.entries.filter((e) => now - e.at < this.ttlMs);
  }
  has(k: string, now: number): boolean {
    this.expire(now);
    return this.entries.some((e) => e.key === k);
  }
  add(k: string, now: number): boolean {
    if (this.has(k, now)) return false;
    if (this.entries.length >= this.capacity) this.entries.shift();
    this.entries.push({ key: k, at: now });
    return true;
  }
}

test('seen-cache behaves as the model: bounded, first-seen order, exact TTL', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 2, max: 50 }),
      fc.integer({ min: 2, max: 50 }).chain((ttl) => fc.array(op(ttl), { maxLength: 80 })),
      (capacity, ttlMs, ops) => {
        const clock = manualClock();
        const seen = new SeenCache({ clock, capacity, ttlMs });
        const model = new SeenModel(capacity, ttlMs);
        for (const o of ops) {
          const now = clock.now();
          switch (o.kind) {
            case 'add':
              assert.equal(seen.add(o.key), model.add(o.key, now), `add ${o.key}`);
              break;
            case 'has':
              assert.equal(seen.has(o.key), model.has(o.key, now), `has ${o.key}`);
              break;
            case 'advance':
              clock.advance(o.ms);
              break;
          }
          model.expire(clock.now());
          assert.equal(seen.size, model.entries.length);
          assert.ok(seen.size <= capacity);
        }
      },
    ),
    { numRuns: RUNS },
  );
});

type Step =
  | { kind: 'deliver'; from: number; message: number }
  | { kind: 'publish'; message: number }
  | { kind: 'advance'; ms: number };

const TTL_MS = 1000;
const PEERS = 3;
const payloads = Array.from({ length: 6 }, (_, i) => new TextEncoder().encode(`message ${i}`));

const step: fc.Arbitrary<Step> = fc.oneof(
  fc
    .record({ from: fc.nat({ max: PEERS - 1 }), message: fc.nat({ max: payloads.length - 1 }) })
    .map((s): Step => ({ kind: 'deliver', ...s })),
  fc.nat({ max: payloads.length - 1 }).map((message): Step => ({ kind: 'publish', message })),
  fc
    .oneof(fc.integer({ min: 0, max: 2 * TTL_MS }), fc.constantFrom(TTL_MS - 1, TTL_MS))
    .map((ms): Step => ({ kind: 'advance', ms })),
);

class Recording implements GossipPeer {
  readonly announced: string[] = [];
  announce(id: Uint8Array): void {
    this.announced.push(Buffer.from(id).toString('hex'));
  }
}

test('router dedup: each message reaches the application once per TTL; announcements never go back to the sender', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
      const clock = manualClock();
      const metrics = createMetrics({ version: 'test', defaultMetrics: false });
      const handed: string[] = [];
      const router = new GossipRouter({
        clock,
        config: {
          maxMessageBytes: 1024,
          maxIngressBytes: 8192,
          seenCacheSize: 1000,
          seenTtlMs: TTL_MS,
        },
        metrics,
        onMessage: (_payload, id) => handed.push(Buffer.from(id).toString('hex')),
      });
      const peers = Array.from({ length: PEERS }, () => new Recording());
      for (const peer of peers) router.attach(peer);
      const model = new SeenModel(1000, TTL_MS);
      const expected = { delivered: 0, duplicate: 0, published: 0 };
      const expectedHanded: string[] = [];
      const expectedAnnounced: string[][] = peers.map(() => []);
      for (const s of steps) {
        if (s.kind === 'advance') {
          clock.advance(s.ms);
          continue;
        }
        const payload = payloads[s.message] as Uint8Array;
        const id = messageId(payload);
        const hex = Buffer.from(id).toString('hex');
        const fresh = model.add(hex, clock.now());
        if (s.kind === 'publish') {
          assert.equal(router.publish(payload).fresh, fresh);
          if (fresh) {
            expected.published += 1;
            for (const list of expectedAnnounced) list.push(hex);
          }
          continue;
        }
        const result = router.accept(peers[s.from] as GossipPeer, id, payload);
        assert.equal(result, fresh ? 'delivered' : 'duplicate');
        if (!fresh) {
          expected.duplicate += 1;
          continue;
        }
        expected.delivered += 1;
        expectedHanded.push(hex);
        expectedAnnounced.forEach((list, i) => {
          if (i !== s.from) list.push(hex);
        });
      }
      assert.deepEqual(handed, expectedHanded);
      for (const [i, peer] of peers.entries()) {
        assert.deepEqual(peer.announced, expectedAnnounced[i]);
      }
      const counted: Record<string, number> = {};
      for (const v of (await metrics.gossipMessages.get()).values) {
        counted[String(v.labels.event)] = v.value;
      }
      assert.equal(counted.delivered ?? 0, expected.delivered);
      assert.equal(counted.duplicate ?? 0, expected.duplicate);
      assert.equal(counted.published ?? 0, expected.published);
    }),
    { numRuns: RUNS },
  );
});
