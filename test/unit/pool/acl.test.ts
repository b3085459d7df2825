import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../../src/clock.ts';
import { Acl } from '../../../src/pool/index.ts';
import { day, hour, minute, peerId } from './helpers.ts';

function makeAcl(limits = {}) {
  const clock = new FakeClock();
  let changes = 0;
  const acl = new Acl({ clock, greylistTimeoutMs: day, limits, onChange: () => changes++ });
  return { acl, clock, changes: () => changes };
}

test('IP greylist: blocked before expiry, free after, exact boundary', async () => {
  const { acl, clock } = makeAcl();
  const t0 = clock.now();
  assert.ok(acl.greylistIp('10.0.0.1'));
  assert.deepEqual(acl.isBlocked({ ip: '10.0.0.1' }), {
    reason: 'greylisted',
    by: 'ip',
    untilMs: t0 + day,
  });
  assert.deepEqual(acl.isBlocked({ point: '10.0.0.1:9740' })?.reason, 'greylisted');
  await clock.advance(day - 1);
  assert.equal(acl.isBlocked({ ip: '10.0.0.1' })?.reason, 'greylisted', '1 ms before expiry');
  await clock.advance(1);
  assert.equal(acl.isBlocked({ ip: '10.0.0.1' }), undefined, 'free at expiry');
  assert.deepEqual(acl.greylistedIps(), []);
});

test('peer greylist: blocked before expiry, free after, exact boundary', async () => {
  const { acl, clock } = makeAcl();
  acl.greylistPeer(peerId(1));
  await clock.advance(day - 1);
  assert.equal(acl.isBlocked({ peerId: peerId(1) })?.by, 'peer_id');
  await clock.advance(1);
  assert.equal(acl.isBlocked({ peerId: peerId(1) }), undefined);
});

test('greylisting again extends the expiry', async () => {
  const { acl, clock } = makeAcl();
  acl.greylistIp('10.0.0.1');
  await clock.advance(hour);
  acl.greylistIp('10.0.0.1');
  await clock.advance(day - 1);
  assert.equal(acl.isBlocked({ ip: '10.0.0.1' })?.reason, 'greylisted');
  await clock.advance(1);
  assert.equal(acl.isBlocked({ ip: '10.0.0.1' }), undefined);
});

test('greylists are bounded: the soonest-expiring entry is evicted first', async () => {
  const { acl, clock } = makeAcl({ greylistMaxEntries: 3 });
  for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) {
    acl.greylistIp(ip);
    await clock.advance(minute);
  }
  acl.greylistIp('10.0.0.1'); // refreshed: now expires last
  acl.greylistIp('10.0.0.4');
  assert.deepEqual(
    acl
      .greylistedIps()
      .map((g) => g.value)
      .sort(),
    ['10.0.0.1', '10.0.0.3', '10.0.0.4'],
  );
});

test('each greylist is cleared on its own', () => {
  const { acl } = makeAcl();
  acl.greylistIp('10.0.0.1');
  acl.greylistPeer(peerId(1));
  acl.clearIpGreylist();
  assert.equal(acl.isBlocked({ ip: '10.0.0.1' }), undefined);
  assert.equal(acl.isBlocked({ peerId: peerId(1) })?.reason, 'greylisted');
  acl.greylistIp('10.0.0.1');
  acl.clearPeerGreylist();
  assert.equal(acl.isBlocked({ peerId: peerId(1) }), undefined);
  assert.equal(acl.isBlocked({ ip: '10.0.0.1' })?.reason, 'greylisted');
});

test('IP forms match: IPv4-mapped IPv6 and IPv6 spellings are the same IP', () => {
  const { acl } = makeAcl();
  acl.greylistIp('::ffff:10.0.0.1');
  assert.equal(acl.isBlocked({ ip: '10.0.0.1' })?.reason, 'greylisted');
  acl.greylistIp('2001:DB8:0:0::1');
  assert.equal(acl.isBlocked({ point: '[2001:db8::1]:9740' })?.reason, 'greylisted');
});

test('ban without duration is permanent', async () => {
  const { acl, clock } = makeAcl();
  assert.ok(acl.ban({ kind: 'peer', peerId: peerId(1) }).ok);
  await clock.advance(365 * day);
  assert.deepEqual(acl.isBlocked({ peerId: peerId(1) }), { reason: 'banned', by: 'peer_id' });
});

test('ban with a duration ends exactly at its end', async () => {
  const { acl, clock } = makeAcl();
  const t0 = clock.now();
  acl.ban({ kind: 'point', point: '10.0.0.1:9740' }, hour);
  assert.deepEqual(acl.isBlocked({ point: '10.0.0.1:9740' }), {
    reason: 'banned',
    by: 'point',
    untilMs: t0 + hour,
  });
  assert.equal(
    acl.isBlocked({ point: '10.0.0.1:9741' }),
    undefined,
    'another port of that IP is free',
  );
  await clock.advance(hour - 1);
  assert.equal(acl.isBlocked({ point: '10.0.0.1:9740' })?.reason, 'banned');
  await clock.advance(1);
  assert.equal(acl.isBlocked({ point: '10.0.0.1:9740' }), undefined);
  assert.deepEqual(acl.bans(), []);
});

test('ban by IP covers every point on it', () => {
  const { acl } = makeAcl();
  acl.ban({ kind: 'ip', ip: '10.0.0.1' });
  assert.deepEqual(acl.isBlocked({ point: '10.0.0.1:1' }), { reason: 'banned', by: 'ip' });
  assert.deepEqual(acl.isBlocked({ ip: '10.0.0.1' }), { reason: 'banned', by: 'ip' });
});

test('unban lifts a ban; unbanning nothing says so', () => {
  const { acl } = makeAcl();
  acl.ban({ kind: 'peer', peerId: peerId(1) });
  assert.equal(acl.unban({ kind: 'peer', peerId: peerId(1) }), true);
  assert.equal(acl.isBlocked({ peerId: peerId(1) }), undefined);
  assert.equal(acl.unban({ kind: 'peer', peerId: peerId(1) }), false);
});

test('a ban with a bad duration or target is refused', () => {
  const { acl } = makeAcl();
  for (const d of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.deepEqual(acl.ban({ kind: 'peer', peerId: peerId(1) }, d), {
      ok: false,
      code: 'invalid_duration',
    });
  }
  assert.deepEqual(acl.ban({ kind: 'point', point: 'nonsense' }), {
    ok: false,
    code: 'invalid_target',
  });
  assert.deepEqual(acl.ban({ kind: 'ip', ip: 'not an ip' }), { ok: false, code: 'invalid_target' });
});

test('bans are bounded', () => {
  const { acl } = makeAcl({ banMaxEntries: 2 });
  assert.ok(acl.ban({ kind: 'ip', ip: '10.0.0.1' }).ok);
  assert.ok(acl.ban({ kind: 'ip', ip: '10.0.0.2' }).ok);
  assert.deepEqual(acl.ban({ kind: 'ip', ip: '10.0.0.3' }), { ok: false, code: 'too_many_bans' });
  assert.ok(acl.ban({ kind: 'ip', ip: '10.0.0.2' }, hour).ok, 'replacing a ban needs no room');
});

test('a trusted peer is never greylisted', () => {
  const { acl } = makeAcl();
  acl.trustPeer(peerId(1));
  assert.equal(acl.greylistPeer(peerId(1)), false);
  assert.equal(acl.isBlocked({ peerId: peerId(1) }), undefined);
});

test("a trusted point's IP is never greylisted", () => {
  const { acl } = makeAcl();
  acl.trustPoint('10.0.0.1:9740');
  assert.equal(acl.greylistIp('10.0.0.1'), false);
  assert.equal(acl.isBlocked({ point: '10.0.0.1:9740' }), undefined);
  assert.equal(acl.isBlocked({ ip: '10.0.0.1' }), undefined);
});

test('trusting lifts an existing greylist entry; untrusting does not bring it back', () => {
  const { acl } = makeAcl();
  acl.greylistIp('10.0.0.1');
  acl.greylistPeer(peerId(1));
  acl.trustPoint('10.0.0.1:9740');
  acl.trustPeer(peerId(1));
  assert.equal(acl.isBlocked({ point: '10.0.0.1:9740', peerId: peerId(1) }), undefined);
  acl.untrustPoint('10.0.0.1:9740');
  acl.untrustPeer(peerId(1));
  assert.equal(acl.isBlocked({ point: '10.0.0.1:9740', peerId: peerId(1) }), undefined);
  assert.equal(acl.greylistIp('10.0.0.1'), true, 'greylistable again once untrusted');
});

test('the last operator action wins between trust and ban', () => {
  const { acl } = makeAcl();
  acl.ban({ kind: 'peer', peerId: peerId(1) });
  acl.trustPeer(peerId(1));
  assert.equal(acl.isBlocked({ peerId: peerId(1) }), undefined, 'trust lifts the ban');
  acl.ban({ kind: 'peer', peerId: peerId(1) });
  assert.equal(acl.isTrustedPeer(peerId(1)), false, 'ban lifts the trust');
  assert.equal(acl.isBlocked({ peerId: peerId(1) })?.reason, 'banned');
});

test('a ban applies even to a trusted IP (bans are explicit)', () => {
  const { acl } = makeAcl();
  acl.trustPoint('10.0.0.1:9740');
  acl.ban({ kind: 'ip', ip: '10.0.0.1' });
  assert.equal(acl.isBlocked({ point: '10.0.0.1:9740' })?.reason, 'banned');
});

test('every change is announced', () => {
  const { acl, changes } = makeAcl();
  acl.greylistIp('10.0.0.1');
  acl.ban({ kind: 'ip', ip: '10.0.0.2' });
  acl.unban({ kind: 'ip', ip: '10.0.0.2' });
  acl.trustPeer(peerId(3));
  assert.equal(changes(), 4);
});

test('export and restore round-trip; expired entries are not restored', async () => {
  const { acl, clock } = makeAcl();
  acl.greylistIp('10.0.0.1');
  acl.greylistPeer(peerId(1));
  acl.ban({ kind: 'ip', ip: '10.0.0.9' });
  acl.ban({ kind: 'peer', peerId: peerId(2) }, hour);
  acl.trustPoint('10.0.0.5:9740');
  acl.trustPeer(peerId(5));
  const state = acl.exportState();

  const copy = new Acl({ clock, greylistTimeoutMs: day });
  assert.equal(copy.restoreState(state), 0);
  assert.deepEqual(copy.exportState(), state);

  await clock.advance(2 * hour);
  const later = new Acl({ clock, greylistTimeoutMs: day });
  assert.equal(later.restoreState(state), 1, 'the 1 h ban expired');
  assert.equal(later.bans().length, 1);
});
