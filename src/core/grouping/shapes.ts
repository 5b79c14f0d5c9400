import type { Contract, OptionContract, StockContract } from '../contract.js';
import type { ContractKey } from '../ids.js';

/** What is left of one contract while a book is being grouped: the quantity falls as structures take it. */
export interface Slot {
  readonly key: ContractKey;
  readonly contract: Contract;
  qty: number;
}

export interface OptionSlot extends Slot {
  readonly contract: OptionContract;
}

export interface StockSlot extends Slot {
  readonly contract: StockContract;
}

/**
 * One unit of a structure: per slot, the signed quantity one unit takes (an iron condor's unit is -1/+1 on each
 * wing; a covered call's is +100 shares and -1 call). A structure found in a book is taken `units` times.
 */
export type Shape = readonly { readonly slot: Slot; readonly unit: number }[];

/** How many whole units of `shape` the slots hold, each with the unit's sign; 0 when one does not. */
export function unitsIn(shape: Shape): number {
  let n = Infinity;
  for (const { slot, unit } of shape) {
    if (unit === 0 || Math.sign(slot.qty) !== Math.sign(unit)) return 0;
    n = Math.min(n, Math.floor(Math.abs(slot.qty) / Math.abs(unit)));
  }
  return Number.isFinite(n) ? n : 0;
}

/** The options of one underlying (sorted by expiry, right, strike) and its stock, as a structure finder sees them. */
export interface UnderlyingBook {
  readonly options: readonly OptionSlot[];
  readonly stock: StockSlot | null;
}

/** Finds one structure with at least one unit in the book (the first in a fixed order), or null. */
export type Finder = (book: UnderlyingBook) => Shape | null;
