/**
 * Figures by key and repetition. Absolute figures move ±10–20 % between runs on this shared
 * machine (STACK.md), so comparisons are ratios within one repetition, then their median.
 */
export class Results {
  readonly #samples = new Map<string, Map<number, number>>();

  record(key: string, rep: number, value: number): void {
    const byRep = this.#samples.get(key) ?? new Map<number, number>();
    byRep.set(rep, value);
    this.#samples.set(key, byRep);
  }

  values(key: string): number[] {
    return [...(this.#samples.get(key)?.values() ?? [])];
  }

  median(key: string): number | undefined {
    return median(this.values(key));
  }

  /** Median over the repetitions that have both figures of `numerator / denominator`. */
  ratio(numerator: string, denominator: string): number | undefined {
    const a = this.#samples.get(numerator);
    const b = this.#samples.get(denominator);
    if (a === undefined || b === undefined) return undefined;
    const ratios: number[] = [];
    for (const [rep, value] of a) {
      const other = b.get(rep);
      if (other !== undefined && other !== 0) ratios.push(value / other);
    }
    return median(ratios);
  }
}

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}
