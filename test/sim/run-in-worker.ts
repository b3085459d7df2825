import { Worker } from 'node:worker_threads';

/**
 * Calls `exportName(options)` of `module` in a worker thread and resolves with what it returns
 * (plain data). `node --test` tracks every promise of a test's process with an async hook,
 * which makes promise-heavy code three to four times slower; a simulation of hundreds of nodes
 * runs millions of promises, so it runs in a worker, where that hook is not installed.
 */
export function runInWorker<Report>(
  module: URL,
  exportName: string,
  options: unknown,
): Promise<Report> {
  const worker = new Worker(new URL('./worker-entry.ts', import.meta.url), {
    workerData: { module: module.href, exportName, options },
  });
  return new Promise((resolve, reject) => {
    worker.once('message', (report: Report) => {
      resolve(report);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`scenario worker exited with ${code}`)));
  });
}
