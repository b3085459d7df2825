import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { readiness } from '../../../src/http/readiness.ts';
import type { PoolSnapshot } from '../../../src/pool/index.ts';
import { makePool, peerId } from '../../unit/pool/helpers.ts';
import { Cleanup, HTTP_PORT, type MeshNode, P2P_PORT, startMeshNode, until } from './harness.ts';

/*
 * /readyz (DESIGN §8): ready within the start-up grace on listening alone; after it, ready when
 * established ≥ connections.min or no usable point is known; the body says why. /healthz never
 * looks at peers. First the rule as a table, then real nodes.
 */

const A = { host: '10.0.0.1', port: 9740 };
const B = { host: '10.0.0.2', port: 9740 };
const grace = 30_000;
const afterGrace = grace + 1;

interface Case {
  name: string;
  nowMs: number;
  established: number;
  /** Builds the pool; returns the peer ids connected. */
  setup?: (pool: ReturnType<typeof makePool>['pool']) => string[];
  privateMode?: boolean;
  ready: boolean;
  reason: RegExp;
}

const cases: Case[] = [
  {
    name: 'within the grace, with no peer and points to dial: ready (listening)',
    nowMs: grace - 1500,
    established: 0,
    setup: (pool) => {
      pool.addPoint(A, 'bootstrap');
      return [];
    },
    ready: true,
    reason: /^listening, identity loaded; start-up grace \(2 s left\); 0 established, min 2$/,
  },
  {
    name: 'after the grace, established ≥ min: ready',
    nowMs: afterGrace,
    established: 2,
    setup: (pool) => {
      pool.addPoint(A, 'bootstrap');
      return [];
    },
    ready: true,
    reason: /^2 established, min 2: min reached$/,
  },
  {
    name: 'after the grace, below min, a point to dial: not ready',
    nowMs: afterGrace,
    established: 1,
    setup: (pool) => {
      pool.addPoint(A, 'bootstrap');
      return [];
    },
    ready: false,
    reason: /^1 established, min 2: below min after the start-up grace; 1 usable point known$/,
  },
  {
    name: 'after the grace, below min, a point in backoff after a failure: not ready (dialed again)',
    nowMs: afterGrace,
    established: 0,
    setup: (pool) => {
      pool.addPoint(A, 'bootstrap');
      pool.dialStarted(A);
      pool.dialFailed(A, 'connect_error');
      return [];
    },
    ready: false,
    reason: /1 usable point known$/,
  },
  {
    name: 'after the grace, below min, a dial under way: not ready',
    nowMs: afterGrace,
    established: 0,
    setup: (pool) => {
      pool.addPoint(A, 'bootstrap');
      pool.dialStarted(A);
      return [];
    },
    ready: false,
    reason: /1 usable point known$/,
  },
  {
    name: 'after the grace, below min, no point known: ready (waiting to be dialed)',
    nowMs: afterGrace,
    established: 0,
    ready: true,
    reason: /^0 established, min 2: below min, but no usable point known/,
  },
  {
    name: 'after the grace, below min, every point connected: ready',
    nowMs: afterGrace,
    established: 1,
    setup: (pool) => {
      pool.addPoint(A, 'bootstrap');
      pool.dialStarted(A);
      pool.connected(A, peerId(1));
      return [peerId(1)];
    },
    ready: true,
    reason: /no usable point known/,
  },
  {
    name: 'after the grace, below min, the point’s peer is connected from another address: ready',
    nowMs: afterGrace,
    established: 1,
    setup: (pool) => {
      pool.addPoint(A, 'bootstrap');
      pool.dialStarted(A);
      pool.connected(A, peerId(1));
      pool.disconnected(A);
      return [peerId(1)];
    },
    ready: true,
    reason: /no usable point known/,
  },
  {
    name: 'after the grace, below min, the only point on a banned IP: ready',
    nowMs: afterGrace,
    established: 0,
    setup: (pool) => {
      pool.addPoint(A, 'bootstrap');
      pool.ban({ kind: 'ip', ip: A.host });
      return [];
    },
    ready: true,
    reason: /no usable point known/,
  },
  {
    name: 'after the grace, below min, only our own address: ready',
    nowMs: afterGrace,
    established: 0,
    setup: (pool) => {
      pool.addOwnAddress(A);
      pool.addPoint(A, 'bootstrap');
      return [];
    },
    ready: true,
    reason: /no usable point known/,
  },
  {
    name: 'private mode, below min: an untrusted point is not usable, a trusted one is',
    nowMs: afterGrace,
    established: 0,
    privateMode: true,
    setup: (pool) => {
      pool.addPoint(A, 'inbound');
      pool.trustPoint(B);
      return [];
    },
    ready: false,
    reason: /1 usable point known$/,
  },
];

for (const c of cases) {
  test(`readiness rule: ${c.name}`, () => {
    const { pool } = makePool({ privateMode: c.privateMode ?? false });
    const connected = c.setup?.(pool) ?? [];
    const snapshot: PoolSnapshot = pool.snapshot();
    const result = readiness({
      nowMs: c.nowMs,
      startedAtMs: 0,
      graceMs: grace,
      established: c.established,
      min: 2,
      snapshot,
      connectedPeers: new Set(connected),
    });
    assert.equal(result.ready, c.ready, result.reason);
    assert.match(result.reason, c.reason);
  });
}

const cleanup = new Cleanup();
after(() => cleanup.run());

interface Probe {
  atMs: number;
  status: number;
  body: string;
}

/** Polls /readyz and /healthz every 100 ms until stopped. */
function watch(node: MeshNode): { ready: Probe[]; health: Probe[]; stop(): void } {
  const ready: Probe[] = [];
  const health: Probe[] = [];
  const started = Date.now();
  let stopped = false;
  const loop = async (): Promise<void> => {
    while (!stopped) {
      for (const [path, into] of [
        ['/readyz', ready],
        ['/healthz', health],
      ] as const) {
        try {
          const r = await fetch(`${node.httpUrl}${path}`, { signal: AbortSignal.timeout(1000) });
          into.push({ atMs: Date.now() - started, status: r.status, body: await r.text() });
        } catch {
          // not listening yet
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  void loop();
  return {
    ready,
    health,
    stop: () => {
      stopped = true;
    },
  };
}

test('/readyz on a real node: ready in the grace, not ready after it below min, ready once min is reached; /healthz 200 throughout', async () => {
  const [x, y, z] = ['127.0.12.1', '127.0.12.2', '127.0.12.3'];
  const bounds = ['--connections-min=2', '--connections-expected=2', '--connections-max=4'];
  const node = startMeshNode(cleanup, x, {
    flags: [...bounds, '--http-ready-grace=3s', `--bootstrap=${y}:${P2P_PORT},${z}:${P2P_PORT}`],
  });
  const probes = watch(node);
  try {
    await node.waitForLog((l) => l.event === 'node_started' && l.http === HTTP_PORT);
    await until(
      async () => probes.ready.at(-1),
      (p) => p?.status === 503,
      15_000,
      'not ready after the grace',
    );
    const notReady = probes.ready.at(-1);
    assert.match(
      notReady?.body ?? '',
      /^not ready: 0 established, min 2: below min after the start-up grace; 2 usable points known\n$/,
    );
    // The peers it knows come up and dial it: 2 established.
    for (const host of [y, z]) {
      startMeshNode(cleanup, host, {
        flags: [...bounds, `--bootstrap=${x}:${P2P_PORT}`],
      });
    }
    await until(
      async () => probes.ready.at(-1),
      (p) => p?.status === 200 && p.body.includes('min reached'),
      30_000,
      'ready once min is reached',
    );
  } finally {
    probes.stop();
  }
  const statuses = probes.ready.map((p) => p.status);
  const firstNotReady = statuses.indexOf(503);
  assert.ok(firstNotReady > 0, 'ready before the grace ended');
  assert.ok(
    probes.ready.slice(0, firstNotReady).every((p) => p.body.includes('start-up grace')),
    'the grace is why it was ready',
  );
  assert.equal(statuses.at(-1), 200);
  assert.ok(probes.health.length >= statuses.length - 1);
  assert.deepEqual(
    probes.health.filter((p) => p.status !== 200),
    [],
    'healthz is 200 throughout',
  );
});

test('/readyz on a real node: alone with no usable point known, ready after the grace (and says so)', async () => {
  const node = startMeshNode(cleanup, '127.0.12.5', {
    flags: ['--connections-min=2', '--http-ready-grace=1s'],
  });
  await node.waitForLog((l) => l.event === 'node_started');
  const response = await until(
    async () => {
      const r = await fetch(`${node.httpUrl}/readyz`);
      return { status: r.status, body: await r.text() };
    },
    (p) => !p.body.includes('start-up grace'),
    10_000,
    'grace over',
  );
  assert.equal(response.status, 200);
  assert.match(response.body, /^ready: 0 established, min 2: below min, but no usable point known/);
  assert.equal((await fetch(`${node.httpUrl}/healthz`)).status, 200);
});
