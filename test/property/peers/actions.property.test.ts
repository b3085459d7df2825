import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FakeClock } from '../../../src/clock.ts';
import { PeerStateActions } from '../../../src/peers/actions.ts';
import { peerStatuses, transitionOf } from '../../../src/peers/status.ts';
import { seededRng } from '../../../src/rng.ts';
import { recordingTelemetry } from '../../../src/telemetry/index.ts';
import { defaultConfig } from '../../fixtures/config.ts';
import { FakeConnection, scriptedProtocol } from '../../fixtures/fake-peer.ts';
import { metricValue } from '../../fixtures/wire-node.ts';

const PEERS = 4;

const command = fc.oneof(
  fc.record({
    op: fc.constantFrom(
      'establish',
      'adopt',
      'activate',
      'deactivate',
      'close',
      'error',
      'hotReturn',
      'remoteClose',
    ),
    peer: fc.nat(PEERS - 1),
  }),
  fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 6000 }) }),
);

test('random interleavings keep the peer layer consistent', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(command, { maxLength: 40 }),
      fc.constantFrom('cooperative', 'stubborn'),
      async (commands, hotBehaviour) => {
        const clock = new FakeClock(0);
        const telemetry = recordingTelemetry();
        const keepAlive = scriptedProtocol('cooperative');
        const gossip = scriptedProtocol(hotBehaviour as 'cooperative' | 'stubborn');
        const connections: FakeConnection[] = [];
        const dialed = new Map<number, FakeConnection[]>();
        const actions = new PeerStateActions({
          clock,
          rng: seededRng(7),
          telemetry,
          config: defaultConfig().peers,
          bundles: {
            established: { keepAlive: keepAlive.starter },
            warm: {},
            hot: { gossip: gossip.starter },
          },
          dial: async (p) => {
            const c = new FakeConnection(`mkpeer${p.port}`, 'outbound', `${p.host}:${p.port}`);
            connections.push(c);
            dialed.set(p.port, [...(dialed.get(p.port) ?? []), c]);
            return c.asConnection();
          },
        });
        const pending: Promise<unknown>[] = [];
        const handleOf = (peer: number) => actions.handles.get(`mkpeer${peer}`);
        for (const c of commands) {
          if (c.op === 'advance') {
            await clock.advance(c.ms);
            continue;
          }
          const handle = handleOf(c.peer);
          switch (c.op) {
            case 'establish':
              pending.push(actions.establish({ host: '127.0.0.9', port: c.peer }).catch(() => {}));
              break;
            case 'adopt':
              if (handle === undefined) {
                const inbound = new FakeConnection(`mkpeer${c.peer}`, 'inbound');
                connections.push(inbound);
                actions.adopt(inbound.asConnection());
              }
              break;
            case 'activate':
              if (handle) pending.push(actions.activate(handle).catch(() => {}));
              break;
            case 'deactivate':
              if (handle) pending.push(actions.deactivate(handle).catch(() => {}));
              break;
            case 'close':
              if (handle) pending.push(actions.close(handle).catch(() => {}));
              break;
            case 'error':
              keepAlive.runs
                .filter((r) => !r.stopped)
                .at(c.peer % Math.max(1, keepAlive.runs.length))
                ?.fails();
              break;
            case 'hotReturn':
              gossip.runs
                .filter((r) => !r.stopped)
                .at(0)
                ?.returns();
              break;
            case 'remoteClose':
              if (handle) (handle.connection as unknown as FakeConnection).remoteClose();
              break;
          }
          await clock.advance(0);
        }
        await clock.advance(20_000);
        await Promise.all(pending);

        // Every transition logged is one the state machine has.
        for (const line of telemetry.logs.filter((l) => l.event === 'peer_status_changed')) {
          assert.ok(
            transitionOf(line.from as never, line.to as never),
            `${line.from} → ${line.to}`,
          );
        }
        // One live handle per peer, on an open connection; hot ⊆ established.
        for (const [peerId, handle] of actions.handles) {
          assert.equal(handle.peerId, peerId);
          assert.ok(handle.status === 'warm' || handle.status === 'hot', handle.status);
          assert.ok(!handle.connection.isClosed, 'a live peer has an open connection');
        }
        // No connection leaked: every open connection belongs to a live handle.
        const live = new Set([...actions.handles.values()].map((h) => h.connection as unknown));
        for (const c of connections)
          assert.ok(c.isClosed || live.has(c), `open connection to ${c.peerId} with no peer`);
        // Gauges equal the truth.
        for (const status of peerStatuses.filter((s) => s !== 'cold')) {
          const truth = [...actions.handles.values()].filter((h) => h.status === status).length;
          assert.equal(
            await metricValue({ telemetry }, 'meshkeeper_peers', { status }),
            truth,
            status,
          );
        }
      },
    ),
    { numRuns: Number(process.env.PROPERTY_RUNS ?? 300) },
  );
});
