import { createHash } from 'node:crypto';
import { FakeClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config/index.ts';
import type { Config } from '../../src/config/types.ts';
import { peerIdFromPublicKey } from '../../src/identity/index.ts';
import type { CycleSummary } from '../../src/maintenance/worker.ts';
import type { PeerHandle } from '../../src/peers/handle.ts';
import type { PeerStatus } from '../../src/peers/status.ts';
import type { PoolContents } from '../../src/pool/index.ts';
import { type Rng, seededRng } from '../../src/rng.ts';
import { SimNetwork } from './network.ts';
import { InstantMeter, NodeClock } from './node-clock.ts';
import { type NodeObserver, SimNode } from './sim-node.ts';
import { Trace } from './trace.ts';

export const SIM_PORT = 9740;

export interface SimulationOptions {
  seed: number;
  /** `meshkeeper run` flags every node is configured with (bounds, hot target, timers). */
  flags: readonly string[];
  /** The livelock guard: the most events one node may run at one simulated instant. */
  maxEventsPerInstant: number;
}

/**
 * A discrete-event simulation of many nodes in one process: one FakeClock for all, a simulated
 * network, the real node components in each SimNode. Everything random comes from the seed, so a
 * run is reproducible; its Trace digest says so. Faults and checks are timers on the same clock
 * (`at`, `every`), so they happen at exact simulated times, between the nodes' own events.
 */
export class Simulation implements NodeObserver {
  readonly time = new FakeClock();
  readonly network: SimNetwork;
  readonly meter: InstantMeter;
  readonly trace = new Trace();
  /** By index; a restarted node replaces its dead self. */
  readonly nodes: SimNode[] = [];
  readonly #startMs = this.time.now();
  readonly #seed: number;
  readonly #config: Config;
  readonly #watchers: NodeObserver[] = [];
  readonly #names = new Map<string, string>();
  readonly #counters = new Map<string, () => void>();
  readonly #bootstrap: (readonly number[])[] = [];
  readonly #saved = new Map<number, PoolContents>();
  #incarnation = 0;

  constructor(opts: SimulationOptions) {
    const loaded = loadConfig({ argv: [...opts.flags], env: {} });
    if (!loaded.ok) throw new Error(`simulation flags: ${JSON.stringify(loaded.errors)}`);
    this.#config = loaded.config;
    this.#seed = opts.seed;
    this.meter = new InstantMeter(opts.maxEventsPerInstant);
    this.network = new SimNetwork(this.rng('network'));
  }

  /** Simulated milliseconds since the start. */
  get elapsedMs(): number {
    return this.time.now() - this.#startMs;
  }

  /** A generator of its own for `purpose`, drawn from the seed. */
  rng(purpose: string): Rng {
    return seededRng(
      createHash('sha256').update(`${this.#seed}:${purpose}`).digest().readUInt32LE(0),
    );
  }

  /** Adds a node (not started yet) that bootstraps from the nodes at `bootstrap` indices. */
  addNode(bootstrap: readonly number[] = []): SimNode {
    const index = this.nodes.length;
    this.#bootstrap.push(bootstrap);
    const node = this.#build(index);
    this.nodes.push(node);
    return node;
  }

  start(index: number): Promise<void> {
    return this.#node(index).start();
  }

  /** Kills the node's process (its peers see their connections reset); returns the dead node. */
  kill(index: number): SimNode {
    const node = this.#node(index);
    this.trace.record(this.elapsedMs, 'kill', node.name);
    this.#saved.set(index, node.kill());
    return node;
  }

  /** Starts a killed node again, with the pool it had saved (its peers.json). */
  restart(index: number): Promise<void> {
    const node = this.#build(index, this.#saved.get(index));
    this.nodes[index] = node;
    this.trace.record(this.elapsedMs, 'restart', node.name);
    return node.start();
  }

  /**
   * Changes every node's hot target, as a rollout of `peers.hotTarget` would: live nodes at once
   * (as the admin API's SetTargets does), nodes started later from their config.
   */
  setHotTarget(hotTarget: number): void {
    this.#config.peers.hotTarget = hotTarget;
    this.trace.record(this.elapsedMs, 'hot_target', hotTarget);
    for (const node of this.nodes) if (node.alive) node.setHotTarget(hotTarget);
  }

  /** Runs `action` at `elapsedMs` of simulated time. */
  at(elapsedMs: number, action: () => void): void {
    this.time.setTimeout(action, elapsedMs - this.elapsedMs);
  }

  /** Runs `action` every `periodMs` from now on. */
  every(periodMs: number, action: () => void): void {
    const tick = (): void => {
      action();
      this.time.setTimeout(tick, periodMs);
    };
    this.time.setTimeout(tick, periodMs);
  }

  /** Advances simulated time to `elapsedMs`; rejects with a LivelockError or a failed check. */
  async runUntil(elapsedMs: number): Promise<void> {
    await this.time.advance(Math.max(0, elapsedMs - this.elapsedMs));
    if (this.meter.violation !== undefined) throw this.meter.violation;
  }

  /** Every peer status change and every maintenance cycle goes to `watcher` too. */
  observe(watcher: NodeObserver): void {
    this.#watchers.push(watcher);
  }

  /** The trace name of a peer id (`n17`). */
  nameOf(peerId: string): string {
    return this.#names.get(peerId) ?? peerId;
  }

  statusChanged(node: SimNode, handle: PeerHandle, from: PeerStatus, to: PeerStatus): void {
    this.#counters.get(node.name)?.();
    this.trace.record(this.elapsedMs, 'peer', node.name, this.nameOf(handle.peerId), from, to);
    for (const watcher of this.#watchers) watcher.statusChanged(node, handle, from, to);
  }

  cycleEnded(node: SimNode, summary: CycleSummary): void {
    const { motive, before, after, dialed, succeeded, closed } = summary;
    this.trace.record(
      this.elapsedMs,
      'cycle',
      node.name,
      motive,
      before,
      after,
      dialed,
      succeeded,
      closed,
    );
    for (const watcher of this.#watchers) watcher.cycleEnded?.(node, summary);
  }

  #build(index: number, restore?: PoolContents): SimNode {
    const name = `n${index}`;
    const peerId = peerIdFromPublicKey(
      createHash('sha256').update(`${this.#seed}:node:${index}`).digest(),
    );
    this.#names.set(peerId, name);
    const config = structuredClone(this.#config);
    config.bootstrap = (this.#bootstrap[index] ?? []).map((i) => ({
      host: hostOf(i),
      port: SIM_PORT,
    }));
    const count = this.#counters.get(name) ?? this.meter.counter(name, this.time);
    this.#counters.set(name, count);
    const clock = new NodeClock(this.time, count);
    const node = new SimNode({
      name,
      peerId,
      host: hostOf(index),
      port: SIM_PORT,
      config,
      clock,
      rng: this.rng(`node:${index}:${this.#incarnation++}`),
      network: this.network,
      observer: this,
      ...(restore === undefined ? {} : { restore }),
    });
    this.network.attach(node.transport);
    return node;
  }

  #node(index: number): SimNode {
    const node = this.nodes[index];
    if (node === undefined) throw new RangeError(`no node ${index}`);
    return node;
  }
}

/** Node `index`'s address: 10.0.0.1, 10.0.0.2, … */
export function hostOf(index: number): string {
  const n = index + 1;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}
