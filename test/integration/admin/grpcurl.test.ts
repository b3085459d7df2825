import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { killAll } from '../../fixtures/scenario.ts';
import {
  type AdminNodeProcess,
  closeClients,
  findExecutable,
  run,
  startAdminNode,
  until,
} from './fixtures.ts';

// A real third-party client: grpcurl (scripts/install-tools.sh) against real node processes on
// 127.0.9.x, knowing the API only through server reflection.
const GRPCURL = findExecutable('grpcurl');
const TOKEN = 'grpcurl-test-token-0123456789';
const AUTH = `authorization: Bearer ${TOKEN}`;
const SERVICE = 'meshkeeper.admin.v1.AdminService';
const HEALTH_PROTO_DIR = dirname(
  dirname(
    dirname(fileURLToPath(import.meta.resolve('grpc-health-check/proto/health/v1/health.proto'))),
  ),
);

let a: AdminNodeProcess;
let b: AdminNodeProcess;
before(async () => {
  [a, b] = await Promise.all([
    startAdminNode('127.0.9.1', ['--connections=2'], { token: TOKEN }),
    startAdminNode('127.0.9.2', ['--connections=2']),
  ]);
});
after(async () => {
  closeClients();
  await killAll([a, b]);
});

function grpcurl(args: string[], timeoutMs = 30_000) {
  assert.ok(GRPCURL !== undefined, 'grpcurl is installed (scripts/install-tools.sh)');
  return run(GRPCURL, ['-plaintext', ...args], timeoutMs);
}

/** Calls `method` with `data` (JSON) and the token; returns the parsed JSON response. */
async function call(method: string, data: unknown = {}): Promise<Record<string, unknown>> {
  const r = await grpcurl([
    '-H',
    AUTH,
    '-d',
    JSON.stringify(data),
    a.admin,
    `${SERVICE}/${method}`,
  ]);
  assert.equal(r.code, 0, `${method}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

test('grpcurl lists every service through reflection, with no proto file', async () => {
  const r = await grpcurl(['-H', AUTH, a.admin, 'list']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n').sort(), [
    'grpc.health.v1.Health',
    'grpc.reflection.v1.ServerReflection',
    'grpc.reflection.v1alpha.ServerReflection',
    SERVICE,
  ]);
  const methods = await grpcurl(['-H', AUTH, a.admin, 'list', SERVICE]);
  assert.equal(methods.stdout.trim().split('\n').length, 16);
});

test('grpcurl describe shows the documented API (reflection serves the comments)', async () => {
  const r = await grpcurl(['-H', AUTH, a.admin, 'describe', `${SERVICE}.Connect`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Dials a point and returns once its handshake succeeded/);
  const msg = await grpcurl([
    '-H',
    AUTH,
    a.admin,
    'describe',
    'meshkeeper.admin.v1.SetBoundsRequest',
  ]);
  assert.match(msg.stdout, /int32 min = 1;/);
});

test('reflection needs the token too; health needs none', async () => {
  const refused = await grpcurl([a.admin, 'list']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /Unauthenticated|missing bearer token/);
  const health = await grpcurl([
    '-import-path',
    HEALTH_PROTO_DIR,
    '-proto',
    'health/v1/health.proto',
    a.admin,
    'grpc.health.v1.Health/Check',
  ]);
  assert.equal(health.code, 0, health.stderr);
  assert.deepEqual(JSON.parse(health.stdout), { status: 'SERVING' });
  const viaReflection = await grpcurl([
    '-reflect-header',
    AUTH,
    a.admin,
    'grpc.health.v1.Health/Check',
  ]);
  assert.equal(viaReflection.code, 0, viaReflection.stderr);
});

test('grpcurl decodes the BadRequest details of an INVALID_ARGUMENT, and refuses a non-integer bound itself', async () => {
  const r = await grpcurl([
    '-H',
    AUTH,
    '-d',
    '{"min":5,"expected":3,"max":9}',
    a.admin,
    `${SERVICE}/SetBounds`,
  ]);
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /Code: InvalidArgument/);
  assert.match(r.stdout + r.stderr, /"@type": "type.googleapis.com\/google.rpc.BadRequest"/);
  assert.match(r.stdout + r.stderr, /"field": "min"/);
  assert.match(r.stdout + r.stderr, /"reason": "MIN_ABOVE_EXPECTED"/);
  const fraction = await grpcurl([
    '-H',
    AUTH,
    '-d',
    '{"min":1,"expected":1.5,"max":3}',
    a.admin,
    `${SERVICE}/SetBounds`,
  ]);
  assert.notEqual(fraction.code, 0);
  assert.match(fraction.stderr, /1\.5/);
  assert.deepEqual((await call('GetBounds')).bounds, { min: 1, expected: 2, max: 3 });
});

test('grpcurl calls every AdminService method against a running node', async () => {
  // WatchEvents first, in the background: it must see what the calls below do.
  assert.ok(GRPCURL !== undefined);
  const watch = spawn(GRPCURL, [
    '-plaintext',
    '-H',
    AUTH,
    '-max-time',
    '30',
    '-d',
    '{"kinds":["EVENT_KIND_BOUNDS_CHANGE","EVENT_KIND_STATUS_CHANGE","EVENT_KIND_BAN"]}',
    a.admin,
    `${SERVICE}/WatchEvents`,
  ]);
  let watched = '';
  watch.stdout.on('data', (chunk) => {
    watched += String(chunk);
  });
  const watchExit = new Promise<number | null>((resolve) => watch.once('exit', resolve));
  await new Promise((r) => setTimeout(r, 500)); // the watch subscribes

  const status = await call('GetStatus');
  assert.equal(status.peerId, a.peerId);
  assert.deepEqual(await call('GetBounds'), {
    bounds: { min: 1, expected: 2, max: 3 },
    band: { minThreshold: 1, minTarget: 1, maxTarget: 3, maxThreshold: 3 },
  });
  const set = await call('SetBounds', { min: 1, expected: 2, max: 4 });
  assert.deepEqual(set.bounds, { min: 1, expected: 2, max: 4 });
  const targets = await call('SetTargets', { hot_target: 2 });
  assert.equal((targets.targets as { hotTarget: number }).hotTarget, 2);
  const connected = await call('Connect', { address: b.p2p });
  assert.equal((connected.peer as { peerId: string }).peerId, b.peerId);
  const maintained = await call('Maintain');
  assert.equal((maintained.cycle as { motive: string }).motive, 'CYCLE_MOTIVE_MAINTAIN_REQUEST');
  const peers = await call('ListPeers', { statuses: ['PEER_STATUS_WARM', 'PEER_STATUS_HOT'] });
  assert.deepEqual(
    (peers.peers as Array<{ peerId: string }>).map((p) => p.peerId),
    [b.peerId],
  );
  const points = await call('ListPoints', { states: ['POINT_STATE_RUNNING'], page_size: 10 });
  assert.deepEqual(
    (points.points as Array<{ address: string }>).map((p) => p.address),
    [b.p2p],
  );
  const published = await call('Publish', {
    payload: Buffer.from('via grpcurl').toString('base64'),
  });
  assert.equal(typeof published.id, 'string');
  const banned = await call('Ban', { target: { ip: '192.0.2.9' }, duration: '600s' });
  assert.equal((banned.ban as { target: { ip: string } }).target.ip, '192.0.2.9');
  assert.deepEqual(await call('Unban', { target: { ip: '192.0.2.9' } }), {});
  assert.deepEqual(await call('Trust', { target: { peer_id: b.peerId } }), {});
  assert.deepEqual(await call('Untrust', { target: { peer_id: b.peerId } }), {});
  assert.deepEqual(await call('Disconnect', { peer_id: b.peerId }), { peerId: b.peerId });

  await until(
    async () => watched,
    (text) => text.includes('"to": "PEER_STATUS_COLD"'),
    10_000,
    'the watch to see the disconnect',
  );
  assert.match(watched, /"boundsChange"/);
  assert.match(watched, /"banChange"/);
  assert.match(watched, /"action": "BAN_ACTION_UNBAN"/);

  assert.deepEqual(await call('Shutdown'), {});
  assert.equal(await a.exited, 0, 'the node exits 0 after Shutdown');
  assert.notEqual(await watchExit, null);
  assert.ok(a.logs.some((l) => l.event === 'admin_call' && l.method === 'Shutdown'));
});
