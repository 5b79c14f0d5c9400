import type { Right } from '../contract.js';
import { LegguardError } from '../errors.js';

/** A cash dividend, `time` years from now (its ex-date), `amount` per share. */
export interface CashDividend {
  readonly time: number;
  readonly amount: number;
}

/**
 * What every pricing function takes. Times are in years (calendar days / 365 in this project); rates and volatility
 * are annual and continuously compounded. Dividends: either a continuous yield (`dividendYield`, for indices and the
 * textbook cases) or discrete cash dividends (`dividends`, for single stocks and ETFs), or neither.
 */
export interface OptionInput {
  readonly right: Right;
  readonly spot: number;
  readonly strike: number;
  readonly time: number;
  readonly rate: number;
  readonly vol: number;
  readonly dividendYield?: number;
  readonly dividends?: readonly CashDividend[];
}

function bad(field: string, rule: string, value: unknown): never {
  throw new LegguardError('INVALID_INPUT', `pricing: ${field} must be ${rule}; got ${JSON.stringify(value)}`, { field });
}

/** Checks an input and names the first bad field. Time 0 is allowed (the option is worth its intrinsic value). */
export function checkOptionInput(input: OptionInput): void {
  if (input.right !== 'C' && input.right !== 'P') bad('right', "'C' or 'P'", input.right);
  if (!(Number.isFinite(input.spot) && input.spot > 0)) bad('spot', 'a positive number', input.spot);
  if (!(Number.isFinite(input.strike) && input.strike > 0)) bad('strike', 'a positive number', input.strike);
  if (!(Number.isFinite(input.time) && input.time >= 0)) bad('time', 'a number of years >= 0', input.time);
  if (!Number.isFinite(input.rate)) bad('rate', 'a finite number', input.rate);
  if (!(Number.isFinite(input.vol) && input.vol > 0)) bad('vol', 'a positive number', input.vol);
  if (input.dividendYield !== undefined && !Number.isFinite(input.dividendYield)) {
    bad('dividendYield', 'a finite number', input.dividendYield);
  }
  for (const [i, d] of (input.dividends ?? []).entries()) {
    if (!(Number.isFinite(d.time) && d.time >= 0)) bad(`dividends[${i}].time`, 'a number of years >= 0', d.time);
    if (!(Number.isFinite(d.amount) && d.amount >= 0)) bad(`dividends[${i}].amount`, 'a number >= 0', d.amount);
  }
}

/** Present value of the cash dividends paid within `(from, to]` years, discounted to `from`. */
export function dividendsPv(dividends: readonly CashDividend[] | undefined, rate: number, from: number, to: number): number {
  let pv = 0;
  for (const d of dividends ?? []) if (d.time > from && d.time <= to) pv += d.amount * Math.exp(-rate * (d.time - from));
  return pv;
}

export function intrinsic(right: Right, spot: number, strike: number): number {
  return Math.max(0, right === 'C' ? spot - strike : strike - spot);
}
