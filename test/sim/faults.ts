import type { PeerHandle } from '../../src/peers/handle.ts';
import { isEstablished } from '../../src/peers/status.ts';
import { type Rng, randomInt } from '../../src/rng.ts';
import type { Link } from './link.ts';
import type { SimNode } from './sim-node.ts';
import type { Simulation } from './simulator.ts';

/** A range of simulated milliseconds, drawn uniformly. */
export type Span = readonly [minMs: number, maxMs: number];

/**
 * Faults drawn from the run's seed: links that go dark (only keep-alive can notice), nodes
 * killed and started again later with the pool they had saved, and peers banned by an operator
 * (their connection is closed and their handshakes refused, as the admin Ban does).
 */
export class FaultInjector {
  readonly #sim: Simulation;
  readonly #rng: Rng;
  readonly #down = new Set<number>();
  readonly tally = { linksCut: 0, kills: 0, restarts: 0, bans: 0 };
  /** Every link cut, and when. */
  readonly cuts: { link: Link; atMs: number }[] = [];
  /** Told of each node killed (watchers stop counting it). */
  onKill: (node: SimNode) => void = () => {};

  constructor(sim: Simulation) {
    this.#sim = sim;
    this.#rng = sim.rng('faults');
  }

  /** Runs `fault` again and again, `gap` apart, from `fromMs` until `untilMs` of simulated time. */
  repeat(gap: Span, fromMs: number, untilMs: number, fault: () => void): void {
    for (let at = fromMs + this.#draw(gap); at < untilMs; at += this.#draw(gap)) {
      this.#sim.at(at, fault);
    }
  }

  /** A random live connection goes dark in both directions. */
  cutLink(): void {
    const picked = this.#pickPeer();
    const link = picked?.node.transport.linkTo(picked.handle.peerId);
    if (picked === undefined || link === undefined || link.isCut) return;
    link.cut();
    this.tally.linksCut++;
    this.cuts.push({ link, atMs: this.#sim.elapsedMs });
    this.#sim.trace.record(
      this.#sim.elapsedMs,
      'cut',
      picked.node.name,
      this.#sim.nameOf(picked.handle.peerId),
    );
  }

  /** A random live node is killed; it starts again `downtime` later. */
  killAndRestart(downtime: Span): void {
    const index = this.#pickNode();
    if (index === undefined) return;
    const node = this.#sim.nodes[index] as SimNode;
    this.#sim.kill(index);
    this.#down.add(index);
    this.tally.kills++;
    this.onKill(node);
    this.#sim.at(this.#sim.elapsedMs + this.#draw(downtime), () => {
      this.#down.delete(index);
      this.tally.restarts++;
      void this.#sim.restart(index);
    });
  }

  /** A random node's operator bans one of its peers for `duration`. */
  ban(duration: Span): void {
    const picked = this.#pickPeer();
    if (picked === undefined) return;
    const { node, handle } = picked;
    const result = node.pool.ban({ kind: 'peer', peerId: handle.peerId }, this.#draw(duration));
    if (!result.ok) return;
    this.tally.bans++;
    this.#sim.trace.record(this.#sim.elapsedMs, 'ban', node.name, this.#sim.nameOf(handle.peerId));
    node.peers.close(handle).catch(() => {});
  }

  #pickNode(): number | undefined {
    const alive = this.#sim.nodes.flatMap((node, i) =>
      node.alive && !this.#down.has(i) ? [i] : [],
    );
    return alive.length === 0 ? undefined : alive[randomInt(this.#rng, alive.length)];
  }

  #pickPeer(): { node: SimNode; handle: PeerHandle } | undefined {
    const index = this.#pickNode();
    const node = index === undefined ? undefined : this.#sim.nodes[index];
    if (node === undefined) return undefined;
    const live = [...node.peers.handles.values()].filter(
      (h) => isEstablished(h.status) && h.busy === undefined,
    );
    const handle = live[randomInt(this.#rng, live.length)];
    return handle === undefined ? undefined : { node, handle };
  }

  #draw([minMs, maxMs]: Span): number {
    return minMs + this.#rng.next() * (maxMs - minMs);
  }
}
