import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { startAdminServer } from '../../../src/admin/index.ts';
import type { AdminNode } from '../../../src/admin/types.ts';
import { noopTelemetry } from '../../../src/telemetry/index.ts';
import { killAll } from '../../fixtures/scenario.ts';
import {
  type AdminNodeProcess,
  closeClients,
  expectCode,
  fieldViolations,
  metricValue,
  startAdminNode,
  until,
} from './fixtures.ts';

// One real node on 127.0.7.20 with a token; each bad input is its own test, with the exact
// status code and the field it names.
const TOKEN = 'bad-input-test-token-0123456789';
const MAIN = new URL('../../../bin/meshkeeper.js', import.meta.url).pathname;
let node: AdminNodeProcess;

before(async () => {
  // --connections=2 → bounds 1/2/3, known-points cap (16, 12).
  node = await startAdminNode('127.0.7.20', ['--connections=2'], { token: TOKEN });
});
after(async () => {
  closeClients();
  await killAll([node]);
});

function violations(
  failure: Awaited<ReturnType<typeof expectCode>>,
): Array<[string, string | undefined]> {
  return fieldViolations(failure).map((v) => [v.field, v.reason]);
}

test('SetBounds min > expected: INVALID_ARGUMENT on min', async () => {
  const failure = await expectCode(
    node.client().call('SetBounds', { min: 5, expected: 3, max: 9 }),
    status.INVALID_ARGUMENT,
  );
  assert.deepEqual(violations(failure), [['min', 'MIN_ABOVE_EXPECTED']]);
});

test('SetBounds expected > max: INVALID_ARGUMENT on expected', async () => {
  const failure = await expectCode(
    node.client().call('SetBounds', { min: 1, expected: 7, max: 6 }),
    status.INVALID_ARGUMENT,
  );
  assert.deepEqual(violations(failure), [['expected', 'EXPECTED_ABOVE_MAX']]);
});

test('SetBounds with a negative bound: INVALID_ARGUMENT on that bound', async () => {
  const failure = await expectCode(
    node.client().call('SetBounds', { min: 1, expected: 2, max: -3 }),
    status.INVALID_ARGUMENT,
  );
  assert.deepEqual(violations(failure), [['max', 'NEGATIVE']]);
});

test('SetBounds with a non-integer bound: refused before sending (int32 on the wire), exit 2 naming the flag', () => {
  // A JSON or CLI client is where a fraction can be typed; the proto field is an int32, so the
  // CLI refuses it (grpcurl does too, see grpcurl.test.ts) and the node's bounds do not change.
  const result = spawnSync(
    process.execPath,
    [
      MAIN,
      'admin',
      'bounds',
      'set',
      '--min',
      '1',
      '--expected',
      '1.5',
      '--max',
      '3',
      '--address',
      node.admin,
    ],
    {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', MESHKEEPER_ADMIN_TOKEN: TOKEN },
      timeout: 30_000,
    },
  );
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /--expected must be an integer, got 1\.5/);
});

test('SetBounds max above the known-points cap: INVALID_ARGUMENT on max', async () => {
  const failure = await expectCode(
    node.client().call('SetBounds', { min: 1, expected: 2, max: 13 }),
    status.INVALID_ARGUMENT,
  );
  assert.deepEqual(violations(failure), [
    ['max', 'MAX_ABOVE_KNOWN_POINTS'],
    ['max', 'MAX_ABOVE_KNOWN_PEER_IDS'],
  ]);
  const bounds = await node.client().call('GetBounds', {});
  assert.deepEqual(bounds.bounds, { min: 1, expected: 2, max: 3 }, 'nothing changed');
});

test('Connect to an unparsable address: INVALID_ARGUMENT on address', async () => {
  const failure = await expectCode(
    node.client().call('Connect', { address: 'not an address' }),
    status.INVALID_ARGUMENT,
  );
  assert.deepEqual(violations(failure), [['address', 'ADDRESS_WHITESPACE']]);
  const noPort = await expectCode(
    node.client().call('Connect', { address: '127.0.0.1' }),
    status.INVALID_ARGUMENT,
  );
  assert.deepEqual(violations(noPort), [['address', 'ADDRESS_MISSING_PORT']]);
});

test('Disconnect an unknown peer id: NOT_FOUND naming the peer; a malformed one: INVALID_ARGUMENT on peer_id', async () => {
  const unknown = `mk${'c'.repeat(51)}a`;
  const failure = await expectCode(
    node.client().call('Disconnect', { peer_id: unknown }),
    status.NOT_FOUND,
  );
  assert.deepEqual(failure.details, [
    {
      type: 'resource_info',
      resourceType: 'peer',
      resourceName: unknown,
      description: `no live peer ${unknown}`,
    },
  ]);
  const malformed = await expectCode(
    node.client().call('Disconnect', { peer_id: 'mk-nope' }),
    status.INVALID_ARGUMENT,
  );
  assert.deepEqual(violations(malformed), [['peer_id', 'PEER_ID_INVALID']]);
});

test('ListPeers with a page size of 10⁹: INVALID_ARGUMENT on page_size', async () => {
  const failure = await expectCode(
    node.client().call('ListPeers', { page_size: 1_000_000_000 }),
    status.INVALID_ARGUMENT,
  );
  assert.deepEqual(violations(failure), [['page_size', 'PAGE_SIZE_TOO_LARGE']]);
});

test('an empty token: UNAUTHENTICATED', async () => {
  const failure = await expectCode(node.client('').call('GetStatus', {}), status.UNAUTHENTICATED);
  assert.match(failure.message, /missing bearer token|empty bearer token/);
  const bare = node.client(' ');
  await expectCode(bare.call('GetStatus', {}), status.UNAUTHENTICATED);
});

test('a wrong token: UNAUTHENTICATED, counted, and the token never logged', async () => {
  const wrong = 'wrong-token-wrong-token-012345';
  const failure = await expectCode(
    node.client(wrong).call('SetBounds', { min: 1, expected: 1, max: 1 }),
    status.UNAUTHENTICATED,
  );
  assert.equal(failure.message, 'invalid bearer token');
  await expectCode(node.client(null).call('GetStatus', {}), status.UNAUTHENTICATED);
  const refused = await metricValue(node, 'meshkeeper_admin_requests_total', {
    method: 'SetBounds',
    code: 'UNAUTHENTICATED',
  });
  assert.equal(refused, 1);
  const logs = JSON.stringify(node.logs);
  assert.ok(!logs.includes(wrong) && !logs.includes(TOKEN), 'no token in any log line');
  assert.deepEqual((await node.client().call('GetBounds', {})).bounds, {
    min: 1,
    expected: 2,
    max: 3,
  });
});

test('a missing token on a non-loopback admin address: the node refuses to start (exit 2), before any bind', () => {
  // 192.0.2.1 (TEST-NET-1) is never bound: the refusal comes first.
  const result = spawnSync(
    process.execPath,
    [
      MAIN,
      'run',
      '--listen=127.0.7.21:0',
      '--http-listen=127.0.7.21:0',
      '--admin-listen=192.0.2.1:9741',
      `--data-dir=${mkdtempSync(join(tmpdir(), 'meshkeeper-admin-'))}`,
    ],
    { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 30_000 },
  );
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /admin\.listen.*192\.0\.2\.1:9741 \(not loopback\) needs a token/);
});

test('a missing token on a non-loopback admin address: the admin server itself refuses before binding', async () => {
  // The server does not rely on config validation: given such a config it throws its own error.
  const telemetry = noopTelemetry();
  const node = {
    config: {
      admin: { listen: { host: '192.0.2.1', port: 9741 } },
      gossip: { maxMessageBytes: 1024 },
    },
    telemetry,
  } as unknown as AdminNode;
  await assert.rejects(startAdminServer(node), (error: { code?: string; message?: string }) => {
    assert.equal(error.code, 'admin_token_required', 'refused, not a failed bind (EADDRNOTAVAIL)');
    assert.match(error.message ?? '', /192\.0\.2\.1:9741: not a loopback address and no token/);
    return true;
  });
  const wildcard = {
    ...node,
    config: { ...node.config, admin: { listen: { host: '0.0.0.0', port: 0 } } },
  } as AdminNode;
  await assert.rejects(startAdminServer(wildcard), { code: 'admin_token_required' });
});

test('an oversized message: RESOURCE_EXHAUSTED before it reaches the handler', async () => {
  // The receive limit is gossip.maxMessageBytes (1 MiB) plus 64 KiB for the rest of the message.
  const payload = Buffer.alloc(2 * 1024 * 1024, 7);
  const failure = await expectCode(
    node.client().call('Publish', { payload }),
    status.RESOURCE_EXHAUSTED,
  );
  assert.match(failure.message, /larger than max/i);
  const tooBigForGossip = Buffer.alloc(1024 * 1024 + 1, 7);
  const invalid = await expectCode(
    node.client().call('Publish', { payload: tooBigForGossip }),
    status.INVALID_ARGUMENT,
  );
  assert.deepEqual(violations(invalid), [['payload', 'TOO_LARGE']]);
});

test('a WatchEvents client that never reads: the node is unaffected, its stream ends RESOURCE_EXHAUSTED, the overflow is counted', async () => {
  // A raw HTTP/2 client that subscribes and then never reads: its stream window fills and the
  // node's writes stop. (The grpc-js client is no such client: it keeps reading from the socket
  // into its own unbounded queue whether or not the application reads.)
  const session = connect(`http://${node.admin}`);
  const stalled = session.request({
    ':method': 'POST',
    ':path': '/meshkeeper.admin.v1.AdminService/WatchEvents',
    'content-type': 'application/grpc',
    te: 'trailers',
    authorization: `Bearer ${TOKEN}`,
  });
  stalled.end(Buffer.from([0, 0, 0, 0, 0])); // one empty WatchEventsRequest: every kind
  await new Promise((resolve) => stalled.once('response', resolve));
  stalled.pause();
  let trailers: Record<string, unknown> | undefined;
  stalled.on('trailers', (t) => {
    trailers = t;
  });

  // Each SetTargets is one event (~45 bytes). After ~64 KiB the window is full; then the
  // stream's 1024-event buffer fills and the next event ends the stream.
  const client = node.client();
  const batches: number[] = [];
  for (
    let round = 0;
    round < 200 && !node.logs.some((l) => l.event === 'watch_overflow');
    round++
  ) {
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        client.call('SetTargets', { hot_target: (round * 50 + i) % 7 }),
      ),
    );
    batches.push(performance.now() - started);
  }
  const overflow = node.logs.find((l) => l.event === 'watch_overflow');
  assert.ok(overflow !== undefined, 'the watch overflowed');
  assert.equal(overflow.buffer, 1024);
  assert.equal(overflow.dropped, 1025, 'the 1024 held and the one that did not fit');
  assert.equal(
    await metricValue(node, 'meshkeeper_events_dropped_total', { stream: 'watch_events' }),
    1025,
  );

  // Unaffected: 50 calls at a time kept being answered while the reader stalled, and still are.
  assert.ok(Math.max(...batches) < 2000, `slowest batch of 50 calls: ${Math.max(...batches)} ms`);
  const t0 = performance.now();
  await client.call('GetStatus', {});
  assert.ok(performance.now() - t0 < 1000);
  const more = await client.call('SetTargets', { hot_target: 3 });
  assert.equal(more.targets?.hot_target, 3);

  // When the reader finally reads, it gets what was already sent, then RESOURCE_EXHAUSTED.
  let bytes = 0;
  stalled.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  stalled.resume();
  await until(
    async () => trailers,
    (t) => t !== undefined,
    10_000,
    'the trailers',
  );
  assert.equal(trailers?.['grpc-status'], String(status.RESOURCE_EXHAUSTED));
  assert.match(
    decodeURIComponent(String(trailers?.['grpc-message'])),
    /reader too slow: more than 1024 events waiting/,
  );
  assert.ok(
    bytes > 60_000 && bytes < 200_000,
    `${bytes} bytes were in flight: the window, not the backlog`,
  );
  session.close();
});
