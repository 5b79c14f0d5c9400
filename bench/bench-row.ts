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
  /**
   * What the figure should be, in the row's unit: `of` names the figure compared (the p99, the median or the single
   * value); `better` says which way is good (lower by default). The table prints the ratio figure / target.
   */
  readonly target?: BenchTarget;
}

export interface BenchTarget {
  readonly value: number;
  readonly of: 'median' | 'p99' | 'value';
  readonly better?: 'lower' | 'higher';
}

/** The ratio of the figure to its target and whether the target is met; null without a target or a figure. */
export function targetRatio(r: BenchRow): { ratio: number; met: boolean } | null {
  const t = r.target;
  if (t === undefined) return null;
  const figure = r[t.of];
  if (figure === undefined || !Number.isFinite(figure)) return null;
  const ratio = t.value === 0 ? (figure === 0 ? 1 : Number.POSITIVE_INFINITY) : figure / t.value;
  return { ratio, met: t.better === 'higher' ? figure >= t.value : figure <= t.value };
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
