import type { Brand } from './brand.js';
import { LegguardError } from './errors.js';

/**
 * A signed whole number of contracts or shares: positive is long, negative is short. Positions, holdings and the
 * signed effect of an order are all `Qty`; an order leg's size is a positive `Qty` with a BUY/SELL action.
 */
export type Qty = Brand<number, 'Qty'>;

export const Qty = {
  /** Checked: a safe integer. */
  parse(value: unknown, what = 'quantity'): Qty {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      throw new LegguardError('INVALID_INPUT', `${what} must be a whole number; got ${JSON.stringify(value)}`);
    }
    return (value === 0 ? 0 : value) as Qty; // folds -0 into 0
  },
  unsafe(value: number): Qty {
    return (value === 0 ? 0 : value) as Qty;
  },
  zero: 0 as Qty,
  add(a: Qty, b: Qty): Qty {
    return Qty.unsafe(a + b);
  },
  sub(a: Qty, b: Qty): Qty {
    return Qty.unsafe(a - b);
  },
  neg(a: Qty): Qty {
    return Qty.unsafe(0 - a);
  },
  abs(a: Qty): Qty {
    return Qty.unsafe(Math.abs(a));
  },
  sign(a: Qty): -1 | 0 | 1 {
    return a > 0 ? 1 : a < 0 ? -1 : 0;
  },
  /**
   * True when moving from `before` to `after` keeps the sign and does not grow: |after| <= |before| and no flip.
   * `reduces(-2, 0)` and `reduces(-2, -1)` are true; `reduces(-2, 1)`, `reduces(0, 1)` and `reduces(2, 3)` are not.
   */
  reduces(before: Qty, after: Qty): boolean {
    if (after === 0) return true;
    return Math.sign(after) === Math.sign(before) && Math.abs(after) <= Math.abs(before);
  },
};

/** A price per share (stock) or per option (premium, before the multiplier), in the contract's currency. */
export type Price = Brand<number, 'Price'>;

export const Price = {
  parse(value: unknown, what = 'price'): Price {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new LegguardError('INVALID_INPUT', `${what} must be a finite number; got ${JSON.stringify(value)}`);
    }
    return value as Price;
  },
  unsafe(value: number): Price {
    return value as Price;
  },
  /** Rounds to a tick: 0.01 by default; options under $3 often trade in 0.05 off the penny pilot. */
  round(value: number, tick = 0.01, direction: 'up' | 'down' | 'nearest' = 'nearest'): Price {
    const n = value / tick;
    const r = direction === 'up' ? Math.ceil(n - 1e-9) : direction === 'down' ? Math.floor(n + 1e-9) : Math.round(n);
    return Price.unsafe(Number((r * tick).toFixed(6)));
  },
};

/** Milliseconds since the Unix epoch, from the injected clock or a broker message. */
export type EpochMs = Brand<number, 'EpochMs'>;
export const EpochMs = {
  unsafe(value: number): EpochMs {
    return value as EpochMs;
  },
  parse(value: unknown, what = 'time'): EpochMs {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new LegguardError('INVALID_INPUT', `${what} must be epoch milliseconds; got ${JSON.stringify(value)}`);
    }
    return value as EpochMs;
  },
};
