import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeBand } from '../../../src/config/band.ts';
import { admissionPolicy } from '../../../src/maintenance/admission.ts';
import type { RefusalReason } from '../../../src/wire/handshake.ts';
import { DialError } from '../../../src/wire/transport.ts';
import { closedSocket, handshakeAsDialer, hello, rawTlsClient } from '../../fixtures/raw-peer.ts';
import { metricValue, type WireNode, wireNodes } from '../../fixtures/wire-node.ts';
import { makePool } from '../../unit/pool/helpers.ts';

const node = wireNodes();

/** Dials and expects a refusal for `reason`, counted on both sides. */
async function expectRefusal(
  from: WireNode,
  to: WireNode,
  reason: RefusalReason,
): Promise<DialError> {
  let caught: DialError | undefined;
  await assert.rejects(from.transport.dial({ host: to.host, port: to.port }), (e: unknown) => {
    assert.ok(e instanceof DialError);
    assert.equal(e.code, 'refused');
    assert.equal(e.refusal?.reason, reason);
    caught = e;
    return true;
  });
  assert.equal(
    await metricValue(from, 'meshkeeper_handshakes_total', {
      direction: 'outbound',
      result: reason,
    }),
    1,
  );
  assert.equal(
    await metricValue(to, 'meshkeeper_handshakes_total', { direction: 'inbound', result: reason }),
    1,
  );
  assert.equal(from.transport.connections.size, 0);
  assert.equal(to.transport.connections.size, 0);
  return caught as DialError;
}

test('network_mismatch: a node of another network is refused', async () => {
  const a = await node('127.0.0.2');
  const b = await node('127.0.0.3', { network: 'other-net' });
  await expectRefusal(a, b, 'network_mismatch');
});

test('no_common_version: a peer offering only unknown versions is refused', async () => {
  const b = await node('127.0.0.3');
  const peer = await rawTlsClient(b.host, b.port);
  const { reply } = await handshakeAsDialer(peer, hello({ versions: [7, 99] }));
  assert.equal(reply.result.case, 'refuse');
  assert.equal(reply.result.value?.reason, 2);
  await closedSocket(peer.socket);
  assert.equal(
    await metricValue(b, 'meshkeeper_handshakes_total', { result: 'no_common_version' }),
    1,
  );
});

test('self_connection: dialing our own address is detected and refused', async () => {
  const a = await node('127.0.0.2');
  await assert.rejects(a.transport.dial({ host: a.host, port: a.port }), (e: unknown) => {
    assert.ok(e instanceof DialError);
    assert.equal(e.refusal?.reason, 'self_connection');
    return true;
  });
  assert.equal(
    await metricValue(a, 'meshkeeper_handshakes_total', {
      direction: 'inbound',
      result: 'self_connection',
    }),
    1,
  );
  assert.equal(a.transport.connections.size, 0);
});

test('already_connected: simultaneous open ends with exactly one connection, the same on both sides', async () => {
  for (let round = 0; round < 5; round++) {
    const a = await node('127.0.0.2');
    const b = await node('127.0.0.3');
    const results = await Promise.allSettled([
      a.transport.dial({ host: b.host, port: b.port }),
      b.transport.dial({ host: a.host, port: a.port }),
    ]);
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    assert.equal(fulfilled.length, 1, `round ${round}: exactly one dial wins`);
    for (const r of results) {
      if (r.status === 'rejected')
        assert.equal((r.reason as DialError).refusal?.reason, 'already_connected');
    }
    await new Promise((r) => setTimeout(r, 50));
    const left = [...a.transport.connections];
    const right = [...b.transport.connections];
    assert.equal(left.length, 1);
    assert.equal(right.length, 1);
    assert.notEqual(
      left[0]?.direction,
      right[0]?.direction,
      'the same TCP connection seen from both ends',
    );
    await a.close();
    await b.close();
  }
});

test('too_many_connections: the refusal carries alternatives the dialer can use', async () => {
  const alternatives = ['127.0.0.20:9740', '127.0.0.21:9740', '127.0.0.22:9740'];
  const a = await node('127.0.0.2');
  const b = await node('127.0.0.3', {
    policy: { admit: () => ({ reason: 'too_many_connections', alternatives }) },
  });
  const error = await expectRefusal(a, b, 'too_many_connections');
  assert.deepEqual(error.refusal?.alternatives, alternatives);
});

test('too_many_connections: a node at maxTarget refuses a dialer, unless its Hello says it is below its band', async () => {
  const { pool } = makePool();
  const band = makeBand({ min: 3, expected: 6, max: 9 }); // 4/5/7/8
  let established = band.maxTarget;
  const policy = admissionPolicy({
    pool,
    privateMode: false,
    band: () => band,
    established: () => established,
  });
  let wanting = false;
  const a = await node('127.0.0.2', { wantsConnections: () => wanting });
  const b = await node('127.0.0.3', { policy });
  await expectRefusal(a, b, 'too_many_connections');
  wanting = true;
  const outbound = await a.transport.dial({ host: b.host, port: b.port });
  const inbound = await b.connectionTo(a.peerId);
  assert.equal(
    inbound.hello.wantsConnections,
    true,
    'the acceptor keeps the flag (victims: closed last)',
  );
  assert.equal(outbound.hello.wantsConnections, false, 'an acceptor never says it');
  // Up to maxThreshold only.
  outbound.close();
  await inbound.closed;
  established = band.maxThreshold;
  await assert.rejects(a.transport.dial({ host: b.host, port: b.port }), (e: unknown) => {
    assert.ok(e instanceof DialError);
    assert.equal(e.refusal?.reason, 'too_many_connections');
    return true;
  });
});

test('banned: a peer whose IP is banned is refused', async () => {
  const a = await node('127.0.0.2');
  const b = await node('127.0.0.3', {
    policy: {
      admit: (req) =>
        req.remoteHost === '127.0.0.2' ? { reason: 'banned', alternatives: [] } : undefined,
    },
  });
  await expectRefusal(a, b, 'banned');
});

test('not_trusted: a private node refuses a peer it does not trust', async () => {
  const a = await node('127.0.0.2');
  const trusted = new Set<string>();
  const b = await node('127.0.0.3', {
    privateNode: true,
    policy: {
      admit: (req) =>
        trusted.has(req.peerId) ? undefined : { reason: 'not_trusted', alternatives: [] },
    },
  });
  await expectRefusal(a, b, 'not_trusted');
  trusted.add(a.peerId);
  const connection = await a.transport.dial({ host: b.host, port: b.port });
  assert.equal(connection.hello.privateNode, true, 'peers learn that the node is private');
});

test('expected peer id: a point pinned to another identity fails with unexpected_peer_id', async () => {
  const a = await node('127.0.0.2');
  const b = await node('127.0.0.3');
  const c = await node('127.0.0.4');
  await assert.rejects(
    a.transport.dial({ host: b.host, port: b.port, peerId: c.peerId }),
    (e: unknown) => {
      assert.ok(e instanceof DialError);
      assert.equal(e.code, 'unexpected_peer_id');
      assert.equal(e.peerId, b.peerId);
      return true;
    },
  );
  assert.equal(
    await metricValue(a, 'meshkeeper_connection_failures_total', { reason: 'unexpected_peer_id' }),
    1,
  );
  const ok = await a.transport.dial({ host: b.host, port: b.port, peerId: b.peerId });
  assert.equal(ok.peerId, b.peerId);
});
