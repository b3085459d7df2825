import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * A benchmark process that answers in JSON lines on stdout and reads commands on stdin; it is
 * expected to stop when its stdin ends. Every one started is killed if this process exits first.
 */
export class JsonChild {
  readonly #child: ChildProcess;
  readonly #lines: AsyncIterator<string>;
  readonly #exited: Promise<number>;

  constructor(script: string, spec: unknown, nodeFlags: string[] = []) {
    this.#child = spawn(process.execPath, [...nodeFlags, script, JSON.stringify(spec)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    running.add(this.#child);
    this.#exited = new Promise((resolve) =>
      this.#child.once('exit', (code, signal) => {
        running.delete(this.#child);
        resolve(code ?? (signal === null ? 1 : 128));
      }),
    );
    const stdout = this.#child.stdout;
    if (stdout === null) throw new Error('child without stdout');
    this.#lines = createInterface({ input: stdout })[Symbol.asyncIterator]();
  }

  /** The next line the child prints, parsed; rejects if it exits first. */
  async next<T>(): Promise<T> {
    const line = await this.#lines.next();
    if (line.done === true) throw new Error(`child exited (code ${await this.#exited})`);
    return JSON.parse(line.value) as T;
  }

  send(command: string): void {
    this.#child.stdin?.write(`${command}\n`);
  }

  /** Ends stdin and waits for the child to exit (killing it after `graceMs`). */
  async stop(graceMs = 15_000): Promise<void> {
    this.#child.stdin?.end();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
