import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { AdminError } from '../../../src/admin/errors.ts';
import type { NodeTargets } from '../../../src/admin/events.ts';
import type { SetBoundsRequest } from '../../../src/admin/messages.ts';
import {
  banTargetOf,
  boundsOf,
  peerIdOf,
  pointOf,
  targetsOf,
  trustTargetOf,
} from '../../../src/admin/validate.ts';

const targets: NodeTargets = {
  hotTarget: 8,
  maxKnownPoints: { high: 400, low: 300 },
  maxKnownPeerIds: { high: 400, low: 300 },
};
const peerId = `mk${'a'.repeat(52)}`;

/** The field violations an AdminError carries, as [field, reason] pairs. */
function violations(fn: () => unknown): Array<[string, string | undefined]> {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof AdminError, String(error));
    assert.equal(error.code, status.INVALID_ARGUMENT);
    return error.details.flatMap((d) =>
      d.type === 'bad_request'
        ? d.fieldViolations.map((v): [string, string | undefined] => [v.field, v.reason])
        : [],
    );
  }
  assert.fail('accepted');
}

const boundCases: Array<[string, SetBoundsRequest, Array<[string, string]>]> = [
  ['min > expected', { min: 5, expected: 3, max: 9 }, [['min', 'MIN_ABOVE_EXPECTED']]],
  ['expected > max', { min: 1, expected: 7, max: 6 }, [['expected', 'EXPECTED_ABOVE_MAX']]],
  ['a negative min', { min: -1, expected: 3, max: 4 }, [['min', 'NEGATIVE']]],
  ['a negative max', { min: 1, expected: 3, max: -4 }, [['max', 'NEGATIVE']]],
  ['a non-integer expected', { min: 1, expected: 2.5, max: 4 }, [['expected', 'NOT_AN_INTEGER']]],
  ['min 0', { min: 0, expected: 3, max: 4 }, [['min', 'MIN_BELOW_ONE']]],
  ['a missing max', { min: 1, expected: 3 }, [['max', 'REQUIRED']]],
  [
    'max above the known-points cap',
    { min: 1, expected: 3, max: 301 },
    [
      ['max', 'MAX_ABOVE_KNOWN_POINTS'],
      ['max', 'MAX_ABOVE_KNOWN_PEER_IDS'],
    ],
  ],
];
for (const [name, req, expected] of boundCases) {
  test(`SetBounds validation: ${name}`, () => {
    assert.deepEqual(
      violations(() => boundsOf(req, targets)),
      expected,
    );
  });
}

test('SetBounds validation: the caps in force count, not the configured ones', () => {
  const small = { ...targets, maxKnownPoints: { high: 20, low: 10 } };
  assert.deepEqual(
    violations(() => boundsOf({ min: 1, expected: 5, max: 11 }, small)),
    [['max', 'MAX_ABOVE_KNOWN_POINTS']],
  );
  assert.deepEqual(boundsOf({ min: 1, expected: 5, max: 10 }, small), {
    min: 1,
    expected: 5,
    max: 10,
  });
});

test('SetTargets validation: hot target range, watermarks ordered and above the max bound', () => {
  const bounds = { min: 2, expected: 4, max: 50 };
  assert.deepEqual(targetsOf({ hot_target: 3 }, bounds), { hotTarget: 3 });
  assert.deepEqual(targetsOf({ max_known_points: { high: 90, low: 60 } }, bounds), {
    maxKnownPoints: { high: 90, low: 60 },
  });
  assert.deepEqual(
    violations(() => targetsOf({ hot_target: -1 }, bounds)),
    [['hot_target', 'OUT_OF_RANGE']],
  );
  assert.deepEqual(
    violations(() => targetsOf({ max_known_points: { high: 60, low: 60 } }, bounds)),
    [['max_known_points.high', 'HIGH_NOT_ABOVE_LOW']],
  );
  assert.deepEqual(
    violations(() => targetsOf({ max_known_peer_ids: { high: 60, low: 40 } }, bounds)),
    [['max_known_peer_ids.low', 'LOW_BELOW_MAX_BOUND']],
  );
  assert.deepEqual(
    violations(() => targetsOf({}, bounds)),
    [['hot_target', 'NOTHING_TO_SET']],
  );
});

test('addresses: unparsable ones name the field and the parser reason', () => {
  assert.deepEqual(
    violations(() => pointOf('nope', 'address')),
    [['address', 'ADDRESS_MISSING_PORT']],
  );
  assert.deepEqual(
    violations(() => pointOf('1.2.3.4:99999', 'address')),
    [['address', 'ADDRESS_PORT_OUT_OF_RANGE']],
  );
  assert.deepEqual(
    violations(() => pointOf('', 'address')),
    [['address', 'REQUIRED']],
  );
  assert.deepEqual(pointOf(`LocalHost:9740#${peerId}`, 'address'), {
    spec: { host: 'localhost', port: 9740, peerId },
    key: 'localhost:9740',
  });
});

test('targets: peer ids, addresses and IPs, each named by its field', () => {
  assert.deepEqual(banTargetOf({ peer_id: peerId, target: 'peer_id' }, 'target'), {
    kind: 'peer',
    peerId,
  });
  assert.deepEqual(banTargetOf({ ip: '::FFFF:127.0.0.1', target: 'ip' }, 'target'), {
    kind: 'ip',
    ip: '127.0.0.1',
  });
  assert.deepEqual(
    violations(() => banTargetOf({ peer_id: 'mkshort', target: 'peer_id' }, 'target')),
    [['target.peer_id', 'PEER_ID_INVALID']],
  );
  assert.deepEqual(
    violations(() => banTargetOf({ ip: 'host.example', target: 'ip' }, 'target')),
    [['target.ip', 'IP_INVALID']],
  );
  assert.deepEqual(
    violations(() => banTargetOf(undefined, 'target')),
    [['target', 'REQUIRED']],
  );
  assert.deepEqual(
    violations(() => trustTargetOf({ address: 'x', target: 'address' }, 'target')),
    [['target.address', 'ADDRESS_MISSING_PORT']],
  );
  assert.deepEqual(
    violations(() => peerIdOf(`${peerId}b`, 'peer_id')),
    [['peer_id', 'PEER_ID_INVALID']],
  );
});
