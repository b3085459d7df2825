import type { Config } from '../config/index.ts';
import { takeEarlySignal } from './early-signals.ts';

/** What the node returns once started; `stop()` resolves when everything is closed. */
export interface RunningNode {
  stop(): Promise<void>;
  /** Settles when the node stopped by itself (admin Shutdown); then `run` exits. */
  stopped?: Promise<void>;
}

export type StartNode = (
  config: Config,
  opts: { env: Readonly<Record<string, string | undefined>> },
) => Promise<RunningNode>;

/**
 * Everything a command touches outside itself, so that tests run commands in process with
 * their own streams, environment, node and signals.
 */
export interface CliContext {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  loadStartNode(): Promise<StartNode>;
  /** Resolves with the first shutdown signal. */
  waitForShutdown(): Promise<string>;
  /** How long `run` waits for the node to stop before it gives up (tests shorten it). */
  stopDeadlineMs?: number;
}

/** The exit codes scripts may rely on. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
/** A usage or configuration error: nothing was started. */
export const EXIT_USAGE = 2;

/** Loaded on demand: `--help` and config errors need none of the node's modules. */
async function importStartNode(): Promise<StartNode> {
  return (await import('../node.ts')).startNode;
}

/** A Ctrl-C this long after the first one means "stop now", not the same keypress echoed. */
const SECOND_CTRL_C_AFTER_MS = 1000;
/** The shell's code for a process ended by SIGINT. */
const EXIT_INTERRUPTED = 130;

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    // One listener per signal for the process's life: removing the last one resets the signal
    // to its default (exit), and a signal landing in that gap killed nodes mid-stop. The first
    // signal starts the stop. Then a SIGTERM is ignored, and so is a SIGINT in the first second:
    // Ctrl-C on `meshkeeper cluster` reaches every node (one process group) together with the
    // cluster's own SIGTERM, in either order. A later Ctrl-C (pressed again) exits at once.
    let stopStartedAt: number | undefined;
    const onSignal = (signal: string): void => {
      if (stopStartedAt === undefined) {
        stopStartedAt = Date.now();
        resolve(signal);
      } else if (signal === 'SIGINT' && Date.now() - stopStartedAt > SECOND_CTRL_C_AFTER_MS) {
        process.exit(EXIT_INTERRUPTED);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const early = takeEarlySignal();
    if (early !== undefined) onSignal(early);
  });
}

/** The context of the real process. */
export function processContext(): CliContext {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    loadStartNode: importStartNode,
    waitForShutdown: waitForSignal,
  };
}
