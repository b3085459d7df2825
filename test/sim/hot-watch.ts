import type { NodeObserver, SimNode } from './sim-node.ts';

/** The longest wait seen, for the failure message and the report. */
export interface Wait {
  node: string;
  sinceMs: number;
  ms: number;
}

/**
 * The governor's promise, node by node: whenever a node has at least `hotTarget` established
 * (warm or hot) peers but not exactly `hotTarget` hot ones, it is waiting; each wait ends when
 * the hot count meets the target (or the node no longer has enough peers, or dies). Checked at
 * every peer status change and every target change, so a wait is measured to the event.
 */
export class HotWatch implements NodeObserver {
  readonly #now: () => number;
  readonly #waiting = new Map<string, number>();
  /** Every finished wait, in simulated milliseconds. */
  readonly waits: number[] = [];
  longest: Wait | undefined;

  constructor(now: () => number) {
    this.#now = now;
  }

  statusChanged(node: SimNode): void {
    this.check(node);
  }

  /** Re-evaluates `node` (after its hot target changed). */
  check(node: SimNode): void {
    const target = node.config.peers.hotTarget;
    const hot = node.count('hot');
    const waiting = hot + node.count('warm') >= target && hot !== target;
    const since = this.#waiting.get(node.name);
    if (waiting && since === undefined) this.#waiting.set(node.name, this.#now());
    else if (!waiting && since !== undefined) this.#end(node.name, since);
  }

  /** A node died: its wait so far counts. */
  forget(name: string): void {
    const since = this.#waiting.get(name);
    if (since !== undefined) this.#end(name, since);
  }

  /** The run is over: the waits still open count as they stand. */
  finish(): void {
    for (const [name, since] of [...this.#waiting]) this.#end(name, since);
  }

  #end(name: string, since: number): void {
    this.#waiting.delete(name);
    const ms = this.#now() - since;
    this.waits.push(ms);
    if (this.longest === undefined || ms > this.longest.ms)
      this.longest = { node: name, sinceMs: since, ms };
  }
}
