import type { Config } from '../config/index.ts';

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

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    // A second Ctrl-C during a slow stop gets Node's default, an immediate exit. A SIGTERM
    // during the stop is ignored: Ctrl-C on `meshkeeper cluster` reaches every node (one process
    // group) just before the cluster's own SIGTERM, which must not cut the graceful stop short.
    const onSignal = (signal: string): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.on('SIGTERM', () => {});
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
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
