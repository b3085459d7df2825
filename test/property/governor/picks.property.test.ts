import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  churnCount,
  churnMinAgeMs,
  type GovernorInput,
  type GovernorPeer,
  pickChurn,
  pickDemotions,
  pickPromotions,
  promotionBackoffMs,
} from '../../../src/governor/index.ts';
import { seededRng } from '../../../src/rng.ts';

const runs = { numRuns: Number(process.env.PROPERTY_RUNS ?? 300) };
const now = 1_700_000_000_000;
const minute = 60_000;

const maybeAround = fc.option(fc.integer({ min: now - minute, max: now + minute }), {
  nil: undefined,
});

const peerArb = (i: number): fc.Arbitrary<GovernorPeer> =>
  fc
    .record({
      status: fc.constantFrom('warm' as const, 'hot' as const),
      // Few distinct RTTs, so ties (the random tie-break) are common.
      rttSeconds: fc.option(fc.constantFrom(0.01, 0.05, 0.1, 0.5), { nil: undefined }),
      trusted: fc.boolean(),
      establishedAt: fc.integer({ min: now - 30 * minute, max: now }),
      repromoteAt: maybeAround,
      promotionBackoffUntil: maybeAround,
    })
    .map((r) => {
      const peer: { -readonly [K in keyof GovernorPeer]: GovernorPeer[K] } = {
        peerId: `peer${i}`,
        status: r.status,
        trusted: r.trusted,
        establishedAt: r.establishedAt,
      };
      if (r.rttSeconds !== undefined) peer.rttSeconds = r.rttSeconds;
      if (r.repromoteAt !== undefined) peer.repromoteAt = r.repromoteAt;
      if (r.promotionBackoffUntil !== undefined)
        peer.promotionBackoffUntil = r.promotionBackoffUntil;
      return peer;
    });

const inputArb: fc.Arbitrary<{ input: Omit<GovernorInput, 'rng'>; seed: number }> = fc
  .record({
    n: fc.nat({ max: 30 }),
    hotTarget: fc.nat({ max: 20 }),
    seed: fc.integer(),
  })
  .chain(({ n, hotTarget, seed }) =>
    fc.tuple(...Array.from({ length: n }, (_, i) => peerArb(i))).map((peers) => ({
      input: { peers, hotTarget, now },
      seed,
    })),
  );

const withRng = (input: Omit<GovernorInput, 'rng'>, seed: number): GovernorInput => ({
  ...input,
  rng: seededRng(seed),
});

test('promotions: never a peer in backoff or repromote delay, never beyond the target', () => {
  fc.assert(
    fc.property(inputArb, ({ input, seed }) => {
      const promotions = pickPromotions(withRng(input, seed));
      const byId = new Map(input.peers.map((p) => [p.peerId, p]));
      const hot = input.peers.filter((p) => p.status === 'hot').length;
      assert.ok(hot + promotions.length <= Math.max(input.hotTarget, hot));
      assert.equal(new Set(promotions.map((d) => d.peerId)).size, promotions.length);
      for (const d of promotions) {
        const p = byId.get(d.peerId);
        assert.ok(p !== undefined && p.status === 'warm');
        assert.ok(!(p.repromoteAt !== undefined && now < p.repromoteAt), 'in repromote delay');
        assert.ok(
          !(p.promotionBackoffUntil !== undefined && now < p.promotionBackoffUntil),
          'in promotion backoff',
        );
      }
      // As many as the target lacks, unless ready peers run out.
      const ready = input.peers.filter(
        (p) =>
          p.status === 'warm' &&
          !(p.repromoteAt !== undefined && now < p.repromoteAt) &&
          !(p.promotionBackoffUntil !== undefined && now < p.promotionBackoffUntil),
      ).length;
      assert.equal(promotions.length, Math.min(Math.max(0, input.hotTarget - hot), ready));
    }),
    runs,
  );
});

test('promotions: best RTT first, unknown last', () => {
  fc.assert(
    fc.property(inputArb, ({ input, seed }) => {
      const rtts = pickPromotions(withRng(input, seed)).map((d) => d.rttSeconds ?? Infinity);
      for (let i = 1; i < rtts.length; i++) assert.ok((rtts[i - 1] ?? 0) <= (rtts[i] ?? 0));
    }),
    runs,
  );
});

test('demotions: never trusted, down to the target when possible, worst RTT first', () => {
  fc.assert(
    fc.property(inputArb, ({ input, seed }) => {
      const demotions = pickDemotions(withRng(input, seed));
      const byId = new Map(input.peers.map((p) => [p.peerId, p]));
      const hot = input.peers.filter((p) => p.status === 'hot');
      const demotable = hot.filter((p) => !p.trusted).length;
      assert.equal(
        demotions.length,
        Math.min(Math.max(0, hot.length - input.hotTarget), demotable),
      );
      for (const d of demotions) {
        const p = byId.get(d.peerId);
        assert.ok(p !== undefined && p.status === 'hot' && !p.trusted);
      }
      const rtts = demotions.map((d) => d.rttSeconds ?? Infinity);
      for (let i = 1; i < rtts.length; i++) assert.ok((rtts[i - 1] ?? 0) >= (rtts[i] ?? 0));
    }),
    runs,
  );
});

test('churn: never a young or trusted peer; 20 % (at least one) at most', () => {
  fc.assert(
    fc.property(inputArb, ({ input, seed }) => {
      const { demotions, closes } = pickChurn(withRng(input, seed));
      const byId = new Map(input.peers.map((p) => [p.peerId, p]));
      for (const d of [...demotions, ...closes]) {
        const p = byId.get(d.peerId);
        assert.ok(p !== undefined && !p.trusted, 'trusted');
        assert.ok(now - p.establishedAt >= churnMinAgeMs, 'young');
      }
      assert.ok(demotions.every((d) => byId.get(d.peerId)?.status === 'hot'));
      assert.ok(closes.every((d) => byId.get(d.peerId)?.status === 'warm'));
      const hot = input.peers.filter((p) => p.status === 'hot').length;
      const warm = input.peers.filter((p) => p.status === 'warm' && !p.trusted).length;
      assert.ok(demotions.length <= churnCount(hot));
      assert.ok(closes.length <= churnCount(warm));
    }),
    runs,
  );
});

test('every pick is deterministic for a given seed', () => {
  fc.assert(
    fc.property(inputArb, ({ input, seed }) => {
      assert.deepEqual(pickPromotions(withRng(input, seed)), pickPromotions(withRng(input, seed)));
      assert.deepEqual(pickDemotions(withRng(input, seed)), pickDemotions(withRng(input, seed)));
      assert.deepEqual(pickChurn(withRng(input, seed)), pickChurn(withRng(input, seed)));
    }),
    runs,
  );
});

test('promotion backoff stays within 5 s · 2^min(n−1, 5) ± 2 s for any failure count', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1_000 }), fc.integer(), (n, seed) => {
      const d = promotionBackoffMs(n, seededRng(seed));
      const base = 5_000 * 2 ** Math.min(n - 1, 5);
      assert.ok(d >= base - 2_000 && d <= base + 2_000);
    }),
    runs,
  );
});
