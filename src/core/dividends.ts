import type { Dividend } from './quote-view.js';

/**
 * The dividends the rules price with: those stated in the config or the scenario (`dividends:`) and those the broker
 * announced (IB generic tick 456), one per ex-date, in ex-date order. On an ex-date both name, the stated amount
 * wins: a person wrote it down on purpose (a special dividend, a correction the broker does not show yet).
 *
 * @example mergeDividends([{ exDate: '2026-02-13', amount: 1.03 }], [{ exDate: '2026-02-13', amount: 0.99 }, { exDate: '2026-05-14', amount: 1.03 }])
 *   // [{ exDate: '2026-02-13', amount: 1.03 }, { exDate: '2026-05-14', amount: 1.03 }]
 */
export function mergeDividends(stated: readonly Dividend[], broker: readonly Dividend[]): readonly Dividend[] {
  if (broker.length === 0) return stated;
  const byDate = new Map<string, Dividend>();
  for (const d of broker) byDate.set(d.exDate, d);
  for (const d of stated) byDate.set(d.exDate, d);
  return [...byDate.values()].sort((a, b) => (a.exDate < b.exDate ? -1 : a.exDate > b.exDate ? 1 : 0));
}

/** Whether two dividend lists name the same ex-dates and amounts (in any order). */
export function sameDividends(a: readonly Dividend[], b: readonly Dividend[]): boolean {
  if (a.length !== b.length) return false;
  const key = (xs: readonly Dividend[]): string => xs.map((d) => `${d.exDate}:${d.amount}`).sort().join(',');
  return key(a) === key(b);
}
