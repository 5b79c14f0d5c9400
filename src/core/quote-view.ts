import type { Price } from './quantity.js';

/**
 * The part of a quote pure code reads. The broker port's `Quote` has these fields and more, so the engine passes its
 * quotes as they are; core code does not depend on the ports.
 */
export interface QuoteView {
  readonly bid: Price | null;
  readonly ask: Price | null;
  readonly last: Price | null;
}

/** A dividend the broker announced for an underlying (IB generic tick 456), for rules about early-exercise risk. */
export interface Dividend {
  /** `YYYY-MM-DD`, New York. */
  readonly exDate: string;
  /** Per share, in the stock's currency. */
  readonly amount: number;
}
