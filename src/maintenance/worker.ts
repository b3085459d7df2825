import { type Context, context } from '@opentelemetry/api';
import type { Clock, TimerHandle } from '../clock.ts';
import { type Band, makeBand } from '../config/band.ts';
import type { Config, ConnectionBounds, PointSpec } from '../config/types.ts';
import type { PeerHandle } from '../peers/handle.ts';
import { isTrustedHandle } from '../peers/trust.ts';
import type { Pool } from '../pool/index.ts';
import type { Rng } from '../rng.ts';
import type { Telemetry } from '../telemetry/index.ts';
import { withSpan } from '../telemetry/index.ts';
import { observe } from '../telemetry/metrics.ts';
import { dialErrorOf } from '../wire/transport.ts';
import {
  askForMoreDelay,
  type CycleMotive,
  exclusionsFor,
  type LiveConnection,
  nextDialAt,
  type PlanInput,
  planCycle,
  triggerFor,
} from './plan.ts';

export interface CycleSummary {
  motive: CycleMotive;
  before: number;
  after: number;
  dialed: number;
  succeeded: number;
  closed: number;
  askedForMore: boolean;
  durationMs: number;
}

export interface MaintenanceDeps {
  clock: Clock;
  rng: Rng;
  telemetry: Telemetry;
  config: Pick<Config, 'connections' | 'maintenance' | 'privateMode'>;
  pool: Pool;
  /** Live peers (warm and hot). */
  peers: () => Iterable<PeerHandle>;
  /** Dials a point and makes it a warm peer. */
  connect: (point: PointSpec) => Promise<PeerHandle>;
  /** Closes a peer (warm/hot → cold). */
  disconnect: (handle: PeerHandle) => Promise<void>;
  /** Asks the network for more points; resolves with how many new ones arrived. */
  askForMore: () => Promise<number>;
  /** Told of every cycle's summary as it ends (the admin API's WatchEvents). Must not throw. */
  onCycle?: (summary: CycleSummary) => void;
}

/** What one cycle did; `refusedFull` counts dials refused with too_many_connections. */
type Tally = Omit<CycleSummary, 'motive' | 'before' | 'after' | 'durationMs'> & {
  refusedFull: number;
};

/** Priority when several motives are pending: the most urgent names the cycle. */
const motivePriority: readonly CycleMotive[] = [
  'maintain_request',
  'bounds_changed',
  'too_many',
  'too_few',
  'trusted_missing',
  'idle',
];

/**
 * Tezos' maintenance worker (DESIGN §6): one cycle at a time, woken by triggers, `maintain()`,
 * a bounds change, a trusted point to re-dial, or the idle timer. The plan of each step is a pure
 * function (plan.ts); this class only executes it and reports.
 */
export class MaintenanceWorker {
  readonly #deps: MaintenanceDeps;
  #bounds: ConnectionBounds;
  #band: Band;
  readonly #pending = new Set<CycleMotive>();
  /** The caller's trace context of a requested cycle, so that its span is the cycle's parent. */
  readonly #parents = new Map<CycleMotive, Context>();
  #waiters: Array<(summary: CycleSummary) => void> = [];
  #wake: (() => void) | undefined;
  #idleTimer: TimerHandle | undefined;
  #trustedTimer: TimerHandle | undefined;
  #retryTimer: TimerHandle | undefined;
  #settleTimer: TimerHandle | undefined;
  /** A too_few cycle ran and the count has not reached minTarget since: retries go on. */
  #filling = false;
  /** The last fill's dials were all refused as one too many: every peer we know is full. */
  #starved = false;
  #running: Promise<void> | undefined;
  #stopped = false;
  #triggers = true;
  #askDelayMs: number | undefined;
  #newArrivals = 0;
  #last: CycleSummary | undefined;
  #lastCount: number | undefined;
  #trustedCheckQueued = false;

  constructor(deps: MaintenanceDeps) {
    this.#deps = deps;
    this.#bounds = { ...deps.config.connections };
    this.#band = makeBand(this.#bounds);
    deps.pool.onChange((event) => {
      if (event.type === 'point_added' || event.type === 'peer_added') this.#arrived();
      // A trusted point that went down must be re-dialed after its backoff, band or no band.
      // Other points' changes do not move that timer: checking after each of them took a
      // snapshot per dial on a big node (bench/maintenance).
      if (event.type === 'point_state' && deps.pool.acl.isTrustedPoint(event.point))
        this.#queueTrustedCheck();
    });
  }

  /** Re-arms the trusted re-dial once, after the changes of this turn. */
  #queueTrustedCheck(): void {
    if (this.#trustedCheckQueued) return;
    this.#trustedCheckQueued = true;
    queueMicrotask(() => {
      this.#trustedCheckQueued = false;
      this.#armTrusted();
    });
  }

  get band(): Band {
    return this.#band;
  }

  get bounds(): ConnectionBounds {
    return this.#bounds;
  }

  get lastCycle(): CycleSummary | undefined {
    return this.#last;
  }

  /** Established peers (warm + hot): what the bounds count. */
  count(): number {
    let n = 0;
    for (const handle of this.#deps.peers())
      if (handle.status === 'warm' || handle.status === 'hot') n++;
    return n;
  }

  /**
   * Below the band, or short of minTarget with every peer we dialed full: our dials say so in
   * their Hello, and a peer at its maxTarget then still admits us (up to its maxThreshold) and
   * sheds another connection (docs/design-notes.md). Not merely below minTarget: the peer shed
   * may itself sit at minThreshold and would leave the band, so shedding is kept for nodes that
   * have no other way in.
   */
  wantsConnections(): boolean {
    const count = this.count();
    return count < this.#band.minThreshold || (this.#starved && count < this.#band.minTarget);
  }

  /** Starts the worker loop and the idle timer. */
  start(): void {
    if (this.#running !== undefined) return;
    this.#armIdle();
    this.#running = this.#loop();
  }

  /** Runs one full cycle (even when nothing needs doing) and resolves with its summary. */
  maintain(): Promise<CycleSummary> {
    const done = new Promise<CycleSummary>((resolve) => this.#waiters.push(resolve));
    this.#requestedBy('maintain_request');
    this.#trigger('maintain_request', true);
    return done;
  }

  /** New bounds, applied at once; a cycle follows. */
  setBounds(bounds: ConnectionBounds): Band {
    this.#bounds = { ...bounds };
    this.#band = makeBand(bounds);
    this.#publishBounds();
    this.#requestedBy('bounds_changed');
    this.#trigger('bounds_changed', true);
    return this.#band;
  }

  /** For tests (the seed's Internal_for_tests): automatic triggers and timers on or off. */
  setTriggers(enabled: boolean): void {
    this.#triggers = enabled;
    if (enabled) this.#armIdle();
    else {
      this.#idleTimer?.cancel();
      this.#trustedTimer?.cancel();
      this.#retryTimer?.cancel();
      this.#settleTimer?.cancel();
      this.#settleTimer = undefined;
    }
  }

  /**
   * Tells the worker the peer count changed: it raises too_few / too_many at once past the
   * thresholds, and after `settleTime` when the count stays outside the targets.
   */
  countChanged(): void {
    const count = this.count();
    const motive = triggerFor(count, this.#band, this.#lastCount);
    this.#lastCount = count;
    this.#armSettle(count);
    // Room for a trusted point, or none left.
    this.#queueTrustedCheck();
    if (motive === undefined) return;
    const event = motive === 'too_few' ? 'too_few_connections' : 'too_many_connections';
    this.#deps.telemetry.log.info(
      { event, count, band: this.#band },
      motive === 'too_few' ? 'too few connections' : 'too many connections',
    );
    this.#trigger(motive);
  }

  /** Stops triggers and timers; waits for a cycle in progress to end. */
  async shutdown(): Promise<void> {
    this.#stopped = true;
    this.setTriggers(false);
    this.#wake?.();
    await this.#running;
  }

  /** The first caller asking for a cycle of `motive` gives it its parent span. */
  #requestedBy(motive: CycleMotive): void {
    if (!this.#stopped && !this.#parents.has(motive)) this.#parents.set(motive, context.active());
  }

  #trigger(motive: CycleMotive, always = false): void {
    if (this.#stopped || (!always && !this.#triggers)) return;
    this.#pending.add(motive);
    this.#wake?.();
  }

  #arrived(): void {
    this.#newArrivals++;
    this.#askDelayMs = undefined;
    this.#wake?.();
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      if (this.#pending.size === 0) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
        continue;
      }
      // Triggers arriving during the cycle coalesce into at most one more.
      const motive = motivePriority.find((m) => this.#pending.has(m)) ?? 'idle';
      const waiters =
        motive === 'maintain_request' || this.#pending.has('maintain_request') ? this.#waiters : [];
      if (waiters === this.#waiters) this.#waiters = [];
      this.#pending.clear();
      const parent = this.#parents.get(motive);
      this.#parents.clear();
      const summary = await this.#cycle(motive, parent);
      this.#last = summary;
      try {
        this.#deps.onCycle?.(summary);
      } catch {
        // A listener's failure must not stop the worker.
      }
      for (const resolve of waiters) resolve(summary);
      this.#armIdle();
    }
    for (const resolve of this.#waiters.splice(0))
      resolve(this.#last ?? this.#emptySummary('maintain_request'));
  }

  async #cycle(motive: CycleMotive, parent: Context | undefined): Promise<CycleSummary> {
    const { telemetry, clock } = this.#deps;
    const started = clock.now();
    const before = this.count();
    const band = this.#band;
    return withSpan(
      telemetry.tracer,
      'maintenance.cycle',
      {
        ...(parent === undefined ? {} : { parent }),
        attributes: {
          'meshkeeper.motive': motive,
          'meshkeeper.connections.before': before,
          'meshkeeper.band.min_threshold': band.minThreshold,
          'meshkeeper.band.min_target': band.minTarget,
          'meshkeeper.band.max_target': band.maxTarget,
          'meshkeeper.band.max_threshold': band.maxThreshold,
        },
      },
      async (span) => {
        telemetry.log.info(
          { event: 'maintenance_started', motive, connections: before, band },
          'maintenance started',
        );
        const tally: Tally = {
          dialed: 0,
          succeeded: 0,
          refusedFull: 0,
          closed: 0,
          askedForMore: false,
        };
        await this.#act(motive, tally);
        if (tally.dialed > 0) this.#starved = tally.refusedFull === tally.dialed;
        const { refusedFull: _, ...counts } = tally;
        const after = this.count();
        const durationMs = clock.now() - started;
        span.setAttributes({
          'meshkeeper.connections.after': after,
          'meshkeeper.dials': tally.dialed,
          'meshkeeper.closes': tally.closed,
        });
        const { metrics } = telemetry;
        metrics.maintenanceCycles.inc({ motive });
        observe(metrics.maintenanceCycleDuration, { motive }, durationMs / 1000);
        telemetry.log.info(
          { event: 'maintenance_ended', motive, duration: durationMs, before, after, ...tally },
          'maintenance ended',
        );
        this.#scheduleFollowUps(after, motive);
        return { motive, before, after, ...counts, durationMs };
      },
    );
  }

  /** Plan, execute, and — when points ran out below the band — ask for more once and retry. */
  async #act(motive: CycleMotive, tally: Tally): Promise<void> {
    const failed = new Set<string>();
    for (let round = 0; round < 2; round++) {
      const plan = planCycle(this.#planInput(motive, failed));
      if (plan.kind === 'close') {
        await this.#close(plan.victims, tally);
        return;
      }
      if (plan.kind === 'none') return;
      await this.#dial(plan.dials, failed, tally);
      if (!plan.waitForMore || this.count() >= this.#band.minTarget || round === 1) return;
      tally.askedForMore = plan.askForMore;
      await this.#askAndWait(plan.askForMore);
    }
  }

  #planInput(motive: CycleMotive, failedThisCycle: ReadonlySet<string>): PlanInput {
    const deps = this.#deps;
    const connections: LiveConnection[] = [];
    for (const handle of deps.peers()) {
      if (handle.status !== 'warm' && handle.status !== 'hot') continue;
      connections.push({
        peerId: handle.peerId,
        ...(handle.connection.point === undefined ? {} : { point: handle.connection.point }),
        direction: handle.direction,
        status: handle.status,
        trusted: isTrustedHandle(deps.pool, handle),
        establishedAt: handle.establishedAt,
        wanted: handle.connection.hello.wantsConnections,
      });
    }
    return {
      band: this.#band,
      snapshot: deps.pool.snapshot(),
      connections,
      dialing: new Set<string>(),
      failedThisCycle,
      privateMode: deps.config.privateMode,
      motive,
      now: deps.clock.now(),
      rng: deps.rng,
      maxParallelDials: deps.config.maintenance.maxParallelDials,
    };
  }

  /** Dials with at most `maxParallelDials` in flight (Octez dials all at once: its #6140). */
  async #dial(
    dials: readonly { key: string; spec: PointSpec }[],
    failed: Set<string>,
    tally: Pick<Tally, 'dialed' | 'succeeded' | 'refusedFull'>,
  ): Promise<void> {
    const { metrics } = this.#deps.telemetry;
    const queue = [...dials];
    const worker = async (): Promise<void> => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        tally.dialed++;
        try {
          await this.#deps.connect(next.spec);
          tally.succeeded++;
          metrics.maintenanceDials.inc({ result: 'ok' });
        } catch (error) {
          failed.add(next.key);
          if (dialErrorOf(error)?.refusal?.reason === 'too_many_connections') tally.refusedFull++;
          metrics.maintenanceDials.inc({ result: dialResult(error) });
        }
      }
    };
    const parallel = Math.max(1, this.#deps.config.maintenance.maxParallelDials);
    await Promise.all(Array.from({ length: Math.min(parallel, queue.length) }, worker));
  }

  async #close(
    victims: readonly { peerId: string; reason: string }[],
    tally: { closed: number },
  ): Promise<void> {
    const { metrics } = this.#deps.telemetry;
    const live = new Map([...this.#deps.peers()].map((h) => [h.peerId, h]));
    await Promise.all(
      victims.map(async (victim) => {
        const handle = live.get(victim.peerId);
        if (handle === undefined) return;
        await this.#deps.disconnect(handle).catch(() => {});
        tally.closed++;
        metrics.maintenanceDisconnects.inc({ reason: 'too_many' });
      }),
    );
  }

  /**
   * Asks for points (a private node asks nobody) and waits for something new or the current
   * delay, which doubles up to its cap while nothing arrives (Octez waits a fixed 5 s: #4602).
   */
  async #askAndWait(ask: boolean): Promise<void> {
    const { clock, rng, config } = this.#deps;
    const arrivalsBefore = this.#newArrivals;
    if (ask) await this.#deps.askForMore();
    if (this.#newArrivals > arrivalsBefore) return;
    this.#askDelayMs = askForMoreDelay(this.#askDelayMs, config.maintenance, rng);
    const delay = this.#askDelayMs;
    await new Promise<void>((resolve) => {
      const timer = clock.setTimeout(resolve, delay);
      this.#wake = () => {
        timer.cancel();
        resolve();
      };
    });
    this.#wake = undefined;
  }

  /**
   * Below the band, or during a fill (from a too_few cycle until the count reaches minTarget,
   * whatever cycles run in between), try again after the ask-for-more delay: the thresholds
   * start the work, the targets end it (hysteresis), so a node does not settle at minThreshold
   * because a few dials were refused. Trusted points are re-dialed when their backoff ends.
   */
  #scheduleFollowUps(count: number, motive: CycleMotive): void {
    if (!this.#triggers || this.#stopped) return;
    this.#retryTimer?.cancel();
    // Whatever other motive runs a cycle meanwhile (maintain, idle), a fill goes on.
    if (motive === 'too_few') this.#filling = true;
    if (count >= this.#band.minTarget) {
      this.#filling = false;
      this.#starved = false;
    }
    // One picture of the node for both timers: building it reads every connection.
    const input = this.#planInput('trusted_missing', new Set());
    if (count < this.#band.minThreshold || this.#filling) {
      // Whichever comes first: the ask-for-more wait, or a known point leaving its backoff
      // (nodes started together refuse each other's first dials for a second or so).
      const now = input.now;
      const backoffEnd = nextDialAt(input.snapshot, exclusionsFor(input), now, 'any');
      const ask =
        this.#askDelayMs ?? this.#deps.config.maintenance.timeBetweenLookingForPeersMs.initial;
      const delay = Math.min(ask, backoffEnd === undefined ? ask : backoffEnd - now);
      this.#retryTimer = this.#deps.clock.setTimeout(() => this.#trigger('too_few'), delay);
    }
    this.#armTrusted(input);
  }

  /**
   * A count left outside [minTarget, maxTarget] for `settleTime` starts a cycle that brings it
   * back (docs/design-notes.md): inside the thresholds Octez would wait for the idle timer, so a
   * node shed down to minThreshold, or admitted above maxTarget for a starving peer, would stay
   * there for minutes. Armed by a count change, not re-armed by one (churn must not postpone it
   * for ever), cancelled when the count is back inside; it fires once, and a cycle that cannot
   * reach the target retries on its own backoff, so a node that cannot get there does not spin.
   */
  #armSettle(count: number): void {
    const band = this.#band;
    if (count >= band.minTarget && count <= band.maxTarget) {
      this.#settleTimer?.cancel();
      this.#settleTimer = undefined;
      return;
    }
    if (this.#settleTimer !== undefined || !this.#triggers || this.#stopped) return;
    this.#settleTimer = this.#deps.clock.setTimeout(() => {
      this.#settleTimer = undefined;
      const now = this.count();
      if (now < this.#band.minTarget) this.#trigger('too_few');
      else if (now > this.#band.maxTarget) this.#trigger('too_many');
    }, this.#deps.config.maintenance.settleTimeMs);
  }

  /** Re-arms the trusted re-dial for the next trusted point that may be dialed. */
  #armTrusted(input?: PlanInput): void {
    this.#trustedTimer?.cancel();
    if (!this.#triggers || this.#stopped) return;
    const dueAt = this.#nextTrustedDial(input ?? this.#planInput('trusted_missing', new Set()));
    if (dueAt !== undefined) {
      this.#trustedTimer = this.#deps.clock.setTimeout(
        () => this.#trigger('trusted_missing'),
        Math.max(0, dueAt - this.#deps.clock.now()),
      );
    }
  }

  /**
   * When the next trusted point leaves its backoff (DESIGN §6 fix: re-dialed even in band). Only
   * future backoff ends count: a trusted point the plan cannot dial now (no room, peer connected
   * elsewhere) must not re-arm the timer at once, which would spin empty cycles.
   */
  #nextTrustedDial(input: PlanInput): number | undefined {
    // Dialable now: a dial makes progress (connected, or in backoff after a failure), so this
    // cannot spin. Only a count inside the band plans trusted_missing: outside it, the plan is
    // a fill or a shedding, not this timer's business.
    const count = input.connections.length;
    if (count >= this.#band.minThreshold && count <= this.#band.maxThreshold) {
      const plan = planCycle(input);
      if (plan.kind === 'dial' && plan.reason === 'trusted_missing') return input.now;
    }
    return nextDialAt(input.snapshot, exclusionsFor(input), input.now, 'trusted');
  }

  #armIdle(): void {
    this.#idleTimer?.cancel();
    if (!this.#triggers || this.#stopped) return;
    this.#idleTimer = this.#deps.clock.setTimeout(
      () => this.#trigger('idle'),
      this.#deps.config.maintenance.idleTimeMs,
    );
  }

  /** `meshkeeper_bounds{bound}`: the seven values in force. */
  #publishBounds(): void {
    const { bounds } = this.#deps.telemetry.metrics;
    const b = this.#bounds;
    const band = this.#band;
    bounds.set({ bound: 'min' }, b.min);
    bounds.set({ bound: 'expected' }, b.expected);
    bounds.set({ bound: 'max' }, b.max);
    bounds.set({ bound: 'min_threshold' }, band.minThreshold);
    bounds.set({ bound: 'min_target' }, band.minTarget);
    bounds.set({ bound: 'max_target' }, band.maxTarget);
    bounds.set({ bound: 'max_threshold' }, band.maxThreshold);
  }

  /** Publishes the bounds once at start. */
  publishBounds(): void {
    this.#publishBounds();
  }

  #emptySummary(motive: CycleMotive): CycleSummary {
    const n = this.count();
    return {
      motive,
      before: n,
      after: n,
      dialed: 0,
      succeeded: 0,
      closed: 0,
      askedForMore: false,
      durationMs: 0,
    };
  }
}

/** A small fixed set of dial outcomes for the metric label. */
function dialResult(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  switch (code) {
    case 'HandshakeServerFailure':
      return 'refused';
    case 'HandshakeClientFailure':
      return 'handshake_error';
    case 'HandleFailure':
      return 'connect_error';
    default:
      return 'error';
  }
}
