import type { Holding } from './book.js';
import { isOption, type OptionContract } from './contract.js';
import type { Detection } from './detection.js';
import { nakedShorts } from './naked-shorts.js';
import type { StrategyKind } from './strategy.js';

/** What a covered call's or a cash-secured put's assignment leaves, when it is the plan completing. */
export interface PlanCompleted {
  /** `called-away`: a covered call's shares went with its calls. `shares-assigned`: a cash-secured put bought them. */
  readonly outcome: 'called-away' | 'shares-assigned';
  /** Before the option's expiry close: its holder exercised early (a call ahead of a dividend, a put deep in the money). */
  readonly early: boolean;
  /** The assigned options' detections (the option legs, not the stock they moved). */
  readonly assigned: readonly Detection[];
  /** What the strategy goes on holding: the options not assigned and, for a covered call, the shares covering them. */
  readonly keeps: readonly Holding[];
  /** Shares the strategy no longer needs, handed to the account outside any strategy: never sold. */
  readonly handsOver: readonly Holding[];
}

/**
 * Whether the changes `ds` of a strategy of kind `kind`, leaving it holding `after`, are its plan completing rather
 * than a break. A covered call is written to have its shares called away when the call ends in the money; a
 * cash-secured put to buy the shares when the put does. Neither leaves anything naked, so nothing needs closing:
 *
 * - covered call: its short calls assigned, the shares delivered out of the strategy's own; what is left is still
 *   covered (no naked call, no short stock). Early (before expiry) counts too: the holder may exercise any day, the
 *   writer sold the shares at the strike either way, and the strategy ends as at expiry, only sooner.
 * - cash-secured put: its short puts assigned, the shares received; the shares are the point of the trade, so they
 *   are kept, handed outside any strategy (a later covered call on them is a new strategy). What is left is short
 *   puts only.
 *
 * Anything else is not the plan (null): a manual trade, a liquidation, an unexplained change, a long leg exercised,
 * a covered call whose calls outnumber its shares, any other kind of strategy. Worthless expiries of other legs in
 * the same batch are part of the plan.
 *
 * @example
 *   // cc holds +100 SPY, -1 SPY 450 C; at expiry the call is assigned and the shares delivered:
 *   plannedAssignment('covered-call', [call +1, SPY -100], [], now) // { outcome: 'called-away', early: false, keeps: [], handsOver: [] }
 */
export function plannedAssignment(kind: StrategyKind, ds: readonly Detection[], after: readonly Holding[], now: number): PlanCompleted | null {
  const right = kind === 'covered-call' ? 'C' : kind === 'cash-secured-put' ? 'P' : null;
  if (right === null || ds.length === 0) return null;
  const assigned: Detection[] = [];
  for (const d of ds) {
    const c = d.contract;
    if (d.cause === 'expiration' && isOption(c)) continue;
    if (d.cause !== 'assignment') return null;
    if (isOption(c)) {
      if (c.right !== right || d.before >= 0 || d.change <= 0) return null;
      assigned.push(d);
    } else if (d.settles === null) return null;
  }
  if (assigned.length === 0) return null;

  const options = after.filter((h) => isOption(h.contract));
  const stock = after.filter((h) => !isOption(h.contract));
  if (stock.some((h) => h.qty < 0)) return null;
  if (options.some((h) => (h.contract as OptionContract).right !== right || h.qty > 0)) return null;
  if (right === 'C' && nakedShorts(after, now).length > 0) return null;

  const early = assigned.some((d) => d.kind === 'EARLY');
  // A covered call keeps the shares its remaining calls need (all it holds, as its owner defined it); once no call is
  // left, and for a cash-secured put always, the shares are the account holder's.
  const keepStock = right === 'C' && options.length > 0;
  return {
    outcome: right === 'C' ? 'called-away' : 'shares-assigned',
    early,
    assigned,
    keeps: keepStock ? after : options,
    handsOver: keepStock ? [] : stock,
  };
}
