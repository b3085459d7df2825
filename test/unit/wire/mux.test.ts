import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WireError, type WireErrorCode } from '../../../src/wire/errors.ts';
import {
  encodeFrameHeader,
  FRAME_HEADER_BYTES,
  FrameDecoder,
  FrameFlags,
} from '../../../src/wire/frame.ts';
import { type Channel, Mux, type MuxOptions } from '../../../src/wire/mux.ts';

const KEEP_ALIVE = 1;
const PEER_SHARING = 2;
const GOSSIP = 3;
const limits = new Map([
  [KEEP_ALIVE, 1024],
  [PEER_SHARING, 64 * 1024],
  [GOSSIP, 8 * 1024 * 1024],
]);

interface Pair {
  dialer: net.Socket;
  acceptor: net.Socket;
}

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
after(() => {
  for (const socket of sockets) socket.destroy();
  for (const server of servers) server.close();
});

/** A real TCP connection on 127.0.0.1; everything is closed after the tests. */
async function socketPair(): Promise<Pair> {
  const server = net.createServer();
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const dialer = net.connect(port, '127.0.0.1');
  await once(dialer, 'connect');
  const [acceptor] = await accepted;
  server.close();
  sockets.push(dialer, acceptor);
  return { dialer, acceptor };
}

function options(isDialer: boolean, extra: Partial<MuxOptions> = {}): MuxOptions {
  return { isDialer, maxFramePayload: 65536, ingressLimits: limits, ...extra };
}

/** Both sides as muxes; the acceptor's inbound responders are collected. */
async function muxPair(
  dialerExtra: Partial<MuxOptions> = {},
  acceptorExtra: Partial<MuxOptions> = {},
) {
  const { dialer, acceptor } = await socketPair();
  const inboundAtAcceptor: Channel[] = [];
  const inboundAtDialer: Channel[] = [];
  const a = new Mux(
    dialer,
    options(true, { onInbound: (c) => inboundAtDialer.push(c), ...dialerExtra }),
  );
  const b = new Mux(
    acceptor,
    options(false, { onInbound: (c) => inboundAtAcceptor.push(c), ...acceptorExtra }),
  );
  return { a, b, dialer, acceptor, inboundAtAcceptor, inboundAtDialer };
}

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

/** Reads until `length` bytes arrived (chunking is not preserved across frames). */
async function readBytes(channel: Channel, length: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let got = 0;
  while (got < length) {
    const chunk = await channel.read();
    assert.ok(chunk !== null, 'unexpected end');
    parts.push(chunk);
    got += chunk.length;
  }
  return Buffer.concat(parts);
}

async function waitFor(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function frame(protocol: number, flags: number, payload: Uint8Array = new Uint8Array(0)) {
  return Buffer.concat([encodeFrameHeader(protocol, flags, payload.length), payload]);
}

async function expectClosedWith(mux: Mux, code: WireErrorCode): Promise<WireError> {
  const error = await mux.closed;
  assert.ok(error instanceof WireError, `closed with ${String(error)}`);
  assert.equal(error.code, code, error.message);
  assert.equal(mux.isClosed, true);
  return error;
}

test('two channels carry data both ways; responders are created on demand', async () => {
  const { a, b, inboundAtAcceptor } = await muxPair();
  const keepAlive = a.channel(KEEP_ALIVE, 'client');
  const sharing = a.channel(PEER_SHARING, 'client');
  assert.equal(a.channel(KEEP_ALIVE, 'client'), keepAlive, 'channel() is idempotent');
  await keepAlive.write(text('ping'));
  await sharing.write(text('share?'));
  await waitFor(() => inboundAtAcceptor.length === 2, 'two responders');
  const [ka, ps] = [...inboundAtAcceptor].sort((x, y) => x.protocol - y.protocol);
  assert.ok(ka !== undefined && ps !== undefined);
  assert.deepEqual([ka.protocol, ka.role, ps.protocol, ps.role], [1, 'server', 2, 'server']);
  assert.equal(b.channel(KEEP_ALIVE, 'server'), ka);
  assert.equal(str(await readBytes(ka, 4)), 'ping');
  assert.equal(str(await readBytes(ps, 6)), 'share?');
  await ka.write(text('pong'));
  await ps.write(text('points'));
  assert.equal(str(await readBytes(keepAlive, 4)), 'pong');
  assert.equal(str(await readBytes(sharing, 6)), 'points');
  a.close();
  assert.equal(await a.closed, undefined);
  await expectClosedWith(b, 'connection_closed');
});

test('duplex: each side runs the client and the server of keep-alive; bytes never cross', async () => {
  const { a, b, inboundAtAcceptor, inboundAtDialer } = await muxPair();
  const aClient = a.channel(KEEP_ALIVE, 'client');
  const bClient = b.channel(KEEP_ALIVE, 'client');
  const rounds = 50;
  const serve = async (server: Channel, name: string) => {
    for (let i = 0; i < rounds; i++) {
      const request = str(await readBytes(server, 12));
      await server.write(text(`${name}:${request}`));
    }
  };
  const run = async (client: Channel, name: string) => {
    for (let i = 0; i < rounds; i++) {
      const request = `${name}-req-${String(i).padStart(3, '0')}`; // 12 bytes
      await client.write(text(request));
      // The answer comes from the other side's server, tagged with its name.
      const expected = `${name === 'dial' ? 'acc' : 'dia'}:${request}`;
      assert.equal(str(await readBytes(client, expected.length)), expected);
    }
  };
  const servers = (async () => {
    await waitFor(
      () => inboundAtAcceptor.length === 1 && inboundAtDialer.length === 1,
      'responders',
    );
    const [accServer] = inboundAtAcceptor;
    const [diaServer] = inboundAtDialer;
    assert.ok(accServer && diaServer);
    assert.equal(accServer.role, 'server');
    assert.equal(diaServer.role, 'server');
    await Promise.all([serve(accServer, 'acc'), serve(diaServer, 'dia')]);
  })();
  await Promise.all([run(aClient, 'dial'), run(bClient, 'acce'), servers]);
  a.close();
  b.close();
});

test('a write larger than maxFramePayload is split into frames and arrives whole', async () => {
  const frameSizes: number[] = [];
  const { a, inboundAtAcceptor } = await muxPair(
    { maxFramePayload: 1000 },
    { maxFramePayload: 1000, onBytes: (_d, _p, n) => frameSizes.push(n - FRAME_HEADER_BYTES) },
  );
  const payload = Uint8Array.from({ length: 10_500 }, (_, i) => i & 0xff);
  await a.channel(PEER_SHARING, 'client').write(payload);
  await waitFor(() => inboundAtAcceptor.length === 1, 'responder');
  const server = inboundAtAcceptor[0] as Channel;
  assert.deepEqual(new Uint8Array(await readBytes(server, payload.length)), payload);
  assert.deepEqual(frameSizes, [...Array(10).fill(1000), 500]);
  a.close();
});

test('end: the reader gets the data, then null; writing after end is refused locally', async () => {
  const { a, b, inboundAtAcceptor } = await muxPair();
  const client = a.channel(GOSSIP, 'client');
  await client.write(text('last words'));
  await client.end();
  await client.end(); // idempotent
  await assert.rejects(client.write(text('more')), { code: 'protocol_violation' });
  await waitFor(() => inboundAtAcceptor.length === 1, 'responder');
  const server = inboundAtAcceptor[0] as Channel;
  assert.equal(str(await readBytes(server, 10)), 'last words');
  assert.equal(await server.read(), null);
  assert.equal(await server.read(), null);
  assert.equal(a.isClosed || b.isClosed, false, 'a clean return keeps the connection');
  a.close();
});

test('end: a pending read resolves null; after both ends the instance can start again', async () => {
  const { a, b, inboundAtAcceptor } = await muxPair();
  const client = a.channel(KEEP_ALIVE, 'client');
  await client.write(text('x'));
  await waitFor(() => inboundAtAcceptor.length === 1, 'responder');
  const server = inboundAtAcceptor[0] as Channel;
  assert.equal(str(await server.read()), 'x');
  const pending = server.read();
  await client.end();
  assert.equal(await pending, null);
  const clientSawEnd = client.read();
  await server.end();
  assert.equal(await clientSawEnd, null);
  // Both directions ended: the instance is complete; the next one is fresh (hot → warm → hot).
  const again = a.channel(KEEP_ALIVE, 'client');
  assert.notEqual(again, client);
  await again.write(text('y'));
  await waitFor(() => inboundAtAcceptor.length === 2, 'second responder');
  const server2 = inboundAtAcceptor[1] as Channel;
  assert.notEqual(server2, server);
  assert.equal(str(await server2.read()), 'y');
  assert.equal(b.channel(KEEP_ALIVE, 'server'), server2);
  a.close();
});

test('onBytes counts the wire bytes of every frame, header included', async () => {
  const counted = { in: 0, out: 0 };
  const count = (direction: 'in' | 'out') => (d: 'in' | 'out', p: number, n: number) => {
    if (p === GOSSIP && d === direction) counted[direction] += n;
  };
  const { a, inboundAtAcceptor } = await muxPair(
    { onBytes: count('out') },
    { onBytes: count('in') },
  );
  const client = a.channel(GOSSIP, 'client');
  await client.write(new Uint8Array(100_000));
  await client.end();
  await waitFor(() => inboundAtAcceptor.length === 1, 'responder');
  const server = inboundAtAcceptor[0] as Channel;
  while ((await server.read()) !== null) {}
  const frames = Math.ceil(100_000 / 65536) + 1;
  assert.equal(counted.out, 100_000 + frames * FRAME_HEADER_BYTES);
  assert.equal(counted.in, counted.out);
  a.close();
});

test('initialBytes left over by the handshake are decoded before socket data', async () => {
  const { dialer, acceptor } = await socketPair();
  const inbound: Channel[] = [];
  // The dialer's first frame was read together with its last handshake message.
  const leftover = frame(KEEP_ALIVE, FrameFlags.clientIsDialer, text('early'));
  const b = new Mux(
    acceptor,
    options(false, { initialBytes: leftover, onInbound: (c) => inbound.push(c) }),
  );
  assert.equal(inbound.length, 1);
  dialer.write(frame(KEEP_ALIVE, FrameFlags.clientIsDialer, text('-late')));
  assert.equal(str(await readBytes(inbound[0] as Channel, 10)), 'early-late');
  b.close();
});

// Each error closes the connection on the receiving side with its code; the sender sees the
// connection go (connection_closed).
const violations: { name: string; code: WireErrorCode; bytes: () => Buffer }[] = [
  {
    name: 'a frame over maxFramePayload (rejected on its header alone)',
    code: 'frame_too_large',
    bytes: () => Buffer.from(encodeFrameHeader(KEEP_ALIVE, FrameFlags.clientIsDialer, 65537)),
  },
  {
    name: 'a protocol number not in ingressLimits',
    code: 'unknown_protocol',
    bytes: () => frame(9, FrameFlags.clientIsDialer, text('hi')),
  },
  {
    name: 'unknown flag bits',
    code: 'protocol_violation',
    bytes: () => {
      const f = frame(KEEP_ALIVE, FrameFlags.clientIsDialer, text('hi'));
      f[2] = 0x81;
      return f;
    },
  },
  {
    name: 'a non-zero reserved byte',
    code: 'protocol_violation',
    bytes: () => {
      const f = frame(KEEP_ALIVE, FrameFlags.clientIsDialer, text('hi'));
      f[3] = 1;
      return f;
    },
  },
  {
    name: 'data after end on an instance',
    code: 'protocol_violation',
    bytes: () =>
      Buffer.concat([
        frame(KEEP_ALIVE, FrameFlags.clientIsDialer | FrameFlags.end),
        frame(KEEP_ALIVE, FrameFlags.clientIsDialer, text('zombie')),
      ]),
  },
  {
    name: 'responder data for a client instance we never started',
    code: 'protocol_violation',
    bytes: () => frame(KEEP_ALIVE, 0, text('pong')), // bit 0 clear: the acceptor's client
  },
  {
    name: 'more unread bytes than the ingress limit',
    code: 'ingress_overflow',
    bytes: () => frame(KEEP_ALIVE, FrameFlags.clientIsDialer, new Uint8Array(1025)),
  },
];

for (const violation of violations) {
  test(`receiving ${violation.name} closes the connection with ${violation.code}`, async () => {
    const { dialer, acceptor } = await socketPair();
    const inbound: Channel[] = [];
    const b = new Mux(acceptor, options(false, { onInbound: (c) => inbound.push(c) }));
    const pendingRead = b.channel(PEER_SHARING, 'server').read();
    pendingRead.catch(() => {}); // asserted below, after the close
    const dialerGone = once(dialer, 'close');
    dialer.on('error', () => {});
    dialer.write(violation.bytes());
    const error = await expectClosedWith(b, violation.code);
    await assert.rejects(pendingRead, (e) => e === error);
    await assert.rejects(b.channel(GOSSIP, 'client').write(text('x')), (e) => e === error);
    await dialerGone;
  });
}

test('ingress overflow between two muxes when the responder never reads', async () => {
  const { a, b } = await muxPair();
  const client = a.channel(PEER_SHARING, 'client');
  const writes: Promise<void>[] = [];
  for (let i = 0; i < 20; i++) writes.push(client.write(new Uint8Array(8 * 1024)));
  await expectClosedWith(b, 'ingress_overflow');
  await expectClosedWith(a, 'connection_closed');
  await Promise.allSettled(writes);
  await assert.rejects(client.read(), { code: 'connection_closed' });
});

test('an ingress limit is reached exactly, not exceeded, while the reader keeps up', async () => {
  const { a, b, inboundAtAcceptor } = await muxPair();
  const client = a.channel(KEEP_ALIVE, 'client');
  await client.write(new Uint8Array(1024));
  await waitFor(() => inboundAtAcceptor[0]?.bytesBuffered === 1024, '1024 buffered bytes');
  const server = inboundAtAcceptor[0] as Channel;
  await readBytes(server, 1024);
  assert.equal(server.bytesBuffered, 0);
  await client.write(new Uint8Array(1024));
  await readBytes(server, 1024);
  assert.equal(b.isClosed, false);
  a.close();
});

test('close(error): reads and writes reject with it, closed resolves with it', async () => {
  const { a, b } = await muxPair();
  const client = a.channel(GOSSIP, 'client');
  const pending = client.read();
  const error = new WireError('timeout', 'keep-alive timeout');
  a.close(error);
  a.close(); // later closes change nothing
  await assert.rejects(pending, (e) => e === error);
  await assert.rejects(client.write(text('x')), (e) => e === error);
  await assert.rejects(client.end(), (e) => e === error);
  await assert.rejects(a.channel(KEEP_ALIVE, 'client').read(), (e) => e === error);
  assert.equal(await a.closed, error);
  await expectClosedWith(b, 'connection_closed');
});

test('a clean local close rejects pending reads with connection_closed', async () => {
  const { a } = await muxPair();
  const pending = a.channel(GOSSIP, 'client').read();
  a.close();
  await assert.rejects(pending, { code: 'connection_closed' });
  assert.equal(await a.closed, undefined);
});

test('a remote reset closes with connection_closed', async () => {
  const { a, acceptor } = await muxPair();
  const pending = a.channel(GOSSIP, 'client').read();
  pending.catch(() => {}); // asserted below, after the close
  acceptor.resetAndDestroy();
  await expectClosedWith(a, 'connection_closed');
  await assert.rejects(pending, { code: 'connection_closed' });
});

test('a mux over a socket that is already gone is closed at once', async () => {
  const { dialer } = await socketPair();
  dialer.destroy();
  await once(dialer, 'close');
  const a = new Mux(dialer, options(true));
  await expectClosedWith(a, 'connection_closed');
  await assert.rejects(a.channel(KEEP_ALIVE, 'client').write(text('x')), {
    code: 'connection_closed',
  });
});

test('an unknown protocol cannot be opened locally', async () => {
  const { a } = await muxPair();
  assert.throws(() => a.channel(7, 'client'), { code: 'unknown_protocol' });
  a.close();
});

test('backpressure: 32 MiB to a peer that does not read stays bounded, then completes', {
  timeout: 60_000,
}, async (t) => {
  const { dialer, acceptor } = await socketPair();
  acceptor.pause();
  const highWaterMark = 256 * 1024;
  const maxFramePayload = 65536;
  let maxBuffered = 0;
  const a = new Mux(
    dialer,
    options(true, {
      highWaterMark,
      maxFramePayload,
      // Sampled right after every frame is handed to the socket: the worst moment.
      onBytes: () => {
        maxBuffered = Math.max(maxBuffered, dialer.writableLength);
      },
    }),
  );
  const total = 32 * 1024 * 1024;
  let done = false;
  const writing = a
    .channel(GOSSIP, 'client')
    .write(new Uint8Array(total))
    .then(() => {
      done = true;
    });
  await sleep(300);
  assert.equal(done, false, 'the write waits while the peer does not read');
  const bound = highWaterMark + maxFramePayload + FRAME_HEADER_BYTES;
  assert.ok(dialer.writableLength <= bound, `writableLength ${dialer.writableLength} > ${bound}`);

  const decoder = new FrameDecoder(maxFramePayload);
  let received = 0;
  acceptor.on('data', (chunk: Buffer) => {
    const frames = decoder.push(chunk);
    assert.ok(frames.ok);
    for (const f of frames.value) received += f.payload.length;
  });
  acceptor.resume();
  await writing;
  await waitFor(() => received === total, 'every byte at the peer', 30_000);
  assert.ok(maxBuffered <= bound, `max writableLength ${maxBuffered} > ${bound}`);
  t.diagnostic(`max socket.writableLength ${maxBuffered} bytes (bound ${bound})`);
  a.close();
});

test('backpressure: a high-water mark below the socket’s own still wakes writers', async () => {
  const { dialer, acceptor } = await socketPair();
  const a = new Mux(dialer, options(true, { highWaterMark: 1024, maxFramePayload: 4096 }));
  let received = 0;
  acceptor.on('data', (chunk: Buffer) => {
    received += chunk.length;
  });
  await a.channel(GOSSIP, 'client').write(new Uint8Array(1024 * 1024));
  await waitFor(() => received === 1024 * 1024 + 256 * FRAME_HEADER_BYTES, 'all bytes');
  a.close();
});
