import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { systemClock } from '../../../src/clock.ts';
import { runKeepAliveClient } from '../../../src/protocols/keep-alive.ts';
import { PeerSharingClient } from '../../../src/protocols/peer-sharing.ts';
import { Protocol } from '../../../src/wire/protocol-numbers.ts';
import { eventually, metricValue, startWireNode, type WireNode } from '../../fixtures/wire-node.ts';

let a: WireNode;
let b: WireNode;

before(async () => {
  a = await startWireNode('127.0.0.2');
  b = await startWireNode('127.0.0.3', { shares: ['127.0.0.9:9740', '127.0.0.10:9740'] });
});

after(async () => {
  await a.close();
  await b.close();
});

test('two nodes on real sockets connect, prove identities and agree a version', async () => {
  const outbound = await a.transport.dial({ host: b.host, port: b.port });
  const inbound = await b.connectionTo(a.peerId);
  assert.equal(outbound.peerId, b.peerId);
  assert.equal(outbound.direction, 'outbound');
  assert.equal(outbound.version, 1);
  assert.equal(inbound.direction, 'inbound');
  assert.equal(inbound.remoteHost, '127.0.0.2', 'dials leave from the listen address');
  assert.equal(
    await metricValue(a, 'meshkeeper_handshakes_total', { direction: 'outbound', result: 'ok' }),
    1,
  );
  assert.equal(
    await metricValue(b, 'meshkeeper_handshakes_total', { direction: 'inbound', result: 'ok' }),
    1,
  );
  assert.equal(await metricValue(a, 'meshkeeper_connections', { direction: 'outbound' }), 1);
  assert.equal(await metricValue(b, 'meshkeeper_connections', { direction: 'inbound' }), 1);
  const dialSpans = a.telemetry.spans().map((s) => s.name);
  for (const name of ['wire.dial', 'wire.tls', 'wire.handshake'])
    assert.ok(dialSpans.includes(name), name);
});

test('both sides run keep-alive clients on one duplex connection and measure RTT', async () => {
  const ab = await a.connectionTo(b.peerId);
  const ba = await b.connectionTo(a.peerId);
  const stop = new AbortController();
  const rtts: number[] = [];
  const opts = { clock: systemClock, intervalMs: 20, timeoutMs: 2000, signal: stop.signal };
  const fromA = runKeepAliveClient(ab.mux.channel(Protocol.keepAlive, 'client'), ab, {
    ...opts,
    onRtt: (s) => rtts.push(s),
  });
  const fromB = runKeepAliveClient(ba.mux.channel(Protocol.keepAlive, 'client'), ba, {
    ...opts,
    onRtt: () => {},
  });
  await eventually(() => rtts.length >= 3, 5000, 'three pongs');
  stop.abort();
  await Promise.all([fromA, fromB]);
  assert.ok(rtts.every((s) => s > 0 && s < 2));
  assert.ok(!ab.isClosed, 'a clean keep-alive return leaves the connection up');
  const bytesIn = await metricValue(b, 'meshkeeper_bytes_total', {
    direction: 'in',
    protocol: 'keep_alive',
  });
  assert.ok(bytesIn > 0);
});

test('peer-sharing returns the points the other side shares', async () => {
  const ab = await a.connectionTo(b.peerId);
  const client = new PeerSharingClient(ab.mux.channel(Protocol.peerSharing, 'client'), ab, {
    clock: systemClock,
    timeoutMs: 2000,
  });
  assert.deepEqual(await client.request(10), ['127.0.0.9:9740', '127.0.0.10:9740']);
  assert.deepEqual(await client.request(10), [], 'a second ask within 10 s gets nothing');
  await client.end();
});

test('a second connection to a connected peer is refused with already_connected', async () => {
  await assert.rejects(
    a.transport.dial({ host: b.host, port: b.port }),
    (e: Error & { refusal?: { reason: string } }) => {
      assert.equal(e.refusal?.reason, 'already_connected');
      return true;
    },
  );
  assert.equal(a.transport.connections.size, 1);
  assert.equal(
    await metricValue(b, 'meshkeeper_handshakes_total', { result: 'already_connected' }),
    1,
  );
});

test('a reconnect resumes the TLS session and still knows the peer id', async () => {
  const c = await startWireNode('127.0.0.4');
  try {
    const first = await a.transport.dial({ host: c.host, port: c.port });
    first.close();
    await first.closed;
    await eventually(() => c.transport.connections.size === 0, 3000, 'c sees the close');
    const again = await a.transport.dial({ host: c.host, port: c.port });
    assert.equal(again.peerId, c.peerId);
    const established = a.telemetry.logs.filter(
      (l) => l.event === 'connection_established' && l.peer === c.peerId,
    );
    assert.deepEqual(
      established.map((l) => l.tlsResumed),
      [false, true],
      'the second dial resumed the first session',
    );
    again.close();
  } finally {
    await c.close();
  }
});
