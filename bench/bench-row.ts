/** One figure a benchmark reports. `npm run bench` prints them as a table with the machine named. */
export interface BenchRow {
  /** The area: `detection`, `reconciliation`, `journal`, `wire` ... */
  readonly area: string;
  /** What was measured, with its parameters: `detect-to-orders, 10000 strategies`. */
  readonly name: string;
  readonly unit: string;
  readonly median?: number;
  readonly p99?: number;
  /** A single figure (throughput, peak memory) where median/p99 do not apply. */
  readonly value?: number;
  readonly samples?: number;
  readonly note?: string;
}

/** A benchmark module: `bench/<area>.ts` exports `run`. */
export type BenchModule = { run(): Promise<readonly BenchRow[]> };

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summarize(samples: number[]): { median: number; p99: number; samples: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { median: percentile(s, 50), p99: percentile(s, 99), samples: s.length };
}
