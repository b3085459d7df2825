import { parentPort, workerData } from 'node:worker_threads';

/**
 * Runs one scenario in a worker thread and posts its report back (see `runInWorker`). The test
 * runner's async hook, which tracks every promise of the process it runs in, does not reach here.
 */
const { module, exportName, options } = workerData as {
  module: string;
  exportName: string;
  options: unknown;
};
const scenario = ((await import(module)) as Record<string, unknown>)[exportName];
if (typeof scenario !== 'function') throw new TypeError(`${module} exports no ${exportName}`);
parentPort?.postMessage(await scenario(options));
