/**
 * Randomness seam. Decisions take an Rng so tests and the simulator can replay them.
 */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
}

/** The process's randomness (Math.random is fine here: nothing security-relevant uses Rng). */
export const systemRng: Rng = { next: () => Math.random() };

/** A small, fast, seedable generator (mulberry32) for tests and the simulator. */
export function seededRng(seed: number): Rng {
  let state = seed >>> 0;
  return {
    next() {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** An integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng.next() * n);
}

/** `base` moved by up to ±`fraction` of itself, uniformly. */
export function jitter(rng: Rng, base: number, fraction: number): number {
  return base * (1 + fraction * (2 * rng.next() - 1));
}

/** A shuffled copy (Fisher–Yates). */
export function shuffled<T>(rng: Rng, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const a = out[i] as T;
    out[i] = out[j] as T;
    out[j] = a;
  }
  return out;
}
