import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  churnCount,
  churnDelayMs,
  type GovernorInput,
  type GovernorPeer,
  nextPromotionAt,
  pickChurn,
  pickDemotions,
  pickPromotions,
  promotionBackoffMs,
  repromoteDelayMs,
} from '../../../src/governor/index.ts';
import { type Rng, seededRng } from '../../../src/rng.ts';

const second = 1_000;
const minute = 60 * second;
const now = 1_700_000_000_000;

function constantRng(u: number): Rng {
  return { next: () => u };
}

function peer(peerId: string, over: Partial<GovernorPeer> = {}): GovernorPeer {
  return { peerId, status: 'warm', trusted: false, establishedAt: now - 60 * minute, ...over };
}

function input(peers: GovernorPeer[], hotTarget: number, seed = 1): GovernorInput {
  return { peers, hotTarget, now, rng: seededRng(seed) };
}

function hot(n: number, over: Partial<GovernorPeer> = {}): GovernorPeer[] {
  return Array.from({ length: n }, (_, i) => peer(`h${i}`, { status: 'hot', ...over }));
}

const ids = (decisions: readonly { peerId: string }[]) => decisions.map((d) => d.peerId);

test('promotions: below target, best smoothed RTT first', () => {
  const peers = [
    peer('slow', { rttSeconds: 0.3 }),
    peer('fast', { rttSeconds: 0.01 }),
    peer('mid', { rttSeconds: 0.1 }),
  ];
  assert.deepEqual(ids(pickPromotions(input(peers, 2))), ['fast', 'mid']);
});

test('promotions: unknown RTT last', () => {
  const peers = [peer('unknown'), peer('slow', { rttSeconds: 2 })];
  assert.deepEqual(ids(pickPromotions(input(peers, 2))), ['slow', 'unknown']);
});

test('promotions: only as many as the target lacks', () => {
  const peers = [...hot(3), ...Array.from({ length: 10 }, (_, i) => peer(`w${i}`))];
  assert.equal(pickPromotions(input(peers, 8)).length, 5);
  assert.deepEqual(pickPromotions(input(hot(8), 8)), []);
  assert.deepEqual(pickPromotions(input([...hot(9), peer('w')], 8)), []);
});

test('promotions: equal RTTs in a seeded random order', () => {
  const peers = Array.from({ length: 10 }, (_, i) => peer(`w${i}`, { rttSeconds: 0.05 }));
  const pick = (seed: number) => ids(pickPromotions(input(peers, 3, seed)));
  assert.deepEqual(pick(4), pick(4));
  assert.ok(new Set([1, 2, 3, 4, 5, 6].map((s) => pick(s).join())).size > 1);
});

test('promotions: skip a peer in its repromote delay', () => {
  const peers = [
    peer('held', { rttSeconds: 0.01, repromoteAt: now + 1 }),
    peer('ok', { rttSeconds: 1 }),
  ];
  assert.deepEqual(ids(pickPromotions(input(peers, 2))), ['ok']);
});

test('promotions: skip a peer in its promotion backoff', () => {
  const peers = [
    peer('held', { rttSeconds: 0.01, promotionBackoffUntil: now + 1 }),
    peer('ok', { rttSeconds: 1 }),
  ];
  assert.deepEqual(ids(pickPromotions(input(peers, 2))), ['ok']);
});

test('promotions: a delay or backoff that has ended no longer holds the peer', () => {
  const peers = [peer('a', { repromoteAt: now }), peer('b', { promotionBackoffUntil: now - 1 })];
  assert.equal(pickPromotions(input(peers, 2)).length, 2);
});

test('promotions carry their reason and RTT', () => {
  assert.deepEqual(pickPromotions(input([peer('a', { rttSeconds: 0.02 })], 1)), [
    { peerId: 'a', action: 'promote', reason: 'below_target', rttSeconds: 0.02 },
  ]);
});

test('demotions: above target, worst RTT first', () => {
  const peers = [
    peer('fast', { status: 'hot', rttSeconds: 0.01 }),
    peer('slow', { status: 'hot', rttSeconds: 0.5 }),
    peer('mid', { status: 'hot', rttSeconds: 0.1 }),
  ];
  assert.deepEqual(pickDemotions(input(peers, 1)), [
    { peerId: 'slow', action: 'demote', reason: 'above_target', rttSeconds: 0.5 },
    { peerId: 'mid', action: 'demote', reason: 'above_target', rttSeconds: 0.1 },
  ]);
});

test('demotions: never a trusted peer', () => {
  const peers = [
    peer('trusted-slow', { status: 'hot', rttSeconds: 9, trusted: true }),
    peer('a', { status: 'hot', rttSeconds: 0.1 }),
    peer('b', { status: 'hot', rttSeconds: 0.2 }),
  ];
  assert.deepEqual(ids(pickDemotions(input(peers, 1))), ['b', 'a']);
  assert.deepEqual(ids(pickDemotions(input(peers, 0))), ['b', 'a']);
});

test('demotions: none at or below target; warm peers are never demoted', () => {
  assert.deepEqual(pickDemotions(input([...hot(8), peer('w')], 8)), []);
  assert.deepEqual(pickDemotions(input(hot(3), 8)), []);
});

test('demotions: an unknown RTT counts as the worst', () => {
  const peers = [
    peer('known', { status: 'hot', rttSeconds: 3 }),
    peer('unknown', { status: 'hot' }),
  ];
  assert.deepEqual(ids(pickDemotions(input(peers, 1))), ['unknown']);
});

test('churn: demotes 20 % of hot peers in a seeded random order, the best RTT included', () => {
  const peers = Array.from({ length: 10 }, (_, i) =>
    peer(`h${i}`, { status: 'hot', rttSeconds: i / 100 }),
  );
  const { demotions } = pickChurn(input(peers, 10));
  assert.equal(demotions.length, 2);
  assert.ok(demotions.every((d) => d.action === 'demote' && d.reason === 'churn'));
  assert.deepEqual(ids(pickChurn(input(peers, 10)).demotions), ids(demotions), 'same seed');
  const picked = new Set<string>();
  for (let seed = 0; seed < 50; seed++) {
    for (const id of ids(pickChurn(input(peers, 10, seed)).demotions)) picked.add(id);
  }
  // Worst RTT first would only ever rotate the last hot slot.
  assert.ok(picked.has('h0'), 'the best peer is churned too');
  assert.ok(picked.size >= 8, `only ${[...picked]} ever churned`);
});

test('promotions: a peer churn demoted comes last until its churnedUntil', () => {
  const peers = [
    peer('churned', { rttSeconds: 0.001, churnedUntil: now + minute }),
    peer('slow', { rttSeconds: 0.3 }),
    peer('mid', { rttSeconds: 0.1 }),
  ];
  assert.deepEqual(ids(pickPromotions(input(peers, 2))), ['mid', 'slow']);
  // Still promoted when nothing else can be: the hot target comes first.
  assert.deepEqual(ids(pickPromotions(input(peers, 3))), ['mid', 'slow', 'churned']);
  // From churnedUntil on it competes by RTT again.
  const later = { ...input(peers, 1), now: now + minute };
  assert.deepEqual(ids(pickPromotions(later)), ['churned']);
});

test('promotions: peers churn demoted are ordered by RTT among themselves', () => {
  const until = now + minute;
  const peers = [
    peer('c-slow', { rttSeconds: 0.2, churnedUntil: until }),
    peer('c-fast', { rttSeconds: 0.01, churnedUntil: until }),
    peer('fresh', { rttSeconds: 0.5 }),
  ];
  assert.deepEqual(ids(pickPromotions(input(peers, 3))), ['fresh', 'c-fast', 'c-slow']);
});

test('promotions: a churn hold does not delay the driver (no wake-up for it)', () => {
  const peers = [peer('c', { churnedUntil: now + minute })];
  assert.equal(nextPromotionAt(peers, now), undefined);
});

test('churn: at least one hot peer and one warm peer', () => {
  const { demotions, closes } = pickChurn(input([...hot(2), peer('w')], 2));
  assert.equal(demotions.length, 1);
  assert.deepEqual(closes, [{ peerId: 'w', action: 'close', reason: 'churn' }]);
});

test('churn: closes 20 % of the non-trusted warm peers', () => {
  const warm = Array.from({ length: 10 }, (_, i) => peer(`w${i}`));
  const trusted = Array.from({ length: 10 }, (_, i) => peer(`t${i}`, { trusted: true }));
  const { closes } = pickChurn(input([...warm, ...trusted], 0));
  assert.equal(closes.length, 2);
  assert.ok(closes.every((c) => c.peerId.startsWith('w') && c.action === 'close'));
});

test('churn: never touches a peer connected for less than 10 min, nor a trusted one', () => {
  const young = now - 10 * minute + 1;
  const peers = [
    peer('young-hot', { status: 'hot', rttSeconds: 9, establishedAt: young }),
    peer('trusted-hot', { status: 'hot', rttSeconds: 8, trusted: true }),
    peer('old-hot', { status: 'hot', rttSeconds: 0.01 }),
    peer('young-warm', { establishedAt: young }),
    peer('trusted-warm', { trusted: true }),
    peer('old-warm', { establishedAt: now - 10 * minute }),
  ];
  for (let seed = 0; seed < 20; seed++) {
    const { demotions, closes } = pickChurn(input(peers, 3, seed));
    assert.deepEqual(ids(demotions), ['old-hot']);
    assert.deepEqual(ids(closes), ['old-warm']);
  }
});

test('churn: nothing when every peer is young or trusted', () => {
  const young = now - minute;
  const peers = [
    peer('a', { status: 'hot', establishedAt: young }),
    peer('b', { establishedAt: young }),
    peer('c', { trusted: true }),
  ];
  assert.deepEqual(pickChurn(input(peers, 1)), { demotions: [], closes: [] });
});

test('churnCount: 20 %, at least one when there is one', () => {
  assert.deepEqual([0, 1, 4, 5, 9, 10, 14, 15, 100].map(churnCount), [0, 1, 1, 1, 1, 2, 2, 3, 20]);
});

test('promotion backoff: 5 s · 2^min(n−1, 5) for n = 1..8 (no fuzz at u = 0.5)', () => {
  const rng = constantRng(0.5);
  const got = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => promotionBackoffMs(n, rng));
  assert.deepEqual(got, [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 160_000, 160_000]);
});

test('promotion backoff: ±2 s fuzz', () => {
  assert.equal(promotionBackoffMs(1, constantRng(0)), 3_000);
  assert.equal(promotionBackoffMs(1, constantRng(0.999999)), 7_000);
  assert.equal(promotionBackoffMs(8, constantRng(0)), 158_000);
  const rng = seededRng(9);
  for (let n = 1; n <= 8; n++) {
    const base = 5_000 * 2 ** Math.min(n - 1, 5);
    for (let i = 0; i < 50; i++) {
      const d = promotionBackoffMs(n, rng);
      assert.ok(d >= base - 2_000 && d <= base + 2_000, `n=${n} d=${d}`);
    }
  }
});

test('promotion backoff: a count below 1 is the first failure', () => {
  assert.equal(promotionBackoffMs(0, constantRng(0.5)), 5_000);
});

test('churn delay: the interval plus up to 60 s; 0 disables churn', () => {
  assert.equal(churnDelayMs(900_000, constantRng(0)), 900_000);
  assert.equal(churnDelayMs(900_000, constantRng(0.5)), 930_000);
  const d = churnDelayMs(900_000, constantRng(0.999999)) ?? 0;
  assert.ok(d >= 959_999 && d <= 960_000);
  assert.equal(churnDelayMs(0, constantRng(0.5)), undefined);
});

test('repromote delay: 10 s ± 2 s', () => {
  assert.equal(repromoteDelayMs(constantRng(0.5)), 10_000);
  assert.equal(repromoteDelayMs(constantRng(0)), 8_000);
  assert.equal(repromoteDelayMs(constantRng(0.999999)), 12_000);
});

test('nextPromotionAt: when the first held warm peer may be promoted', () => {
  const peers = [
    peer('a', { repromoteAt: now + 5 * second }),
    peer('b', { promotionBackoffUntil: now + 3 * second }),
    peer('c', { repromoteAt: now + 2 * second, promotionBackoffUntil: now + 9 * second }),
    peer('free'),
  ];
  assert.equal(nextPromotionAt(peers, now), now + 3 * second);
  assert.equal(nextPromotionAt([peer('free')], now), undefined);
});
