import type { Contract } from './contract.js';
import type { Qty } from './quantity.js';

/** One position a strategy is meant to hold: an option or a stock (a covered call has a stock leg). */
export interface Leg {
  readonly contract: Contract;
  /** Signed: -2 is two contracts short. */
  readonly qty: Qty;
}
