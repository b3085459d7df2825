import { type Clock, type FakeClock, sleepWith, type TimerHandle } from '../../src/clock.ts';

/** Thrown from inside the simulation when one node does too much at one simulated instant. */
export class LivelockError extends Error {
  constructor(node: string, atMs: number, events: number) {
    super(`${node} ran ${events} events at the simulated instant ${atMs}: a livelock`);
    this.name = 'LivelockError';
  }
}

/**
 * The livelock guard: counts each node's events (timer firings, peer status changes) per
 * simulated instant and throws a LivelockError past `maxPerInstant`. The throw happens inside
 * the looping code, which breaks the loop, and `FakeClock.advance` rejects with it.
 */
export class InstantMeter {
  readonly maxPerInstant: number;
  /** The most events one node ran at one instant so far. */
  peak = 0;
  /** Every event of the run. */
  total = 0;
  violation: LivelockError | undefined;

  constructor(maxPerInstant: number) {
    this.maxPerInstant = maxPerInstant;
  }

  /** A counter for one node, reset whenever its clock reads a new instant. */
  counter(node: string, clock: Clock): () => void {
    let instant = Number.NaN;
    let events = 0;
    return () => {
      const now = clock.now();
      if (now !== instant) {
        instant = now;
        events = 0;
      }
      events++;
      this.total++;
      if (events > this.peak) this.peak = events;
      if (events > this.maxPerInstant) {
        this.violation ??= new LivelockError(node, now, events);
        throw this.violation;
      }
    };
  }
}

/**
 * One node's view of the shared simulated time. Its timers stop for good when the node dies (a
 * killed process runs nothing more), and each firing is counted by the livelock guard.
 */
export class NodeClock implements Clock {
  readonly #time: FakeClock;
  readonly #count: () => void;
  #stopped = false;

  constructor(time: FakeClock, count: () => void) {
    this.#time = time;
    this.#count = count;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  now(): number {
    return this.#time.now();
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    if (this.#stopped) return { cancel: () => {} };
    return this.#time.setTimeout(() => {
      if (this.#stopped) return;
      this.#count();
      fn();
    }, delayMs);
  }

  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this, delayMs, signal);
  }

  /** The node died: nothing it scheduled will run. */
  stop(): void {
    this.#stopped = true;
  }
}
