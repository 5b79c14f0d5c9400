import { contractKey, type Contract } from '../contract.js';
import type { ContractKey } from '../ids.js';
import type { Leg } from '../leg.js';
import { Qty } from '../quantity.js';

/**
 * What the broker shows beyond what guarded strategies hold: per contract, the broker's position less the sum of the
 * strategies' holdings (a PENDING strategy's legs count as held: it claims them). Nonzero differences only, in the
 * broker's order, then contracts only the strategies name.
 */
export function unguardedPositions(broker: readonly Leg[], held: readonly Leg[]): Leg[] {
  const net = new Map<ContractKey, { contract: Contract; qty: number }>();
  const add = (l: Leg, sign: number): void => {
    const key = contractKey(l.contract);
    const n = net.get(key) ?? { contract: l.contract, qty: 0 };
    n.qty += sign * l.qty;
    net.set(key, n);
  };
  for (const l of broker) add(l, 1);
  for (const l of held) add(l, -1);
  return [...net.values()].filter((n) => n.qty !== 0).map((n) => ({ contract: n.contract, qty: Qty.unsafe(n.qty) }));
}
