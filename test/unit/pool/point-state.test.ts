import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canTransition, type PointState, pointStates } from '../../../src/pool/index.ts';
import {
  newPointRecord,
  toAccepted,
  toDisconnected,
  toRequested,
  toRunning,
} from '../../../src/pool/point-state.ts';
import { constantRng, minute, peerId, poolConfig } from './helpers.ts';

const reconnect = poolConfig().reconnect;
const announcement = { privateNode: false, peerSharing: true };

// from → to → allowed (Octez' P2p_point_state assertions, plus no requested → requested).
const table: [PointState, PointState, boolean][] = [
  ['disconnected', 'requested', true],
  ['requested', 'requested', false],
  ['accepted', 'requested', false],
  ['running', 'requested', false],
  ['disconnected', 'accepted', true],
  ['requested', 'accepted', true],
  ['accepted', 'accepted', false],
  ['running', 'accepted', false],
  ['disconnected', 'running', true],
  ['requested', 'running', true],
  ['accepted', 'running', true],
  ['running', 'running', false],
  ['requested', 'disconnected', true],
  ['accepted', 'disconnected', true],
  ['running', 'disconnected', true],
  ['disconnected', 'disconnected', false],
];

test('transition table covers every pair of states', () => {
  assert.equal(table.length, pointStates.length ** 2);
  for (const [from, to, allowed] of table) {
    assert.equal(canTransition(from, to), allowed, `${from} → ${to}`);
  }
});

test('an invalid transition is a value, not an exception', () => {
  const r = newPointRecord('10.0.0.1:9740', '10.0.0.1', 9740, 'bootstrap', 0);
  const result = toDisconnected(r, { nowMs: 5, reconnect, rng: constantRng(0.5) });
  assert.deepEqual(result, {
    ok: false,
    error: {
      code: 'invalid_transition',
      point: '10.0.0.1:9740',
      from: 'disconnected',
      to: 'disconnected',
    },
  });
});

test('requested → disconnected is a failure with backoff', () => {
  const r0 = newPointRecord('10.0.0.1:9740', '10.0.0.1', 9740, 'bootstrap', 0);
  const r1 = toRequested(r0, 100);
  assert.ok(r1.ok);
  const r2 = toDisconnected(r1.record, {
    nowMs: 200,
    reason: 'connect_timeout',
    reconnect,
    rng: constantRng(0.5),
  });
  assert.ok(r2.ok);
  assert.equal(r2.record.state, 'disconnected');
  assert.equal(r2.record.consecutiveFailures, 1);
  assert.equal(r2.record.lastFailureAt, 200);
  assert.equal(r2.record.lastFailureReason, 'connect_timeout');
  assert.equal(r2.record.nextDialAt, 1200);
  assert.equal(r1.record.state, 'requested', 'records are immutable');
});

test('accepted → disconnected is a failure too (Octez: rejected request)', () => {
  const r0 = newPointRecord('10.0.0.1:9740', '10.0.0.1', 9740, 'inbound', 0);
  const r1 = toAccepted(r0, 100);
  assert.ok(r1.ok);
  const r2 = toDisconnected(r1.record, { nowMs: 100, reconnect, rng: constantRng(0.5) });
  assert.ok(r2.ok);
  assert.equal(r2.record.consecutiveFailures, 1);
  assert.equal(r2.record.lastFailureReason, 'unknown');
});

test('running → disconnected resets failures and waits 60 s', () => {
  let r = newPointRecord('10.0.0.1:9740', '10.0.0.1', 9740, 'bootstrap', 0);
  r = { ...r, consecutiveFailures: 7, lastFailureAt: 3 };
  const running = toRunning(r, peerId(1), announcement, 1000);
  assert.ok(running.ok);
  assert.equal(running.record.consecutiveFailures, 0);
  assert.equal(running.record.currentPeerId, peerId(1));
  const ended = toDisconnected(running.record, { nowMs: 5000, reconnect, rng: constantRng(0) });
  assert.ok(ended.ok);
  assert.equal(ended.record.nextDialAt, 5000 + minute);
  assert.equal(ended.record.currentPeerId, undefined);
  assert.equal(ended.record.lastPeerId, peerId(1));
  assert.equal(ended.record.lastDisconnectAt, 5000);
  assert.equal(ended.record.lastFailureAt, 3, 'the failure history stays');
});
