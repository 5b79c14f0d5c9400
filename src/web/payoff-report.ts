import type { Holding } from '../core/book.js';
import type { Leg } from '../core/leg.js';
import { payoffPrices, valueAtExpiry } from '../core/payoff.js';
import type { StrategyRecord } from '../ports/store.js';

export interface StrategyPayoff {
  readonly account: string;
  readonly id: string;
  readonly state: string;
  readonly underlying: string;
  /** The earliest option expiry among its legs, or null (stock only). */
  readonly expiry: string | null;
  readonly strikes: readonly number[];
  /** The underlying's prices the curves are drawn at. */
  readonly prices: readonly number[];
  /** Value at expiry of the legs as defined: the strategy before any break. */
  readonly defined: readonly number[];
  /** Value at expiry of what it holds now (after a break and its close, often flat: all zeros). */
  readonly held: readonly number[];
  /** The latest underlying price the guard saw, or null (a read-only dashboard has no market data). */
  readonly underlyingPrice: number | null;
}

export interface PayoffReport {
  readonly strategies: readonly StrategyPayoff[];
}

/** Payoff-at-expiry curves per strategy, before (its legs) and now (its holdings), for the dashboard's plots. */
export function payoffReport(records: readonly StrategyRecord[], priceOf: (symbol: string) => number | null = () => null): PayoffReport {
  return {
    strategies: records.map((r) => {
      const legs: readonly (Leg | Holding)[] = r.definition.legs;
      const underlying = legs[0]?.contract.symbol ?? '';
      const strikes = [...new Set([...legs, ...r.holdings].flatMap((l) => (l.contract.secType === 'OPT' ? [l.contract.strike] : [])))].sort((a, b) => a - b);
      const expiries = legs.flatMap((l) => (l.contract.secType === 'OPT' ? [l.contract.expiry as string] : [])).sort();
      const underlyingPrice = underlying === '' ? null : priceOf(underlying);
      const prices = payoffPrices(strikes, 81, underlyingPrice);
      return {
        account: r.definition.account,
        id: r.definition.id,
        state: r.state,
        underlying,
        expiry: expiries[0] ?? null,
        strikes,
        prices,
        defined: prices.map((p) => valueAtExpiry(legs, p)),
        held: prices.map((p) => valueAtExpiry(r.holdings, p)),
        underlyingPrice,
      };
    }),
  };
}
