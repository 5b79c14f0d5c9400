// Pricing costs: what a quote from the simulator, an early-exercise decision of its clearing house, and the
// closed-form approximations cost on this machine. Real time (performance.now), medians and p99 of many calls.
import { performance } from 'node:perf_hooks';
import { baroneAdesiWhaley } from '../src/core/pricing/barone-adesi-whaley.js';
import { binomial } from '../src/core/pricing/binomial.js';
import { bjerksundStensland } from '../src/core/pricing/bjerksund-stensland.js';
import { blackScholes } from '../src/core/pricing/black-scholes.js';
import { exDividendCallDecision, putEarlyExerciseDecision } from '../src/core/pricing/early-exercise.js';
import type { OptionInput } from '../src/core/pricing/option-input.js';
import { summarize, type BenchRow } from './bench-row.js';

function time(n: number, fn: (i: number) => unknown): number[] {
  const out: number[] = [];
  let sink = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const v = fn(i);
    out.push((performance.now() - t0) * 1000);
    if (typeof v === 'number') sink += v;
  }
  if (Number.isNaN(sink)) console.log('unexpected NaN');
  return out;
}

const input = (i: number): OptionInput => ({
  right: i % 2 === 0 ? 'P' : 'C',
  spot: 440 + (i % 20),
  strike: 450,
  time: 30 / 365,
  rate: 0.045,
  vol: 0.18,
  dividends: [{ time: 10 / 365, amount: 1.74 }],
});

export function run(): Promise<readonly BenchRow[]> {
  const rows: BenchRow[] = [];
  const row = (name: string, samples: number[], note?: string): void => {
    rows.push({ area: 'pricing', name, unit: 'us', ...summarize(samples), ...(note ? { note } : {}) });
  };
  row('Black-Scholes price and greeks', time(20_000, (i) => blackScholes(input(i)).price));
  row('CRR tree, 200 steps (simulator quotes)', time(2_000, (i) => binomial(input(i), { steps: 200 }).price));
  row('CRR tree, 1000 steps', time(300, (i) => binomial(input(i), { steps: 1000 }).price));
  const yieldInput = (i: number): OptionInput => ({ ...input(i), dividends: [], dividendYield: 0.013 });
  row('Barone-Adesi-Whaley', time(20_000, (i) => baroneAdesiWhaley(yieldInput(i))));
  row('Bjerksund-Stensland 2002', time(2_000, (i) => bjerksundStensland(yieldInput(i))));
  row(
    'call before ex-date decision (no later dividend)',
    time(20_000, (i) => Number(exDividendCallDecision({ spot: 470 + (i % 10), strike: 440, vol: 0.18, rate: 0.045, dividend: 1.74, tau: 20 / 365 }).exercise)),
  );
  row(
    'deep ITM put decision (screen, then 1000-step tree)',
    time(300, (i) => Number(putEarlyExerciseDecision({ spot: 300 + (i % 10), strike: 440, vol: 0.2, rate: 0.045, time: 50 / 365 }).exercise)),
  );
  return Promise.resolve(rows);
}
