/**
 * SIGINT / SIGTERM arriving while the CLI loads. Loading its modules takes a second or more on a
 * busy machine, and with no listener a signal kills the process by its default action: Ctrl-C
 * on `meshkeeper cluster` reaches every node of the process group, and nodes still loading died
 * mid-start. `bin/meshkeeper.js` holds signals before it loads the rest; the first one is
 * handed to whoever waits for a shutdown (`takeEarlySignal`). A signal after the CLI loaded,
 * with nobody waiting, ends the process as the default action would.
 */

let first: string | undefined;
let loaded = false;

const exitCodes: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

function hold(signal: string): void {
  if (loaded) process.exit(exitCodes[signal] ?? 1);
  first ??= signal;
}

/** Starts holding signals (the bin's first statement). */
export function holdSignals(): void {
  process.on('SIGINT', hold);
  process.on('SIGTERM', hold);
}

/** The CLI has loaded: from now on a signal nobody waits for ends the process. */
export function cliLoaded(): void {
  loaded = true;
}

/**
 * Stops holding signals (call it after adding one's own listeners, so that there is no moment
 * without any) and returns the first signal held, if one came.
 */
export function takeEarlySignal(): string | undefined {
  process.off('SIGINT', hold);
  process.off('SIGTERM', hold);
  return first;
}
