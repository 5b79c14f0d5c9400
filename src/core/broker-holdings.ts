import type { Holding } from './book.js';
import { contractKey, describeContract, type Contract } from './contract.js';
import { Qty } from './quantity.js';

/** A definition's legs as holdings: one per contract, quantities netted, zeros dropped. */
export function legHoldings(legs: readonly { readonly contract: Contract; readonly qty: number }[]): Holding[] {
  const net = new Map<string, { contract: Contract; qty: number }>();
  for (const l of legs) {
    const k = contractKey(l.contract);
    net.set(k, { contract: l.contract, qty: (net.get(k)?.qty ?? 0) + l.qty });
  }
  return [...net.values()].filter((h) => h.qty !== 0).map((h) => ({ contract: h.contract, qty: Qty.unsafe(h.qty) }));
}

/** What a strategy should hold, for a look at the broker without the guard's book (`legguard risk --config`). */
export interface WantedHoldings {
  readonly id: string;
  /** The guard's attributed holdings from the store, or the definition's legs (netted) for one not yet guarded. */
  readonly holdings: readonly Holding[];
}

export interface HeldAtBroker {
  readonly id: string;
  /** What the broker shows of each wanted holding: at most the wanted quantity, with its sign. */
  readonly holdings: readonly Holding[];
  /** Wanted holdings the broker does not show in full (`SPY 2026-02-20 P 440: wants -2, at the broker -1`). */
  readonly missing: readonly string[];
}

/**
 * Each strategy's holdings as far as the broker shows them: per contract, the broker's position is handed out to the
 * strategies in the order given (oldest first, as the guard attributes), each taking at most what it wants and only
 * with the same sign. A short leg the broker no longer shows (assigned, closed by hand) is then not assessed as if it
 * were still there, and two strategies sharing a contract do not both count the same contracts.
 *
 * @example
 *   heldAtBroker([{ id: 'a', holdings: [{ contract: c440p, qty: -2 }] }], [{ contract: c440p, qty: -1 }])
 *   // [{ id: 'a', holdings: [{ contract: c440p, qty: -1 }], missing: ['SPY 2026-02-20 440 P: wants -2, the broker shows -1 for it'] }]
 */
export function heldAtBroker(strategies: readonly WantedHoldings[], positions: readonly { readonly contract: Contract; readonly qty: number }[]): HeldAtBroker[] {
  const left = new Map<string, number>();
  for (const p of positions) {
    const k = contractKey(p.contract);
    left.set(k, (left.get(k) ?? 0) + p.qty);
  }
  return strategies.map((s) => {
    const holdings: Holding[] = [];
    const missing: string[] = [];
    for (const h of s.holdings) {
      if (h.qty === 0) continue;
      const k = contractKey(h.contract);
      const have = left.get(k) ?? 0;
      const take = Math.sign(have) === Math.sign(h.qty) ? Math.sign(h.qty) * Math.min(Math.abs(h.qty), Math.abs(have)) : 0;
      if (take !== 0) {
        holdings.push({ contract: h.contract, qty: Qty.unsafe(take) });
        left.set(k, have - take);
      }
      if (take !== h.qty) missing.push(`${describeContract(h.contract)}: wants ${h.qty}, the broker shows ${take} for it`);
    }
    return { id: s.id, holdings, missing };
  });
}
