import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FakeClock } from '../../../src/clock.ts';
import { PeerStateActions } from '../../../src/peers/actions.ts';
import { ConnectionManager } from '../../../src/peers/connection-manager.ts';
import { Pool } from '../../../src/pool/index.ts';
import { seededRng } from '../../../src/rng.ts';
import { recordingTelemetry } from '../../../src/telemetry/index.ts';
import { defaultConfig } from '../../fixtures/config.ts';
import { FakeConnection, scriptedProtocol } from '../../fixtures/fake-peer.ts';
import { metricValue } from '../../fixtures/wire-node.ts';

const POINTS = 5;

const command = fc.oneof(
  fc.record({
    op: fc.constantFrom(
      'establish',
      'activate',
      'deactivate',
      'close',
      'error',
      'remoteClose',
      'refuse',
    ),
    i: fc.nat(POINTS - 1),
  }),
  fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 8000 }) }),
);

test('pool and peers agree: hot ⊆ established ⊆ known, running points = live peers, gauges = truth', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(command, { maxLength: 40 }), async (commands) => {
      const clock = new FakeClock(0);
      const telemetry = recordingTelemetry();
      const config = defaultConfig();
      const pool = new Pool({
        clock,
        rng: seededRng(1),
        config: config.pool,
        metrics: telemetry.metrics,
      });
      const keepAlive = scriptedProtocol();
      const refusing = new Set<number>();
      const peers = new PeerStateActions({
        clock,
        rng: seededRng(2),
        telemetry,
        config: config.peers,
        bundles: {
          established: { keepAlive: keepAlive.starter },
          warm: {},
          hot: { gossip: scriptedProtocol().starter },
        },
        dial: async (p) => {
          if (refusing.has(p.port)) throw new Error('connection refused');
          return new FakeConnection(
            `mkpeer${p.port}`,
            'outbound',
            `${p.host}:${p.port}`,
          ).asConnection();
        },
      });
      const manager = new ConnectionManager({ clock, pool, peers, telemetry, sharingSecret: 's' });
      const point = (i: number) => ({ host: '127.0.0.9', port: 1000 + i });
      for (let i = 0; i < POINTS; i++) pool.addPoint(point(i), 'bootstrap');
      const pending: Promise<unknown>[] = [];
      for (const c of commands) {
        if (c.op === 'advance') {
          await clock.advance(c.ms);
          continue;
        }
        const handle = peers.handles.get(`mkpeer${1000 + c.i}`);
        switch (c.op) {
          case 'establish':
            if (
              pool.point(point(c.i))?.state === 'disconnected' ||
              pool.point(point(c.i))?.state === undefined
            ) {
              pending.push(manager.establish(point(c.i)).catch(() => {}));
            }
            break;
          case 'refuse':
            refusing.add(1000 + c.i);
            break;
          case 'activate':
            if (handle) pending.push(peers.activate(handle).catch(() => {}));
            break;
          case 'deactivate':
            if (handle) pending.push(peers.deactivate(handle).catch(() => {}));
            break;
          case 'close':
            if (handle) pending.push(peers.close(handle).catch(() => {}));
            break;
          case 'error':
            keepAlive.runs
              .filter((r) => !r.stopped)
              .at(0)
              ?.fails();
            break;
          case 'remoteClose':
            if (handle) (handle.connection as unknown as FakeConnection).remoteClose();
            break;
        }
        await clock.advance(0);
      }
      await clock.advance(30_000);
      await Promise.all(pending);

      const snapshot = pool.snapshot();
      const live = [...peers.handles.values()];
      for (const handle of live) {
        assert.ok(handle.status === 'warm' || handle.status === 'hot', 'hot ⊆ established');
        assert.ok(pool.peer(handle.peerId) !== undefined, 'established ⊆ known');
        const p = pool.point(handle.connection.point ?? '');
        assert.equal(p?.state, 'running', `the point of live peer ${handle.peerId} is running`);
      }
      const running = snapshot.points.filter((p) => p.state === 'running').length;
      assert.equal(running, live.length, 'no connection lost or duplicated');
      for (const state of ['requested', 'accepted', 'running', 'disconnected']) {
        const truth = snapshot.points.filter((p) => p.state === state).length;
        assert.equal(
          await metricValue({ telemetry }, 'meshkeeper_points', { state }),
          truth,
          state,
        );
      }
      for (const status of ['cooling', 'warm', 'hot'] as const) {
        const truth = live.filter((h) => h.status === status).length;
        assert.equal(
          await metricValue({ telemetry }, 'meshkeeper_peers', { status }),
          truth,
          status,
        );
      }
    }),
    { numRuns: Number(process.env.PROPERTY_RUNS ?? 200) },
  );
});
