import { createHash, type Hash } from 'node:crypto';

/**
 * The event log of a run, kept as a running SHA-256 of its lines (a 6-hour run has hundreds of
 * thousands): two runs with the same seed must produce the same digest, line for line.
 */
export class Trace {
  readonly #hash: Hash = createHash('sha256');
  lines = 0;

  /** One line: the simulated time, what happened, and its details. */
  record(atMs: number, event: string, ...details: readonly (string | number)[]): void {
    this.#hash.update(`${atMs.toFixed(3)}\t${event}\t${details.join('\t')}\n`);
    this.lines++;
  }

  /** The digest of every line so far (the log goes on). */
  digest(): string {
    return this.#hash.copy().digest('hex');
  }
}
