import assert from 'node:assert/strict';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { WireError, type WireErrorCode } from '../../../src/wire/errors.ts';
import { HelloSchema } from '../../../src/wire/gen/meshkeeper/wire/v1/handshake_pb.ts';
import { HandshakeReader } from '../../../src/wire/handshake-reader.ts';
import { encodeDelimited } from '../../../src/wire/messages.ts';

/** `read` rejects with a WireError of `code`. */
function rejectsWith(read: Promise<unknown>, code: WireErrorCode): Promise<void> {
  return assert.rejects(read, (error: unknown) => {
    assert.ok(error instanceof WireError);
    assert.equal(error.code, code);
    return true;
  });
}

const hello = encodeDelimited(HelloSchema, create(HelloSchema, { network: 'n', versions: [1] }));

test('handshake reader: messages split anywhere and joined with what follows', async () => {
  const socket = new PassThrough();
  const reader = new HandshakeReader(socket);
  const after = Buffer.from('frames follow');
  const bytes = Buffer.concat([hello, hello, after]);
  // One byte at a time, then the rest in one chunk.
  for (const byte of bytes.subarray(0, 7)) socket.write(Buffer.from([byte]));
  socket.write(bytes.subarray(7));
  assert.equal((await reader.next(HelloSchema, 1024)).network, 'n');
  assert.equal((await reader.next(HelloSchema, 1024)).network, 'n');
  reader.release();
  // What was read past the messages comes back to the next reader, first.
  const [chunk] = (await once(socket, 'data')) as [Buffer];
  assert.deepEqual(chunk, after);
});

test('handshake reader: a flood is paused above the threshold, so the writer sees backpressure', async () => {
  const socket = new PassThrough({ highWaterMark: 16 * 1024 });
  const reader = new HandshakeReader(socket, 32 * 1024);
  const junk = Buffer.alloc(16 * 1024, 0x41);
  socket.write(hello);
  let accepted = 0;
  // The writer sees backpressure instead of the reader buffering without bound.
  for (let i = 0; i < 64 && socket.write(junk); i++) accepted++;
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(socket.isPaused(), true);
  assert.ok(accepted < 64, `the writer was held back after ${accepted} chunks`);
  await reader.next(HelloSchema, 1024);
  // The junk announces a 1 GiB message (0x41414141 bytes): over any limit, a typed error.
  await rejectsWith(reader.next(HelloSchema, 1024), 'protocol_violation');
});

test('handshake reader: the peer ending mid-message is connection_closed, also for later reads', async () => {
  const socket = new PassThrough();
  const reader = new HandshakeReader(socket);
  socket.end(hello.subarray(0, 6));
  for (let i = 0; i < 2; i++) {
    await rejectsWith(reader.next(HelloSchema, 1024), 'connection_closed');
  }
});

test('handshake reader: an undecodable message is decode_error', async () => {
  const socket = new PassThrough();
  const reader = new HandshakeReader(socket);
  socket.write(Buffer.from([0, 0, 0, 2, 0xff, 0xff]));
  await rejectsWith(reader.next(HelloSchema, 1024), 'decode_error');
});

test('handshake reader: a message larger than the pause threshold still completes', async () => {
  const socket = new PassThrough({ highWaterMark: 1024 });
  const reader = new HandshakeReader(socket, 1024);
  const big = encodeDelimited(
    HelloSchema,
    create(HelloSchema, { network: 'n', advertisedAddress: 'a'.repeat(8 * 1024) }),
  );
  for (let at = 0; at < big.length; at += 512) socket.write(big.subarray(at, at + 512));
  const hello = await reader.next(HelloSchema, 16 * 1024);
  assert.equal(hello.advertisedAddress.length, 8 * 1024);
});

test('handshake reader: a socket paused before the handshake is read all the same', async () => {
  const socket = new PassThrough();
  socket.pause();
  const reader = new HandshakeReader(socket);
  socket.write(hello);
  assert.equal((await reader.next(HelloSchema, 1024)).network, 'n');
});

test('handshake reader: released after the peer ended, leftovers are dropped without an error', async () => {
  const socket = new PassThrough();
  const errors: Error[] = [];
  socket.on('error', (error) => errors.push(error));
  const reader = new HandshakeReader(socket);
  socket.end(Buffer.concat([hello, Buffer.from('frames, then the peer hung up')]));
  await reader.next(HelloSchema, 1024);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(socket.readableEnded, true);
  reader.release();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(errors, []);
});
