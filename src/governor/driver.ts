import type { Clock, TimerHandle } from '../clock.ts';
import type { Config } from '../config/types.ts';
import type { PeerStateActions } from '../peers/actions.ts';
import type { PeerHandle } from '../peers/handle.ts';
import type { Rng } from '../rng.ts';
import type { Telemetry } from '../telemetry/index.ts';
import {
  churnDelayMs,
  nextPromotionAt,
  pickChurn,
  pickDemotions,
  pickPromotions,
  promotionBackoffMs,
} from './picks.ts';
import type { GovernorDecision, GovernorInput, GovernorPeer } from './types.ts';

export interface GovernorDeps {
  clock: Clock;
  rng: Rng;
  telemetry: Telemetry;
  config: Config['peers'];
  peers: PeerStateActions;
  /** Trusted peers are never demoted or churned. */
  isTrusted: (handle: PeerHandle) => boolean;
  /**
   * Churn closed this peer's connection: the pool dials its point after the never-tried ones
   * (Pool.churned), or maintenance would re-establish the most recent success first and undo
   * the churn.
   */
  churnClosed?: (handle: PeerHandle) => void;
}

/** Failed promotions remembered per peer, bounded: the oldest entries go first. */
const MAX_BACKOFF_ENTRIES = 10_000;

/**
 * Keeps `hotTarget` hot peers among the established ones (DESIGN §7). The picks are pure
 * (picks.ts); this driver gathers the state, applies them through PeerStateActions, and wakes on
 * status changes, when a held-back peer becomes eligible, and on the churn timer.
 */
export class Governor {
  readonly #deps: GovernorDeps;
  readonly #backoff = new Map<string, { failures: number; until: number }>();
  /** Peers churn demoted, promoted last until the time given (the next churn round). */
  readonly #churned = new Map<string, number>();
  #nextChurnAt: number | undefined;
  #scheduled = false;
  #wakeTimer: TimerHandle | undefined;
  #churnTimer: TimerHandle | undefined;
  #running = false;
  /** A poke arrived while reconciling: go round once more. */
  #again = false;
  #stopped = true;

  constructor(deps: GovernorDeps) {
    this.#deps = deps;
  }

  start(): void {
    this.#stopped = false;
    this.#armChurn();
    this.poke();
  }

  stop(): void {
    this.#stopped = true;
    this.#wakeTimer?.cancel();
    this.#churnTimer?.cancel();
  }

  /** Something changed (a status, the target): reconcile soon, once for many pokes. */
  poke(): void {
    if (this.#stopped || this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      void this.#reconcile();
    });
  }

  #input(): GovernorInput {
    const { clock, rng, config, peers } = this.#deps;
    const now = clock.now();
    const list: GovernorPeer[] = [];
    for (const handle of peers.handles.values()) {
      if ((handle.status !== 'warm' && handle.status !== 'hot') || handle.busy !== undefined)
        continue;
      const repromoteAt = peers.repromoteAt(handle.peerId);
      const backoff = this.#backoff.get(handle.peerId);
      const churnedUntil = this.#churned.get(handle.peerId);
      list.push({
        peerId: handle.peerId,
        status: handle.status,
        trusted: this.#deps.isTrusted(handle),
        establishedAt: handle.establishedAt,
        ...(handle.rttSeconds === undefined ? {} : { rttSeconds: handle.rttSeconds }),
        ...(repromoteAt === undefined ? {} : { repromoteAt }),
        ...(backoff === undefined || backoff.until <= now
          ? {}
          : { promotionBackoffUntil: backoff.until }),
        ...(churnedUntil === undefined || churnedUntil <= now ? {} : { churnedUntil }),
      });
    }
    for (const [peerId, until] of this.#churned) if (until <= now) this.#churned.delete(peerId);
    return { peers: list, hotTarget: config.hotTarget, now, rng };
  }

  async #reconcile(): Promise<void> {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    try {
      do {
        this.#again = false;
        const input = this.#input();
        await this.#apply([...pickPromotions(input), ...pickDemotions(input)]);
      } while (this.#again && !this.#stopped);
      this.#armWake(nextPromotionAt(this.#input().peers, this.#deps.clock.now()));
    } finally {
      this.#running = false;
    }
  }

  async #churn(): Promise<void> {
    if (this.#stopped) return;
    const picks = pickChurn(this.#input());
    this.#deps.telemetry.log.info(
      { event: 'governor_churn', demotions: picks.demotions.length, closes: picks.closes.length },
      'churn',
    );
    // Armed first: the peers demoted now are promoted last until the next round.
    this.#armChurn();
    await this.#apply([...picks.demotions, ...picks.closes]);
    this.poke();
  }

  async #apply(decisions: readonly GovernorDecision[]): Promise<void> {
    const { peers, telemetry } = this.#deps;
    await Promise.all(
      decisions.map(async (decision) => {
        const handle = peers.handles.get(decision.peerId);
        if (handle === undefined) return;
        telemetry.log.debug(
          { event: 'governor_decision', ...decision },
          `${decision.action} ${decision.peerId}`,
        );
        try {
          if (decision.action === 'promote') {
            await peers.activate(handle);
            this.#backoff.delete(decision.peerId);
          } else if (decision.action === 'demote') {
            await peers.deactivate(handle);
            if (decision.reason === 'churn') this.#churnDemoted(decision.peerId);
          } else {
            await peers.close(handle);
            if (decision.reason === 'churn') this.#deps.churnClosed?.(handle);
          }
        } catch (error) {
          if (decision.action === 'promote') this.#promotionFailed(handle, error);
        }
      }),
    );
  }

  /** A failed warm → hot backs off that peer (5 s · 2^min(n−1, 5) ± 2 s, Cardano's curve). */
  #promotionFailed(handle: PeerHandle, error: unknown): void {
    const { clock, rng, telemetry } = this.#deps;
    const failures = (this.#backoff.get(handle.peerId)?.failures ?? 0) + 1;
    const until = clock.now() + promotionBackoffMs(failures, rng);
    this.#backoff.delete(handle.peerId);
    this.#backoff.set(handle.peerId, { failures, until });
    if (this.#backoff.size > MAX_BACKOFF_ENTRIES) {
      const oldest = this.#backoff.keys().next().value;
      if (oldest !== undefined) this.#backoff.delete(oldest);
    }
    telemetry.log.info(
      { event: 'promotion_failed', peer: handle.peerId, failures, until, err: error },
      'promotion failed',
    );
  }

  /** Until the next churn round: then it competes again, and the next round may close it. */
  #churnDemoted(peerId: string): void {
    if (this.#nextChurnAt !== undefined) this.#churned.set(peerId, this.#nextChurnAt);
  }

  #armWake(at: number | undefined): void {
    this.#wakeTimer?.cancel();
    if (at === undefined || this.#stopped) return;
    this.#wakeTimer = this.#deps.clock.setTimeout(
      () => this.poke(),
      Math.max(0, at - this.#deps.clock.now()),
    );
  }

  #armChurn(): void {
    this.#churnTimer?.cancel();
    const delay = churnDelayMs(this.#deps.config.churnIntervalMs, this.#deps.rng);
    this.#nextChurnAt = delay === undefined ? undefined : this.#deps.clock.now() + delay;
    if (delay === undefined || this.#stopped) return;
    this.#churnTimer = this.#deps.clock.setTimeout(() => void this.#churn(), delay);
  }
}
