import { contractKey, type Contract } from '../contract.js';
import type { ExecutionReport } from '../events.js';
import type { ContractKey } from '../ids.js';
import type { Leg } from '../leg.js';
import { Qty } from '../quantity.js';

/**
 * The legs of each combo order among `executions`: executions sharing a perm id (IB reports a BAG order's fills one
 * per leg, each with the combo's perm id) summed per contract and signed (a SELL is negative), oldest combo first.
 * Only orders with two or more contracts are combos; executions without a perm id tell nothing.
 *
 * @example
 *   tradedTogether([sell 440 P (perm 7), buy 435 P (perm 7), buy 200 SPY (perm 8)])
 *   // [[-1 440 P, +1 435 P]]
 */
export function tradedTogether(executions: readonly ExecutionReport[]): Leg[][] {
  const orders = new Map<number, { first: number; legs: Map<ContractKey, { contract: Contract; qty: number }> }>();
  for (const e of executions) {
    if (e.permId === undefined || e.permId === null) continue;
    const o = orders.get(e.permId) ?? { first: e.tsEvent, legs: new Map<ContractKey, { contract: Contract; qty: number }>() };
    orders.set(e.permId, o);
    o.first = Math.min(o.first, e.tsEvent);
    const key = contractKey(e.contract);
    const l = o.legs.get(key) ?? { contract: e.contract, qty: 0 };
    l.qty += e.side === 'BUY' ? e.qty : 0 - e.qty;
    o.legs.set(key, l);
  }
  return [...orders]
    .sort(([pa, a], [pb, b]) => a.first - b.first || pa - pb)
    .map(([, o]) => [...o.legs.values()].filter((l) => l.qty !== 0).map((l): Leg => ({ contract: l.contract, qty: Qty.unsafe(l.qty) })))
    .filter((legs) => legs.length >= 2);
}
