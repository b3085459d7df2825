import type { Clock } from '../clock.ts';

/** `promise`, or `onTimeout()`'s error after `timeoutMs` of the clock, whichever comes first. */
export async function withDeadline<T>(
  clock: Clock,
  promise: Promise<T>,
  timeoutMs: number,
  onTimeout: () => Error,
): Promise<T> {
  let timer: { cancel(): void } | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => reject(onTimeout()), timeoutMs);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    timer?.cancel();
  }
}
