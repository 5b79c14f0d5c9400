import { option, stock, type OptionContract, type Right, type StockContract } from '../../src/core/contract.js';
import { StrategyId } from '../../src/core/ids.js';
import type { Leg } from '../../src/core/leg.js';
import { Price, Qty } from '../../src/core/quantity.js';
import type { QuoteView } from '../../src/core/quote-view.js';

/** Test helpers: terse contracts, legs and quotes. */
export const EXP = '2026-01-30';

export function opt(symbol: string, right: Right, strike: number, expiry = EXP): OptionContract {
  return option({ symbol, right, strike, expiry });
}

export const put = (strike: number, expiry = EXP, symbol = 'SPY'): OptionContract => opt(symbol, 'P', strike, expiry);
export const call = (strike: number, expiry = EXP, symbol = 'SPY'): OptionContract => opt(symbol, 'C', strike, expiry);
export const SPY: StockContract = stock('SPY');

export function leg(contract: OptionContract | StockContract, qty: number): Leg {
  return { contract, qty: Qty.unsafe(qty) };
}

export const sid = (s: string): StrategyId => StrategyId.unsafe(s);

export function quote(bid: number | null, ask: number | null, last: number | null = null): QuoteView {
  return {
    bid: bid === null ? null : Price.unsafe(bid),
    ask: ask === null ? null : Price.unsafe(ask),
    last: last === null ? null : Price.unsafe(last),
  };
}

/** New York wall time on a date, as epoch ms (EST/EDT handled by the calendar). */
export function ny(iso: string): number {
  return Date.parse(iso);
}
