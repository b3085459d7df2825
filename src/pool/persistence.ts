import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-file.ts';
import type { Clock, TimerHandle } from '../clock.ts';
import type { Config } from '../config/types.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { Pool, PoolContents } from './pool.ts';
import { decodePoolFile, emptyContents, encodePoolFile, poolFileLimits } from './pool-file.ts';

/** The pool file's name inside `dataDir`. */
export const poolFileName = 'peers.json';

export function poolFilePath(dataDir: string): string {
  return join(dataDir, poolFileName);
}

/**
 * How a load went. `missing`: no file (first start). `loaded`: contents read, perhaps with
 * dropped entries (`warnings`). `corrupt`: the file could not be trusted at all; it was moved
 * to `movedTo` (when the rename worked) and the node starts empty. `unreadable`: the file
 * exists but could not be read (permissions, a directory…); it is left alone.
 */
export type LoadStatus = 'missing' | 'loaded' | 'corrupt' | 'unreadable';

export interface LoadResult {
  readonly status: LoadStatus;
  readonly contents: PoolContents;
  /** One line per problem, for the caller to log. */
  readonly warnings: readonly string[];
  readonly movedTo?: string;
}

export interface LoadOptions {
  clock: Clock;
  config: Config['pool'];
  metrics?: Metrics;
}

/**
 * Reads `path` (DESIGN §4). Never throws: a corrupt or unknown-version file is renamed
 * `<path>.corrupt-<time>`, counted as `persist{result="corrupt"}` and reported, and the node
 * starts with what it can trust (its configured points). At most
 * `poolFileLimits.maxFileBytes` are read.
 */
export async function loadPool(path: string, opts: LoadOptions): Promise<LoadResult> {
  const read = await readBounded(path, poolFileLimits.maxFileBytes);
  if (read.kind === 'missing') return { status: 'missing', contents: emptyContents, warnings: [] };
  if (read.kind === 'error') {
    return {
      status: 'unreadable',
      contents: emptyContents,
      warnings: [`${path}: ${read.message}`],
    };
  }
  const nowMs = opts.clock.now();
  const decoded =
    read.kind === 'too_large'
      ? { ok: false as const, error: `larger than ${poolFileLimits.maxFileBytes} bytes` }
      : read.text === undefined
        ? { ok: false as const, error: 'not valid UTF-8' }
        : decodePoolFile(read.text, {
            nowMs,
            reconnectCapMs: opts.config.reconnect.capMs,
            greylistTimeoutMs: opts.config.greylistTimeoutMs,
          });
  if (decoded.ok) {
    return { status: 'loaded', contents: decoded.contents, warnings: decoded.warnings };
  }
  opts.metrics?.persist.inc({ result: 'corrupt' });
  const target = `${path}.corrupt-${fileTime(nowMs)}`;
  const warning = `${path} is corrupt (${decoded.error})`;
  try {
    await rename(path, target);
    return {
      status: 'corrupt',
      contents: emptyContents,
      warnings: [`${warning}; moved to ${target}`],
      movedTo: target,
    };
  } catch (error) {
    return {
      status: 'corrupt',
      contents: emptyContents,
      warnings: [`${warning}; could not move it aside: ${messageOf(error)}`],
    };
  }
}

type BoundedRead =
  | { kind: 'missing' }
  | { kind: 'error'; message: string }
  | { kind: 'too_large' }
  | { kind: 'ok'; text: string | undefined };

/** Reads at most `maxBytes` (+1 to notice a larger file); the text is undefined when not UTF-8. */
async function readBounded(path: string, maxBytes: number): Promise<BoundedRead> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    return codeOf(error) === 'ENOENT'
      ? { kind: 'missing' }
      : { kind: 'error', message: messageOf(error) };
  }
  try {
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) return { kind: 'too_large' };
    }
    try {
      return {
        kind: 'ok',
        text: new TextDecoder('utf-8', { fatal: true }).decode(buffer.subarray(0, length)),
      };
    } catch {
      return { kind: 'ok', text: undefined };
    }
  } catch (error) {
    return { kind: 'error', message: messageOf(error) };
  } finally {
    await handle.close().catch(() => {});
  }
}

/** `2023-11-14T22-13-20-000Z`: sortable, and safe in file names everywhere. */
function fileTime(ms: number): string {
  return new Date(ms).toISOString().replace(/[:.]/g, '-');
}

function codeOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String(error.code)
    : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---- saving --------------------------------------------------------------------------

export type WriteFn = (path: string, data: string) => Promise<void>;

export interface PoolPersisterDeps {
  pool: Pool;
  clock: Clock;
  path: string;
  /** `pool.persistDebounceMs`. */
  debounceMs: number;
  metrics?: Metrics;
  /** Called with each failed write (the caller logs it); the data stays dirty. */
  onError?: (error: unknown) => void;
  /** Defaults to `writeFileAtomic` with mode 0600; tests inject failures here. */
  write?: WriteFn;
}

/** What a flush did. */
export type FlushOutcome = 'written' | 'clean' | 'failed';

/**
 * Saves the pool to `path` (DESIGN §4): at most `debounceMs` after the first unsaved change
 * (later changes join that write rather than postpone it, so steady churn cannot starve the
 * file), and at once on `flush()`. Writes never overlap. A failed write is counted and
 * reported and retried with the next change or flush, not in a loop.
 */
export class PoolPersister {
  readonly #pool: Pool;
  readonly #clock: Clock;
  readonly #path: string;
  readonly #debounceMs: number;
  readonly #metrics: Metrics | undefined;
  readonly #onError: ((error: unknown) => void) | undefined;
  readonly #write: WriteFn;
  #unsubscribe: (() => void) | undefined;
  #timer: TimerHandle | undefined;
  #dirty = false;
  #chain: Promise<FlushOutcome> = Promise.resolve('clean');

  constructor(deps: PoolPersisterDeps) {
    this.#pool = deps.pool;
    this.#clock = deps.clock;
    this.#path = deps.path;
    this.#debounceMs = deps.debounceMs;
    this.#metrics = deps.metrics;
    this.#onError = deps.onError;
    this.#write = deps.write ?? ((path, data) => writeFileAtomic(path, data, { mode: 0o600 }));
  }

  /** True while changes wait to be written. */
  get dirty(): boolean {
    return this.#dirty;
  }

  /** Starts listening to the pool's changes. */
  start(): void {
    this.#unsubscribe ??= this.#pool.onChange(() => this.#changed());
  }

  /** Stops listening and cancels a pending write (call `flush` first to keep the changes). */
  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** Writes now if anything is unsaved (after any write in progress); used at shutdown. */
  flush(): Promise<FlushOutcome> {
    this.#timer?.cancel();
    this.#timer = undefined;
    return this.#enqueue();
  }

  #changed(): void {
    this.#dirty = true;
    if (this.#timer !== undefined) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#enqueue();
    }, this.#debounceMs);
  }

  #enqueue(): Promise<FlushOutcome> {
    this.#chain = this.#chain.then(() => this.#writeIfDirty());
    return this.#chain;
  }

  async #writeIfDirty(): Promise<FlushOutcome> {
    if (!this.#dirty) return 'clean';
    this.#dirty = false;
    const text = encodePoolFile(this.#pool.exportContents(), this.#clock.now());
    try {
      await this.#write(this.#path, text);
      this.#metrics?.persist.inc({ result: 'ok' });
      return 'written';
    } catch (error) {
      this.#dirty = true;
      this.#metrics?.persist.inc({ result: 'error' });
      try {
        this.#onError?.(error);
      } catch {
        // A failing logger must not break the write chain.
      }
      return 'failed';
    }
  }
}
