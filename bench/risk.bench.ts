// The early-assignment risk pass: every short leg of 10,000 guarded iron condors assessed as the engine's rule pass
// does (the ex-dividend call rule, the deep-ITM-put rule with its binomial tree where the screen passes, the
// expiration rule), with American pricing. Real time for one whole pass; beside it the detection latency
// (detection.bench.ts): the engine runs a pass as one step of its serial queue, so a broker event that arrives during
// a pass waits for it (the figure is that worst-case wait at this size).
import { performance } from 'node:perf_hooks';
import { option } from '../src/core/contract.js';
import { StrategyId } from '../src/core/ids.js';
import { EpochMs, Qty } from '../src/core/quantity.js';
import { assessStrategy, strategyAtRisk, type RiskEnvironment } from '../src/core/rules/assignment-risk.js';
import { DEFAULT_EARLY_ASSIGNMENT } from '../src/core/rules/early-assignment-settings.js';
import { rollForRisk } from '../src/core/rules/roll.js';
import { summarize, type BenchRow } from './bench-row.js';

const N = 10_000;
const SYMBOLS = Array.from({ length: 50 }, (_, i) => `S${String.fromCharCode(65 + (i % 26))}${Math.floor(i / 26)}`);
// Wednesday 11:00 New York; half the symbols go ex-dividend on Friday (holders decide Thursday), expiries 1-5 weeks out.
const NOW = EpochMs.unsafe(Date.parse('2026-02-11T11:00:00-05:00'));
const spot = (s: string): number => 80 + (SYMBOLS.indexOf(s) % 10) * 5;

function strategies() {
  return Array.from({ length: N }, (_, i) => {
    const sym = SYMBOLS[i % SYMBOLS.length]!;
    const s = spot(sym);
    // Strikes around the spot; one strategy in 20 has its short put deep in the money, one in 20 its short call.
    const shift = i % 20 === 0 ? 40 : i % 20 === 1 ? -25 : 0;
    const k = Math.round(s + shift);
    const exp = i % 3 === 0 ? '2026-03-20' : '2026-02-20';
    const leg = (right: 'C' | 'P', strike: number, qty: number) => ({ contract: option({ symbol: sym, right, strike, expiry: exp }), qty: Qty.unsafe(qty) });
    return {
      strategy: { id: StrategyId.unsafe(`ic-${i}`), kind: 'iron-condor' as const },
      holdings: [leg('P', k - 15, 1), leg('P', k - 5, -1), leg('C', k + 5, -1), leg('C', k + 15, 1)],
    };
  });
}

const env: RiskEnvironment = {
  settings: DEFAULT_EARLY_ASSIGNMENT,
  rate: 0.045,
  volatility: () => 0.25,
  dividends: (s) => (SYMBOLS.indexOf(s) % 2 === 1 ? [{ exDate: '2026-02-13', amount: 0.9 }] : []),
};

export function run(): Promise<readonly BenchRow[]> {
  const all = strategies();
  const samples: number[] = [];
  let flagged = 0;
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    flagged = 0;
    for (const s of all) if (strategyAtRisk(assessStrategy({ ...s, now: NOW, spot, quote: () => null }, env))) flagged++;
    samples.push(performance.now() - t0);
  }
  // The roll shown with each flag, every price from the model (no quotes): what the engine pays once per flagged
  // strategy and day (it remembers the roll), and `legguard risk` once per flagged strategy.
  const risks = all.map((s) => ({ s, r: assessStrategy({ ...s, now: NOW, spot, quote: () => null }, env) })).filter((x) => strategyAtRisk(x.r));
  const market = { now: NOW, spot, quote: () => null, rate: env.rate, volatility: env.volatility, dividends: env.dividends };
  const rollSamples: number[] = [];
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    for (const x of risks) rollForRisk(x.r, x.s.holdings, market);
    rollSamples.push(performance.now() - t0);
  }
  return Promise.resolve([
    {
      area: 'risk',
      name: `rolls shown for the ${risks.length} flagged iron condors (4 legs, 8 model prices each, 100-step trees)`,
      unit: 'ms',
      ...summarize(rollSamples),
      note: 'paid once per flagged strategy and New York day in the engine (remembered), once per run in legguard risk',
    },
    {
      area: 'risk',
      name: `full early-assignment risk pass, ${N} iron condors (American pricing, 1,000-step trees where the put screen passes)`,
      unit: 'ms',
      ...summarize(samples),
      note: `${flagged} strategies flagged; the engine runs a pass as one queued step, so a broker event arriving during it waits up to this long`,
    },
  ]);
}
