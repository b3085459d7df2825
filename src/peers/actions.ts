import type { Clock } from '../clock.ts';
import { formatAddress } from '../config/address.ts';
import type { Config, PointSpec } from '../config/types.ts';
import { jitter, type Rng } from '../rng.ts';
import type { Telemetry } from '../telemetry/index.ts';
import { withSpan } from '../telemetry/index.ts';
import { observe } from '../telemetry/metrics.ts';
import type { Connection } from '../wire/connection.ts';
import type { WireError } from '../wire/errors.ts';
import { DialError } from '../wire/transport.ts';
import type { Bundles, Temperature } from './bundles.ts';
import {
  DeactivationTimeout,
  EstablishConnectionError,
  type FailureType,
  PeerActionError,
} from './errors.ts';
import { type FirstToFinishResult, PeerHandle, type RunningProtocol } from './handle.ts';
import { type PeerStatus, type Transition, transitionOf } from './status.ts';

export interface PeerStateActionsDeps {
  clock: Clock;
  rng: Rng;
  telemetry: Telemetry;
  config: Config['peers'];
  bundles: Bundles;
  /** Dials and handshakes a point (the transport). */
  dial: (point: PointSpec) => Promise<Connection>;
  /** Told of every status change, after it happened. */
  onStatusChange?: (handle: PeerHandle, from: PeerStatus, to: PeerStatus) => void;
  /**
   * How long `establish`, refused `already_connected`, waits for the connection that won to
   * become a peer (it may still be in its handshake): the wire's handshake timeout.
   */
  reuseWaitMs?: number;
}

export interface MonitorResult {
  status: PeerStatus;
  lastResult: FirstToFinishResult | undefined;
}

/** How many peers' repromote deadlines are remembered; the oldest go first. */
const MAX_REPROMOTE_ENTRIES = 10_000;
/** Cardano's repromote delay after an error is 10 s; ±2 s spreads reconnection storms. */
const REPROMOTE_JITTER = 0.2;
/** `wire.handshakeTimeout`'s default (DESIGN §3), for deps that do not say. */
const DEFAULT_REUSE_WAIT_MS = 5000;

/**
 * Cardano's PeerStateActions (DESIGN §5): synchronous establish / activate / deactivate / close,
 * a monitoring loop reacting to the first mini-protocol to finish, and last-to-finish, bounded
 * demotions. Each connection is a PeerHandle; this class is the only one that changes it.
 */
export class PeerStateActions {
  readonly #deps: PeerStateActionsDeps;
  readonly #handles = new Map<string, PeerHandle>();
  readonly #repromoteAt = new Map<string, number>();
  /** establish calls waiting for a peer's winning connection to arrive, by peer id. */
  readonly #arrivals = new Map<string, Set<(handle: PeerHandle | undefined) => void>>();

  constructor(deps: PeerStateActionsDeps) {
    this.#deps = deps;
  }

  /** Live (not cold) peers, by peer id. */
  get handles(): ReadonlyMap<string, PeerHandle> {
    return this.#handles;
  }

  /** When a peer demoted by an error may be promoted again (undefined: now). */
  repromoteAt(peerId: string): number | undefined {
    const at = this.#repromoteAt.get(peerId);
    if (at !== undefined && at <= this.#deps.clock.now()) {
      this.#repromoteAt.delete(peerId);
      return undefined;
    }
    return at;
  }

  /**
   * cold → warm: dials `point` (or reuses the connection the peer already has with us, inbound
   * included: never a second one), starts the established and warm bundles and the monitoring.
   */
  async establish(point: PointSpec): Promise<PeerHandle> {
    const reused = this.#reusable(point);
    if (reused !== undefined) return reused;
    const { telemetry } = this.#deps;
    return withSpan(
      telemetry.tracer,
      'peer.establish',
      { attributes: { 'meshkeeper.point': formatAddress(point) } },
      async (span) => {
        let connection: Connection;
        try {
          connection = await this.#deps.dial(point);
        } catch (error) {
          if (
            error instanceof DialError &&
            error.refusal?.reason === 'already_connected' &&
            error.peerId !== undefined
          ) {
            // Simultaneous open: the connection that won (the lower id's) may still be in its
            // handshake here; once it is a peer, it is the one this establish asked for. A peer
            // cooling down holds the connection that refused us: nothing else will arrive.
            const { peerId } = error;
            const winner =
              this.#live(peerId) ??
              (this.#handles.has(peerId) ? undefined : await this.#arrival(peerId));
            if (winner !== undefined) return winner;
          }
          throw this.#establishFailure(point, error);
        }
        span.setAttribute('meshkeeper.peer_id', connection.peerId);
        return this.#start(connection);
      },
    );
  }

  /** An inbound connection becomes a warm peer: same bundles and monitoring as an outbound one. */
  adopt(connection: Connection): PeerHandle {
    return this.#start(connection);
  }

  /** warm → hot: starts the hot bundle. From cold or cooling: `ActiveCold`, nothing changes. */
  async activate(handle: PeerHandle): Promise<void> {
    if (handle.status === 'cold' || handle.status === 'cooling') {
      const error = new PeerActionError(
        'ActiveCold',
        handle.status,
        `${handle.peerId} is ${handle.status}`,
        {
          transition: 'WarmToHot',
        },
      );
      this.#failure('WarmToHot', 'ActiveCold', handle, error);
      throw error;
    }
    this.#expect(handle, 'warm', 'activate');
    await withSpan(this.#deps.telemetry.tracer, 'peer.activate', this.#attrs(handle), () => {
      this.#startBundle(handle, 'hot');
      this.#setStatus(handle, 'hot');
    });
  }

  /**
   * hot → warm: stops the hot protocols and waits for all of them (last-to-finish) up to
   * `deactivateTimeout`. On timeout the connection is closed, the peer goes hot → cooling → cold
   * and `DeactivationTimeout` is thrown.
   */
  async deactivate(handle: PeerHandle): Promise<void> {
    this.#expect(handle, 'hot', 'deactivate');
    handle.busy = 'deactivating';
    const { config, telemetry } = this.#deps;
    await withSpan(telemetry.tracer, 'peer.deactivate', this.#attrs(handle), async () => {
      const stopped = await this.#stopAll(handle, 'hot', config.deactivateTimeoutMs);
      if (handle.busy !== 'deactivating' || handle.status !== 'hot') return; // overtaken by close/error
      handle.busy = undefined;
      if (stopped) {
        for (const p of handle.protocols('hot')) handle.running.delete(key(p.temperature, p.name));
        this.#setStatus(handle, 'warm');
        return;
      }
      const error = new DeactivationTimeout(handle.peerId, config.deactivateTimeoutMs);
      this.#failure('HotToCooling', 'TimeoutError', handle, error);
      void this.#demoteToCold(handle);
      throw error;
    });
  }

  /**
   * warm/hot → cooling → cold: stops every bundle, waits for all (last-to-finish) up to
   * `closeTimeout`, then closes the connection; on timeout it closes it anyway (`TimeoutError`).
   */
  async close(handle: PeerHandle): Promise<void> {
    if (handle.status !== 'warm' && handle.status !== 'hot') {
      throw new PeerActionError(
        'IllegalTransition',
        handle.status,
        `close: ${handle.peerId} is ${handle.status}`,
      );
    }
    if (handle.busy === 'closing')
      throw new PeerActionError('IllegalTransition', handle.status, 'already closing');
    await withSpan(this.#deps.telemetry.tracer, 'peer.close', this.#attrs(handle), async () => {
      handle.busy = 'closing';
      const from = handle.status;
      this.#setStatus(handle, 'cooling');
      const stopped = await this.#stopAll(handle, undefined, this.#deps.config.closeTimeoutMs);
      if (!stopped) {
        this.#failure(from === 'hot' ? 'HotToCooling' : 'WarmToCooling', 'TimeoutError', handle);
      }
      handle.connection.close();
      await handle.connection.closed;
      this.#toCold(handle);
    });
  }

  /** The peer's status and the last first-to-finish result, at once: it never waits. */
  monitor(handle: PeerHandle): MonitorResult {
    return { status: handle.status, lastResult: handle.lastResult };
  }

  /** Closes every live peer (shutdown), each bounded by its close timeout. */
  async closeAll(): Promise<void> {
    await Promise.allSettled(
      [...this.#handles.values()].map(async (handle) => {
        if (handle.busy === 'closing' || handle.status === 'cooling') return handle.cold;
        return this.close(handle);
      }),
    );
  }

  #reusable(point: PointSpec): PeerHandle | undefined {
    const pointKey = formatAddress(point);
    for (const handle of this.#handles.values()) {
      if (handle.status !== 'warm' && handle.status !== 'hot') continue;
      if (handle.peerId === point.peerId || handle.connection.point === pointKey) return handle;
    }
    return undefined;
  }

  #live(peerId: string): PeerHandle | undefined {
    const handle = this.#handles.get(peerId);
    return handle !== undefined && (handle.status === 'warm' || handle.status === 'hot')
      ? handle
      : undefined;
  }

  /** The peer's next connection to start, or undefined if none does within `reuseWaitMs`. */
  #arrival(peerId: string): Promise<PeerHandle | undefined> {
    const waiters = this.#arrivals.get(peerId) ?? new Set();
    this.#arrivals.set(peerId, waiters);
    return new Promise((resolve) => {
      const done = (handle: PeerHandle | undefined): void => {
        timer.cancel();
        waiters.delete(done);
        if (waiters.size === 0 && this.#arrivals.get(peerId) === waiters) {
          this.#arrivals.delete(peerId);
        }
        resolve(handle);
      };
      const timer = this.#deps.clock.setTimeout(
        () => done(undefined),
        this.#deps.reuseWaitMs ?? DEFAULT_REUSE_WAIT_MS,
      );
      waiters.add(done);
    });
  }

  #establishFailure(point: PointSpec, error: unknown): PeerActionError {
    const type: FailureType = !(error instanceof DialError)
      ? 'HandleFailure'
      : error.code === 'refused'
        ? 'HandshakeServerFailure'
        : handshakeClientFailures.has(error.code)
          ? 'HandshakeClientFailure'
          : 'HandleFailure';
    const message = `establish ${formatAddress(point)}: ${error instanceof Error ? error.message : String(error)}`;
    const failure =
      type === 'HandleFailure'
        ? new PeerActionError('HandleFailure', 'cold', message, {
            transition: 'ColdToWarm',
            cause: error,
          })
        : new EstablishConnectionError(type, message, error);
    this.#failure('ColdToWarm', type, undefined, failure, formatAddress(point));
    return failure;
  }

  #start(connection: Connection): PeerHandle {
    // The transport keeps one connection per peer; should a second slip through (a race with a
    // connection still closing), the live peer keeps its connection and the newcomer goes.
    const live = this.#live(connection.peerId);
    if (live !== undefined) {
      connection.close();
      return live;
    }
    const { metrics } = this.#deps.telemetry;
    const handle = new PeerHandle(connection, (rtt) => observe(metrics.keepAliveRtt, {}, rtt));
    this.#handles.set(connection.peerId, handle);
    this.#startBundle(handle, 'established');
    this.#startBundle(handle, 'warm');
    this.#setStatus(handle, 'warm');
    void connection.closed.then((error) => this.#onMuxStopped(handle, error));
    for (const arrived of [...(this.#arrivals.get(connection.peerId) ?? [])]) arrived(handle);
    return handle;
  }

  #startBundle(handle: PeerHandle, temperature: Temperature): void {
    for (const [name, starter] of Object.entries(this.#deps.bundles[temperature])) {
      const run = starter(handle);
      const running: RunningProtocol = {
        name,
        temperature,
        run,
        stopRequested: false,
        finished: run.done.then(
          () => this.#onFinished(handle, running, { outcome: 'returned' }),
          (error: unknown) => this.#onFinished(handle, running, { outcome: 'error', error }),
        ),
      };
      handle.running.set(key(temperature, name), running);
    }
  }

  /** The monitoring loop's reaction to a mini-protocol finishing on its own (first-to-finish). */
  #onFinished(
    handle: PeerHandle,
    running: RunningProtocol,
    result: { outcome: 'returned' } | { outcome: 'error'; error: unknown },
  ): void {
    if (running.stopRequested) return;
    running.stopRequested = true;
    const { log } = this.#deps.telemetry;
    const first: FirstToFinishResult = {
      temperature: running.temperature,
      protocol: running.name,
      ...result,
    };
    handle.lastResult = first;
    if (handle.status !== 'warm' && handle.status !== 'hot') return;
    if (result.outcome === 'error') {
      log.info(
        {
          event: 'peer_monitoring_error',
          peer: handle.peerId,
          protocol: running.name,
          err: result.error,
        },
        'mini-protocol failed',
      );
      this.#errorDemotion(handle, 'ApplicationFailure', result.error);
      return;
    }
    log.info(
      {
        event: 'peer_monitoring_result',
        peer: handle.peerId,
        protocol: running.name,
        temperature: running.temperature,
      },
      'mini-protocol returned',
    );
    if (running.temperature === 'hot') {
      if (handle.status === 'hot' && handle.busy === undefined)
        this.deactivate(handle).catch(() => {});
    } else if (handle.busy !== 'closing') {
      this.close(handle).catch(() => {});
    }
  }

  /** The mux stopped: whatever the peer was, it cools down to cold. */
  #onMuxStopped(handle: PeerHandle, error: WireError | undefined): void {
    if (handle.busy === 'closing' || (handle.status !== 'warm' && handle.status !== 'hot')) return;
    const reason: FailureType =
      error === undefined || error.code === 'connection_closed'
        ? 'MuxStoppedFailure'
        : 'ApplicationFailure';
    this.#errorDemotion(handle, reason, error);
  }

  /** Asynchronous * → cold after an error: the connection is (or is being) closed by the mux. */
  #errorDemotion(handle: PeerHandle, reason: FailureType, error: unknown): void {
    if (handle.busy === 'closing') return;
    const transition: Transition = handle.status === 'hot' ? 'HotToCooling' : 'WarmToCooling';
    this.#failure(transition, reason, handle, error);
    const delay = jitter(this.#deps.rng, this.#deps.config.repromoteDelayMs, REPROMOTE_JITTER);
    this.#rememberRepromote(handle.peerId, this.#deps.clock.now() + delay);
    void this.#demoteToCold(handle);
  }

  /** → cooling, connection closed, everything stopped (bounded), → cold. */
  async #demoteToCold(handle: PeerHandle): Promise<void> {
    handle.busy = 'closing';
    if (handle.status !== 'cooling') this.#setStatus(handle, 'cooling');
    handle.connection.close();
    await this.#stopAll(handle, undefined, this.#deps.config.closeTimeoutMs);
    this.#toCold(handle);
  }

  /** Asks the protocols of `temperature` (all when undefined) to stop; true if all did in time. */
  async #stopAll(
    handle: PeerHandle,
    temperature: Temperature | undefined,
    timeoutMs: number,
  ): Promise<boolean> {
    const protocols = handle.protocols(temperature);
    for (const p of protocols) {
      p.stopRequested = true;
      p.run.stop();
    }
    const all = Promise.all(protocols.map((p) => p.finished)).then(() => true);
    let timer: { cancel(): void } | undefined;
    const expired = new Promise<boolean>((resolve) => {
      timer = this.#deps.clock.setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([all, expired]);
    } finally {
      timer?.cancel();
    }
  }

  #toCold(handle: PeerHandle): void {
    if (handle.status === 'cold') return;
    this.#setStatus(handle, 'cold');
    handle.running.clear();
    handle.busy = undefined;
    if (this.#handles.get(handle.peerId) === handle) this.#handles.delete(handle.peerId);
    handle.markCold();
  }

  #setStatus(handle: PeerHandle, to: PeerStatus): void {
    const from = handle.status;
    const transition = transitionOf(from, to);
    if (transition === undefined) throw new Error(`bug: no transition ${from} → ${to}`);
    const { metrics, log } = this.#deps.telemetry;
    handle.status = to;
    if (from !== 'cold') metrics.peers.dec({ status: from });
    if (to !== 'cold') metrics.peers.inc({ status: to });
    metrics.peerTransitions.inc({ from, to });
    log.info(
      {
        event: 'peer_status_changed',
        transition,
        peer: handle.peerId,
        from,
        to,
        direction: handle.direction,
      },
      `${transition} ${handle.peerId}`,
    );
    this.#deps.onStatusChange?.(handle, from, to);
  }

  #failure(
    transition: Transition,
    reason: FailureType,
    handle: PeerHandle | undefined,
    error?: unknown,
    point?: string,
  ): void {
    const { metrics, log } = this.#deps.telemetry;
    metrics.peerTransitionFailures.inc({ transition, reason });
    log.info(
      {
        event: 'peer_status_change_failure',
        transition,
        reason,
        peer: handle?.peerId,
        point,
        err: error,
      },
      `${transition} failed: ${reason}`,
    );
  }

  /** Any action other than close refuses to run while another is in flight. */
  #expect(handle: PeerHandle, status: PeerStatus, action: string): void {
    if (handle.status !== status || handle.busy !== undefined) {
      throw new PeerActionError(
        'IllegalTransition',
        handle.status,
        `${action}: ${handle.peerId} is ${handle.status}${handle.busy === undefined ? '' : ` (${handle.busy})`}`,
      );
    }
  }

  #attrs(handle: PeerHandle) {
    return {
      attributes: { 'meshkeeper.peer_id': handle.peerId, 'meshkeeper.direction': handle.direction },
    };
  }

  #rememberRepromote(peerId: string, at: number): void {
    this.#repromoteAt.delete(peerId);
    this.#repromoteAt.set(peerId, at);
    if (this.#repromoteAt.size > MAX_REPROMOTE_ENTRIES) {
      const oldest = this.#repromoteAt.keys().next().value;
      if (oldest !== undefined) this.#repromoteAt.delete(oldest);
    }
  }
}

/** Dial failures that happen in our own handshake client rather than in the remote's refusal. */
const handshakeClientFailures = new Set<string>([
  'tls_error',
  'tls_identity',
  'unexpected_peer_id',
  'handshake_timeout',
  'decode_error',
  'protocol_violation',
]);

function key(temperature: Temperature, name: string): string {
  return `${temperature}/${name}`;
}
