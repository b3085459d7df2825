/**
 * Time seam. Every component takes a Clock so that the same code runs in real time,
 * under a fake clock in tests, and in the discrete-event simulator.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch (real or simulated). */
  now(): number;
  /** Calls `fn` once after `delayMs`; the handle cancels it. */
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  /** Resolves after `delayMs`, or rejects with the signal's reason when it aborts first. */
  sleep(delayMs: number, signal?: AbortSignal): Promise<void>;
}

/** `Clock.sleep` for any clock that has `setTimeout` (the simulator wraps clocks with it). */
export function sleepWith(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      timer.cancel();
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The process clock. Timers are unref'd: a pending timer never keeps the process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, delayMs) {
    const t = setTimeout(fn, Math.max(0, delayMs));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
  sleep(delayMs, signal) {
    return sleepWith(systemClock, delayMs, signal);
  },
};

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
  /** Cancelled or fired: it stays in the heap until it reaches the top, then is dropped. */
  done: boolean;
}

/**
 * A clock that moves only when told. `advance` fires due timers in time order and lets
 * promise continuations run between them, so async code driven by timers progresses as it
 * would in real time. Timers sit in a binary heap: the discrete-event simulator keeps tens of
 * thousands pending, and a scan per firing made it quadratic.
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #heap: FakeTimer[] = [];
  #pending = 0;

  constructor(startMs = 1_700_000_000_000) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const timer: FakeTimer = {
      at: this.#now + Math.max(0, delayMs),
      seq: this.#seq++,
      fn,
      done: false,
    };
    this.#push(timer);
    this.#pending++;
    return {
      cancel: () => {
        if (timer.done) return;
        timer.done = true;
        this.#pending--;
      },
    };
  }

  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this, delayMs, signal);
  }

  /** Number of timers still due to fire. */
  get pendingTimers(): number {
    return this.#pending;
  }

  /** Moves time forward by `ms`, firing every timer due on the way. */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    for (;;) {
      await flushMicrotasks();
      const next = this.#nextDue(until);
      if (next === undefined) break;
      this.#pop();
      next.done = true;
      this.#pending--;
      this.#now = next.at;
      next.fn();
    }
    this.#now = until;
    await flushMicrotasks();
  }

  /** The earliest live timer due by `until` (still on top of the heap), dropping dead ones. */
  #nextDue(until: number): FakeTimer | undefined {
    for (let top = this.#heap[0]; top !== undefined; top = this.#heap[0]) {
      if (!top.done) return top.at <= until ? top : undefined;
      this.#pop();
    }
    return undefined;
  }

  #push(timer: FakeTimer): void {
    const heap = this.#heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(timer, heap[parent] as FakeTimer)) break;
      heap[i] = heap[parent] as FakeTimer;
      i = parent;
    }
    heap[i] = timer;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child =
        right < heap.length && earlier(heap[right] as FakeTimer, heap[left] as FakeTimer)
          ? right
          : left;
      if (!earlier(heap[child] as FakeTimer, last)) break;
      heap[i] = heap[child] as FakeTimer;
      i = child;
    }
    heap[i] = last;
  }
}

/** Time order, then the order the timers were set in. */
function earlier(a: FakeTimer, b: FakeTimer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** Lets queued promise continuations (several levels deep) run. */
async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}
