import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeBand } from '../../../src/config/band.ts';
import { admissionPolicy } from '../../../src/maintenance/admission.ts';
import type { RemoteHello } from '../../../src/wire/connection.ts';
import type { AdmissionRequest } from '../../../src/wire/transport.ts';
import { makePool } from '../pool/helpers.ts';

// --connections 6: band 4/5/7/8.
const band = makeBand({ min: 3, expected: 6, max: 9 });
const hello = (over: Partial<RemoteHello> = {}): RemoteHello => ({
  privateNode: false,
  peerSharing: true,
  wantsConnections: false,
  advertisedAddress: '127.0.0.9:9732',
  ...over,
});
const request = (over: Partial<AdmissionRequest> = {}): AdmissionRequest => ({
  direction: 'inbound',
  peerId: 'peer-x',
  remoteHost: '127.0.0.9',
  hello: hello(),
  ...over,
});

function policyAt(established: number) {
  const { pool } = makePool();
  return admissionPolicy({
    pool,
    privateMode: false,
    band: () => band,
    established: () => established,
  });
}

test('admission: the band used here is 4/5/7/8', () => {
  assert.deepEqual({ ...band }, { minThreshold: 4, minTarget: 5, maxTarget: 7, maxThreshold: 8 });
});

test('admission: below maxTarget an inbound peer is admitted', () => {
  assert.equal(policyAt(6).admit(request()), undefined);
});

test('admission: at maxTarget an inbound peer is refused too_many_connections', () => {
  assert.equal(policyAt(7).admit(request())?.reason, 'too_many_connections');
});

test('admission: a dialer below its band is admitted between maxTarget and maxThreshold', () => {
  const wanting = request({ hello: hello({ wantsConnections: true }) });
  assert.equal(policyAt(7).admit(wanting), undefined);
  assert.equal(policyAt(8).admit(wanting)?.reason, 'too_many_connections');
});

test('admission: our own dial (the last word) stops at maxTarget whatever the remote Hello says', () => {
  const ours = request({ direction: 'outbound', hello: hello({ wantsConnections: true }) });
  const refusal = policyAt(7).admit(ours);
  assert.equal(refusal?.reason, 'too_many_connections');
  assert.deepEqual(refusal?.alternatives, []);
});
