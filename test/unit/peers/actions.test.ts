import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FakeClock } from '../../../src/clock.ts';
import type { PointSpec } from '../../../src/config/types.ts';
import { PeerStateActions } from '../../../src/peers/actions.ts';
import type { Bundles } from '../../../src/peers/bundles.ts';
import {
  DeactivationTimeout,
  EstablishConnectionError,
  MonitorPeerConnectionBlocked,
  PeerActionError,
} from '../../../src/peers/errors.ts';
import type { PeerHandle } from '../../../src/peers/handle.ts';
import { seededRng } from '../../../src/rng.ts';
import { type RecordingTelemetry, recordingTelemetry } from '../../../src/telemetry/index.ts';
import type { Connection } from '../../../src/wire/connection.ts';
import { DialError } from '../../../src/wire/transport.ts';
import { defaultConfig } from '../../fixtures/config.ts';
import { type Behaviour, FakeConnection, scriptedProtocol } from '../../fixtures/fake-peer.ts';
import { metricValue } from '../../fixtures/wire-node.ts';

const point: PointSpec = { host: '127.0.0.9', port: 9740 };

function setup(
  opts: {
    hot?: Behaviour;
    established?: Behaviour;
    dial?: (p: PointSpec) => Promise<Connection>;
  } = {},
) {
  const clock = new FakeClock(0);
  const telemetry: RecordingTelemetry = recordingTelemetry();
  const keepAlive = scriptedProtocol(opts.established ?? 'cooperative');
  const gossip = scriptedProtocol(opts.hot ?? 'cooperative');
  const bundles: Bundles = {
    established: { keepAlive: keepAlive.starter },
    warm: {},
    hot: { gossip: gossip.starter },
  };
  const connections: FakeConnection[] = [];
  const dial =
    opts.dial ??
    (async (p: PointSpec) => {
      const c = new FakeConnection(
        `mkpeer${connections.length}`,
        'outbound',
        `${p.host}:${p.port}`,
      );
      connections.push(c);
      return c.asConnection();
    });
  const actions = new PeerStateActions({
    clock,
    rng: seededRng(1),
    telemetry,
    config: defaultConfig().peers,
    bundles,
    dial,
  });
  const gauge = (status: string) => metricValue({ telemetry }, 'meshkeeper_peers', { status });
  const failures = (transition: string, reason: string) =>
    metricValue({ telemetry }, 'meshkeeper_peer_transition_failures_total', { transition, reason });
  return { clock, telemetry, actions, keepAlive, gossip, connections, gauge, failures };
}

async function hotPeer(s: ReturnType<typeof setup>): Promise<PeerHandle> {
  const handle = await s.actions.establish(point);
  await s.actions.activate(handle);
  return handle;
}

function illegal(code = 'IllegalTransition') {
  return (e: unknown) => e instanceof PeerActionError && e.code === code;
}

describe('establish (cold → warm)', () => {
  test('dials, starts the established bundle and the peer is warm', async () => {
    const s = setup();
    const handle = await s.actions.establish(point);
    assert.equal(handle.status, 'warm');
    assert.equal(s.keepAlive.runs.length, 1);
    assert.equal(await s.gauge('warm'), 1);
    assert.equal(
      await metricValue(s, 'meshkeeper_peer_transitions_total', { from: 'cold', to: 'warm' }),
      1,
    );
    assert.ok(
      s.telemetry.logs.some(
        (l) => l.event === 'peer_status_changed' && l.transition === 'ColdToWarm',
      ),
    );
    assert.ok(s.telemetry.spans().some((sp) => sp.name === 'peer.establish'));
  });

  test('a peer already connected is reused, never dialed twice', async () => {
    const s = setup();
    const first = await s.actions.establish(point);
    const again = await s.actions.establish(point);
    assert.equal(again, first);
    assert.equal(s.connections.length, 1);
  });

  test('an inbound connection already there is reused when the dial is refused already_connected', async () => {
    const inbound = new FakeConnection('mkinbound', 'inbound');
    const s = setup({
      dial: async () => {
        throw new DialError('refused', 'dup', {
          refusal: { reason: 'already_connected', alternatives: [] },
          peerId: 'mkinbound',
        });
      },
    });
    const adopted = s.actions.adopt(inbound.asConnection());
    assert.equal(await s.actions.establish(point), adopted);
  });

  /** A dial the remote refuses already_connected: the peer's other connection won. */
  const lostRace = async (): Promise<Connection> => {
    throw new DialError('refused', 'dup', {
      refusal: { reason: 'already_connected', alternatives: [] },
      peerId: 'mkinbound',
    });
  };

  test('simultaneous open: a dial that lost waits for the winning connection to become the peer', async () => {
    const s = setup({ dial: lostRace });
    const establishing = s.actions.establish(point);
    await s.clock.advance(1000); // the winner is still in its handshake
    const adopted = s.actions.adopt(new FakeConnection('mkinbound', 'inbound').asConnection());
    assert.equal(await establishing, adopted);
    assert.equal(await s.failures('ColdToWarm', 'HandshakeServerFailure'), 0);
  });

  test('simultaneous open: when no winner arrives within reuseWaitMs, the refusal is the failure', async () => {
    const s = setup({ dial: lostRace });
    const establishing = assert.rejects(s.actions.establish(point), (e: unknown) => {
      assert.ok(e instanceof EstablishConnectionError);
      assert.equal(e.code, 'HandshakeServerFailure');
      return true;
    });
    await s.clock.advance(defaultConfig().wire.handshakeTimeoutMs);
    await establishing;
    assert.equal(await s.failures('ColdToWarm', 'HandshakeServerFailure'), 1);
  });

  const failures: Array<[string, DialError, string]> = [
    [
      'a refusal by the remote',
      new DialError('refused', 'no', { refusal: { reason: 'banned', alternatives: [] } }),
      'HandshakeServerFailure',
    ],
    [
      'a handshake that timed out',
      new DialError('handshake_timeout', 'slow'),
      'HandshakeClientFailure',
    ],
    ['an identity mismatch', new DialError('unexpected_peer_id', 'who'), 'HandshakeClientFailure'],
    ['a TCP error', new DialError('connect_error', 'ECONNREFUSED'), 'HandleFailure'],
  ];
  for (const [what, error, type] of failures) {
    test(`${what} fails with ${type}, counted and traced`, async () => {
      const s = setup({ dial: async () => Promise.reject(error) });
      await assert.rejects(s.actions.establish(point), (e: unknown) => {
        assert.ok(e instanceof PeerActionError);
        assert.equal(e.code, type);
        assert.equal(e instanceof EstablishConnectionError, type !== 'HandleFailure');
        return true;
      });
      assert.equal(await s.failures('ColdToWarm', type), 1);
      assert.ok(
        s.telemetry.logs.some((l) => l.event === 'peer_status_change_failure' && l.reason === type),
      );
      assert.equal(s.actions.handles.size, 0);
    });
  }
});

describe('activate (warm → hot)', () => {
  test('starts the hot bundle', async () => {
    const s = setup();
    const handle = await hotPeer(s);
    assert.equal(handle.status, 'hot');
    assert.equal(s.gossip.runs.length, 1);
    assert.equal(await s.gauge('hot'), 1);
    assert.equal(await s.gauge('warm'), 0);
  });

  test('from cold: ActiveCold, nothing changes', async () => {
    const s = setup();
    const handle = await s.actions.establish(point);
    await s.actions.close(handle);
    await assert.rejects(s.actions.activate(handle), illegal('ActiveCold'));
    assert.equal(handle.status, 'cold');
    assert.equal(s.gossip.runs.length, 0);
    assert.equal(await s.failures('WarmToHot', 'ActiveCold'), 1);
  });

  test('from cooling: ActiveCold, nothing changes', async () => {
    const s = setup({ established: 'stubborn' });
    const handle = await s.actions.establish(point);
    const closing = s.actions.close(handle);
    assert.equal(handle.status, 'cooling');
    await assert.rejects(s.actions.activate(handle), illegal('ActiveCold'));
    assert.equal(handle.status, 'cooling');
    await s.clock.advance(5000);
    await closing;
  });

  test('from hot: IllegalTransition, nothing changes', async () => {
    const s = setup();
    const handle = await hotPeer(s);
    await assert.rejects(s.actions.activate(handle), illegal());
    assert.equal(s.gossip.runs.length, 1);
  });
});

describe('deactivate (hot → warm)', () => {
  test('stops the hot protocols (last-to-finish) and the peer is warm again', async () => {
    const s = setup();
    const handle = await hotPeer(s);
    await s.actions.deactivate(handle);
    assert.equal(handle.status, 'warm');
    assert.ok(s.gossip.runs[0]?.stopped);
    assert.equal(s.keepAlive.runs[0]?.stopped, false, 'established protocols keep running');
    assert.equal(await s.gauge('warm'), 1);
  });

  test('a hot protocol that will not stop: TimeoutError, cooling → cold, DeactivationTimeout', async () => {
    const s = setup({ hot: 'stubborn' });
    const handle = await hotPeer(s);
    const result = s.actions.deactivate(handle).then(
      () => undefined,
      (e: unknown) => e,
    );
    await s.clock.advance(4999);
    assert.equal(handle.status, 'hot', 'still waiting before the timeout');
    await s.clock.advance(1);
    const error = await result;
    assert.ok(error instanceof DeactivationTimeout);
    assert.equal(error.code, 'TimeoutError');
    assert.equal(await s.failures('HotToCooling', 'TimeoutError'), 1);
    assert.ok(s.connections[0]?.isClosed, 'the connection is closed');
    await s.clock.advance(5000);
    assert.equal(handle.status, 'cold');
    assert.equal(
      await metricValue(s, 'meshkeeper_peer_transitions_total', { from: 'hot', to: 'cooling' }),
      1,
    );
    assert.equal(
      await metricValue(s, 'meshkeeper_peer_transitions_total', { from: 'cooling', to: 'cold' }),
      1,
    );
  });

  for (const status of ['warm', 'cooling', 'cold'] as const) {
    test(`from ${status}: IllegalTransition, nothing changes`, async () => {
      const s = setup({ established: 'stubborn' });
      const handle = await s.actions.establish(point);
      let closing: Promise<void> | undefined;
      if (status === 'cooling') closing = s.actions.close(handle);
      if (status === 'cold') {
        closing = s.actions.close(handle);
        await s.clock.advance(5000);
      }
      await assert.rejects(s.actions.deactivate(handle), illegal());
      assert.equal(handle.status, status);
      await s.clock.advance(5000);
      await closing;
    });
  }
});

describe('close (warm/hot → cooling → cold)', () => {
  for (const from of ['warm', 'hot'] as const) {
    test(`from ${from}: stops every bundle, closes the connection, cold`, async () => {
      const s = setup();
      const handle = from === 'hot' ? await hotPeer(s) : await s.actions.establish(point);
      await s.actions.close(handle);
      assert.equal(handle.status, 'cold');
      assert.ok(s.connections[0]?.isClosed);
      assert.ok(s.keepAlive.runs.every((r) => r.stopped));
      assert.equal(s.actions.handles.size, 0);
      assert.equal(await s.gauge(from), 0);
      assert.equal(await s.gauge('cooling'), 0);
    });
  }

  test('protocols that will not stop: closed anyway at closeTimeout, TimeoutError', async () => {
    const s = setup({ established: 'stubborn' });
    const handle = await s.actions.establish(point);
    const closing = s.actions.close(handle);
    await s.clock.advance(4999);
    assert.equal(handle.status, 'cooling');
    await s.clock.advance(1);
    await closing;
    assert.equal(handle.status, 'cold');
    assert.equal(await s.failures('WarmToCooling', 'TimeoutError'), 1);
  });

  for (const status of ['cooling', 'cold'] as const) {
    test(`from ${status}: IllegalTransition`, async () => {
      const s = setup({ established: 'stubborn' });
      const handle = await s.actions.establish(point);
      const closing = s.actions.close(handle);
      if (status === 'cold') await s.clock.advance(5000);
      await assert.rejects(s.actions.close(handle), illegal());
      await s.clock.advance(5000);
      await closing;
    });
  }
});

describe('monitoring loop (first-to-finish)', () => {
  test('a mini-protocol error: cooling → cold, ApplicationFailure, repromote delay 10 s ± 2 s', async () => {
    const s = setup();
    const handle = await hotPeer(s);
    s.keepAlive.runs[0]?.fails();
    await handle.cold;
    assert.equal(handle.status, 'cold');
    assert.equal(await s.failures('HotToCooling', 'ApplicationFailure'), 1);
    assert.equal(s.actions.monitor(handle).lastResult?.outcome, 'error');
    assert.ok(s.telemetry.logs.some((l) => l.event === 'peer_monitoring_error'));
    const at = s.actions.repromoteAt(handle.peerId);
    assert.ok(at !== undefined && at >= 8000 && at <= 12000, String(at));
    await s.clock.advance(12_001);
    assert.equal(s.actions.repromoteAt(handle.peerId), undefined);
  });

  test('a hot protocol returning: deactivated to warm', async () => {
    const s = setup();
    const handle = await hotPeer(s);
    s.gossip.runs[0]?.returns();
    await s.clock.advance(0);
    assert.equal(handle.status, 'warm');
    assert.deepEqual(
      { ...s.actions.monitor(handle).lastResult, error: undefined },
      { temperature: 'hot', protocol: 'gossip', outcome: 'returned', error: undefined },
    );
    assert.ok(s.telemetry.logs.some((l) => l.event === 'peer_monitoring_result'));
  });

  test('an established protocol returning: the connection is closed', async () => {
    const s = setup();
    const handle = await s.actions.establish(point);
    s.keepAlive.runs[0]?.returns();
    await handle.cold;
    assert.ok(s.connections[0]?.isClosed);
    assert.equal(await s.failures('WarmToCooling', 'ApplicationFailure'), 0);
  });

  test('the remote closing the connection: MuxStoppedFailure, cold', async () => {
    const s = setup({ established: 'stubborn' });
    const handle = await s.actions.establish(point);
    s.connections[0]?.remoteClose();
    await s.clock.advance(5000);
    await handle.cold;
    assert.equal(await s.failures('WarmToCooling', 'MuxStoppedFailure'), 1);
  });

  test('monitor never waits, even while a close is pending', async () => {
    const s = setup({ established: 'stubborn' });
    const handle = await s.actions.establish(point);
    const closing = s.actions.close(handle);
    let result: unknown;
    assert.doesNotThrow(() => {
      result = s.actions.monitor(handle);
    });
    assert.equal((result as { status: string }).status, 'cooling');
    assert.ok(!(result instanceof MonitorPeerConnectionBlocked));
    await s.clock.advance(5000);
    await closing;
  });
});
