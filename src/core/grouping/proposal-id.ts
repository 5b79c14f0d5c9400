import { isOption } from '../contract.js';
import { StrategyId } from '../ids.js';
import type { Leg } from '../leg.js';
import type { StrategyKind } from '../strategy.js';

/**
 * A proposal's id from what it is: underlying, kind and nearest expiry, `spy-iron-condor-2027-01-15`; `-2`, `-3` ...
 * when that is taken (a second condor of the same expiry, or a strategy of that name already in the store).
 */
export function proposalId(symbol: string, kind: StrategyKind, legs: readonly Leg[], taken: ReadonlySet<string>): StrategyId {
  const expiries = legs.flatMap((l) => (isOption(l.contract) ? [l.contract.expiry as string] : [])).sort();
  const clean = symbol.toLowerCase().replace(/[^a-z0-9]/g, '') || 'x';
  const base = [clean, kind, ...(expiries.length > 0 ? [expiries[0]!] : [])].join('-');
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
  return StrategyId.parse(id);
}
