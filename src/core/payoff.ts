import type { Contract } from './contract.js';

export interface PayoffPosition {
  readonly contract: Contract;
  /** Signed: contracts for options, shares for stock. */
  readonly qty: number;
}

/**
 * What positions are worth at expiry with the underlying at `price`: each option its intrinsic value times its
 * multiplier, each share the price. Premiums paid or received are not in it (the store does not keep them): the
 * curve's shape, its kinks at the strikes and its slope past them, is what a person reads risk from.
 *
 * @example valueAtExpiry([{ contract: put440, qty: -2 }], 430) // -2 * 100 * 10 = -2000
 */
export function valueAtExpiry(positions: readonly PayoffPosition[], price: number): number {
  let v = 0;
  for (const p of positions) {
    const c = p.contract;
    if (c.secType === 'STK') v += p.qty * price;
    else v += p.qty * c.multiplier * (c.right === 'C' ? Math.max(0, price - c.strike) : Math.max(0, c.strike - price));
  }
  return v;
}

/**
 * Prices to draw a payoff over: from well below the lowest strike to well above the highest (a quarter of the span,
 * at least 10% of the middle), `points` of them, every strike among them so that each kink is drawn exactly.
 */
export function payoffPrices(strikes: readonly number[], points = 81, around: number | null = null): number[] {
  const marks = [...strikes, ...(around !== null && Number.isFinite(around) && around > 0 ? [around] : [])];
  if (marks.length === 0) return [];
  const lo = Math.min(...marks);
  const hi = Math.max(...marks);
  const pad = Math.max((hi - lo) / 4, ((hi + lo) / 2) * 0.1, 1);
  const from = Math.max(0, lo - pad);
  const to = hi + pad;
  const step = (to - from) / Math.max(1, points - 1);
  const grid = new Set<number>();
  for (let i = 0; i < points; i++) grid.add(Math.round((from + i * step) * 100) / 100);
  for (const k of strikes) grid.add(k);
  return [...grid].sort((a, b) => a - b);
}
