import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { systemClock } from '../../../src/clock.ts';
import { PeerSharingClient } from '../../../src/protocols/peer-sharing.ts';
import { FrameFlags } from '../../../src/wire/frame.ts';
import { HandshakeReplySchema } from '../../../src/wire/gen/meshkeeper/wire/v1/handshake_pb.ts';
import { PeerSharingSchema } from '../../../src/wire/gen/meshkeeper/wire/v1/peersharing_pb.ts';
import { DelimitedReader, encodeDelimited } from '../../../src/wire/messages.ts';
import { Protocol } from '../../../src/wire/protocol-numbers.ts';
import { DialError } from '../../../src/wire/transport.ts';
import {
  closedSocket,
  fakeAcceptor,
  frame,
  handshakeAsAcceptor,
  handshakeAsDialer,
  rawTlsClient,
} from '../../fixtures/raw-peer.ts';
import { eventually, metricValue, type WireNode, wireNodes } from '../../fixtures/wire-node.ts';

const node = wireNodes();

/** After bad input the node still accepts and serves a well-behaved peer. */
async function assertServesGoodPeer(target: WireNode): Promise<void> {
  const good = await node('127.0.0.2');
  const connection = await good.transport.dial({ host: target.host, port: target.port });
  const client = new PeerSharingClient(
    connection.mux.channel(Protocol.peerSharing, 'client'),
    connection,
    {
      clock: systemClock,
      timeoutMs: 2000,
    },
  );
  assert.deepEqual(await client.request(1), []);
  connection.close();
}

async function failures(n: WireNode, reason: string): Promise<number> {
  return metricValue(n, 'meshkeeper_connection_failures_total', { reason });
}

/** A raw peer through a correct handshake, ready to send frames of its own making. */
async function handshaken(target: WireNode) {
  const peer = await rawTlsClient(target.host, target.port, '127.0.0.5');
  const { reply } = await handshakeAsDialer(peer);
  assert.equal(reply.result.case, 'accept');
  await target.connectionTo(peer.identity.peerId);
  return peer;
}

test('plain garbage instead of TLS: closed, counted as tls_error', async () => {
  const b = await node('127.0.0.3');
  const socket = net.connect({ host: b.host, port: b.port, localAddress: '127.0.0.5' });
  socket.on('error', () => {});
  socket.write(randomBytes(4096));
  await closedSocket(socket);
  await eventually(async () => (await failures(b, 'tls_error')) === 1, 3000, 'tls_error counted');
  assert.equal(b.transport.pendingInbound, 0);
  await assertServesGoodPeer(b);
});

test('a valid TLS peer sending garbage frames: closed, counted as protocol_violation', async () => {
  const b = await node('127.0.0.3');
  const peer = await handshaken(b);
  // Protocol 1, flags with undefined bits set, reserved byte non-zero.
  peer.socket.write(Buffer.from([0, 1, 0xfc, 0xff, 0, 0, 0, 4, 1, 2, 3, 4]));
  await closedSocket(peer.socket);
  await eventually(async () => (await failures(b, 'protocol_violation')) === 1, 3000, 'counted');
  await assertServesGoodPeer(b);
});

test('a frame over the size limit: closed before its payload, counted as frame_too_large', async () => {
  const b = await node('127.0.0.3');
  const peer = await handshaken(b);
  const header = Buffer.alloc(8);
  header.writeUInt16BE(Protocol.keepAlive, 0);
  header.writeUInt8(FrameFlags.clientIsDialer, 2);
  header.writeUInt32BE(65_537, 4);
  peer.socket.write(header);
  await closedSocket(peer.socket);
  await eventually(async () => (await failures(b, 'frame_too_large')) === 1, 3000, 'counted');
  await assertServesGoodPeer(b);
});

test('an unknown mini-protocol number: closed, counted as unknown_protocol', async () => {
  const b = await node('127.0.0.3');
  const peer = await handshaken(b);
  peer.socket.write(frame(42, FrameFlags.clientIsDialer, Buffer.from('hello')));
  await closedSocket(peer.socket);
  await eventually(async () => (await failures(b, 'unknown_protocol')) === 1, 3000, 'counted');
  await assertServesGoodPeer(b);
});

test('a peer-sharing reply with more points than asked: closed, counted as protocol_violation', async () => {
  const a = await node('127.0.0.2');
  const liar = await fakeAcceptor('127.0.0.6', (peer) => {
    void (async () => {
      await handshakeAsAcceptor(peer);
      const requests = new DelimitedReader(PeerSharingSchema, 1024);
      peer.socket.on('data', (chunk: Buffer) => {
        // Frames of the dialer's peer-sharing client: skip the 8-byte header.
        const decoded = requests.push(chunk.subarray(8));
        if (!decoded.ok || decoded.value.length === 0) return;
        const points = [
          '127.0.0.30:1',
          '127.0.0.31:1',
          '127.0.0.32:1',
          '127.0.0.33:1',
          '127.0.0.34:1',
        ];
        const reply = create(PeerSharingSchema, { message: { case: 'reply', value: { points } } });
        peer.socket.write(
          frame(
            Protocol.peerSharing,
            FrameFlags.clientIsDialer,
            encodeDelimited(PeerSharingSchema, reply),
          ),
        );
      });
    })();
  });
  try {
    const connection = await a.transport.dial({ host: '127.0.0.6', port: liar.port });
    const client = new PeerSharingClient(
      connection.mux.channel(Protocol.peerSharing, 'client'),
      connection,
      {
        clock: systemClock,
        timeoutMs: 2000,
      },
    );
    await assert.rejects(client.request(2), { code: 'protocol_violation' });
    const closedWith = await connection.closed;
    assert.equal(closedWith?.code, 'protocol_violation');
    await eventually(async () => (await failures(a, 'protocol_violation')) === 1, 3000, 'counted');
  } finally {
    await liar.close();
  }
});

test('a refusal with more than 50 alternatives is a protocol violation', async () => {
  const a = await node('127.0.0.2');
  const alternatives = Array.from({ length: 51 }, (_, i) => `127.0.1.${i}:9740`);
  const liar = await fakeAcceptor('127.0.0.6', (peer) => {
    void handshakeAsAcceptor(
      peer,
      create(HandshakeReplySchema, {
        result: { case: 'refuse', value: { reason: 5, alternatives } },
      }),
    ).catch(() => {});
  });
  try {
    await assert.rejects(a.transport.dial({ host: '127.0.0.6', port: liar.port }), (e: unknown) => {
      assert.ok(e instanceof DialError);
      assert.equal(e.code, 'protocol_violation');
      return true;
    });
    assert.equal(await failures(a, 'protocol_violation'), 1);
  } finally {
    await liar.close();
  }
});

test('a handshake that never completes is closed at its timeout', async () => {
  const b = await node('127.0.0.3', { wire: { handshakeTimeoutMs: 300 } });
  const peer = await rawTlsClient(b.host, b.port, '127.0.0.5');
  const t0 = performance.now();
  await closedSocket(peer.socket);
  const waited = performance.now() - t0;
  assert.ok(waited >= 250 && waited < 3000, `closed after ${waited} ms`);
  await eventually(async () => (await failures(b, 'handshake_timeout')) === 1, 3000, 'counted');
  await assertServesGoodPeer(b);
});

test('1,000 concurrent half-open connections while a good peer connects', async () => {
  const b = await node('127.0.0.3', { wire: { handshakeTimeoutMs: 1500 } });
  const sockets: net.Socket[] = [];
  let maxPending = 0;
  const watch = setInterval(() => {
    maxPending = Math.max(maxPending, b.transport.pendingInbound);
  }, 5);
  try {
    for (let i = 0; i < 1000; i++) {
      const s = net.connect({ host: b.host, port: b.port, localAddress: '127.0.0.50' });
      s.on('error', () => {});
      sockets.push(s);
    }
    await Promise.all(
      sockets.map(
        (s) =>
          new Promise((r) => {
            s.once('connect', r);
            s.once('close', r);
          }),
      ),
    );
    await assertServesGoodPeer(b);
    await Promise.all(sockets.map((s) => closedSocket(s)));
  } finally {
    clearInterval(watch);
    for (const s of sockets) s.destroy();
  }
  assert.ok(maxPending <= 128, `pending stayed bounded (max ${maxPending})`);
  const refused = await failures(b, 'pending_limit');
  const timedOut = await failures(b, 'handshake_timeout');
  assert.equal(refused + timedOut, 1000, `${refused} refused at once + ${timedOut} timed out`);
  assert.ok(refused >= 1000 - 128);
  await eventually(() => b.transport.pendingInbound === 0, 3000, 'no pending left');
});
