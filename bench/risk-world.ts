// The risk benchmarks' account: 10,000 iron condors on 50 underlyings, half of them going ex-dividend on Friday
// (holders decide Thursday), on a Wednesday 11:00 New York; one strategy in 20 has its short put deep in the money,
// one in 20 its short call. Shared by the pure risk pass (risk.bench.ts) and the engine's rule pass (rule-pass.bench.ts).
import { option } from '../src/core/contract.js';
import { AccountId, StrategyId } from '../src/core/ids.js';
import type { Leg } from '../src/core/leg.js';
import { EpochMs, Qty } from '../src/core/quantity.js';
import type { Dividend } from '../src/core/quote-view.js';
import type { StrategyDefinition } from '../src/core/strategy.js';

export const RISK_N = 10_000;
export const RISK_ACCOUNT = AccountId.unsafe('DU0000001');
export const RISK_SYMBOLS = Array.from({ length: 50 }, (_, i) => `S${String.fromCharCode(65 + (i % 26))}${Math.floor(i / 26)}`);
export const RISK_NOW = EpochMs.unsafe(Date.parse('2026-02-11T11:00:00-05:00'));
export const RISK_VOLATILITY = 0.25;

export const riskSpot = (s: string): number => 80 + (RISK_SYMBOLS.indexOf(s) % 10) * 5;
export const riskDividends = (s: string): readonly Dividend[] => (RISK_SYMBOLS.indexOf(s) % 2 === 1 ? [{ exDate: '2026-02-13', amount: 0.9 }] : []);

/** The `n` iron condors, strikes around the spot, expiries 1-5 weeks out. */
export function riskStrategies(n: number = RISK_N): StrategyDefinition[] {
  return Array.from({ length: n }, (_, i) => {
    const sym = RISK_SYMBOLS[i % RISK_SYMBOLS.length]!;
    const s = riskSpot(sym);
    const shift = i % 20 === 0 ? 40 : i % 20 === 1 ? -25 : 0;
    const k = Math.round(s + shift);
    const exp = i % 3 === 0 ? '2026-03-20' : '2026-02-20';
    const leg = (right: 'C' | 'P', strike: number, qty: number): Leg => ({ contract: option({ symbol: sym, right, strike, expiry: exp }), qty: Qty.unsafe(qty) });
    return {
      id: StrategyId.unsafe(`ic-${i}`),
      account: RISK_ACCOUNT,
      kind: 'iron-condor' as const,
      legs: [leg('P', k - 15, 1), leg('P', k - 5, -1), leg('C', k + 5, -1), leg('C', k + 15, 1)],
      createdAt: EpochMs.unsafe(RISK_NOW - n + i),
    };
  });
}
