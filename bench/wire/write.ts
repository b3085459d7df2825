/**
 * Writes `total` bytes as `chunk`-sized writes (the last one cut short), each through `write`,
 * which waits for the implementation's backpressure before it resolves.
 */
export async function writeAll(
  total: number,
  chunk: Uint8Array,
  write: (bytes: Uint8Array) => Promise<void> | void,
): Promise<void> {
  for (let sent = 0; sent < total; sent += chunk.length) {
    const left = total - sent;
    await write(left >= chunk.length ? chunk : chunk.subarray(0, left));
  }
}
