import { exDividendCallDecision } from '../pricing/early-exercise.js';
import type { CashDividend } from '../pricing/option-input.js';

export interface ExDividendCallRiskInput {
  /** The stock on the last cum-dividend day. */
  readonly spot: number;
  readonly strike: number;
  readonly rate: number;
  /** The dividend paid at the coming ex-date. */
  readonly dividend: number;
  /** Years from the ex-date to expiry. */
  readonly tau: number;
  /** The model's volatility; null when unknown (then the market put decides alone, unconfirmed). */
  readonly vol: number | null;
  /** Dividends after this one and before expiry, `time` in years from the ex-date. */
  readonly laterDividends?: readonly CashDividend[];
  /** The same-strike, same-expiry put from the market (its mid) when quoted; else the model prices it. */
  readonly putQuote?: number | null;
  readonly steps?: number;
}

export type ExDividendCallRiskNumbers = {
  readonly S: number;
  readonly K: number;
  readonly tau: number;
  readonly D: number;
  /** P(S - D, K, tau). */
  readonly putValue: number;
  readonly putSource: 'market' | 'model';
  /** K (1 - e^{-r tau}): the interest on the strike a holder keeps by not exercising. */
  readonly carry: number;
  /** putValue + carry: the dividend must exceed it. */
  readonly threshold: number;
  /** S - K: what exercising before the ex-date pays. */
  readonly exerciseValue: number;
  /** The American call on S - D with the remaining dividends (what holding is worth); null without a volatility. */
  readonly americanValue: number | null;
  /** D - threshold: positive means past the boundary (exercise pays). */
  readonly distance: number;
};

export interface ExDividendCallRisk {
  readonly atRisk: boolean;
  readonly numbers: ExDividendCallRiskNumbers;
  readonly reason: string;
}

/**
 * Whether a holder of a short American call exercises it on the last day before the ex-date: at risk when
 * D > P(S - D, K, tau) + K (1 - e^{-r tau}) (the put from the market when quoted, else from the model), confirmed by
 * the American call on S - D with the remaining dividends being worth less than S - K. Null when it cannot be told:
 * no put quote and no volatility, or a dividend not below the spot.
 *
 * @example
 *   // S 100, K 80, sigma .25, r 5%, D 1.00, 59 days after the ex-date: put 0.0434 + carry 0.6440 < 1.00: at risk
 *   exDividendCallRisk({ spot: 100, strike: 80, rate: 0.05, dividend: 1, tau: 59 / 365, vol: 0.25 }).atRisk // true
 */
export function exDividendCallRisk(input: ExDividendCallRiskInput): ExDividendCallRisk | null {
  const { spot: S, strike: K, rate: r, dividend: D, tau } = input;
  if (!(S > 0 && K > 0 && D >= 0 && D < S && tau >= 0)) return null;
  const quoted = input.putQuote !== undefined && input.putQuote !== null && Number.isFinite(input.putQuote) && input.putQuote >= 0 ? input.putQuote : null;
  const vol = input.vol !== null && Number.isFinite(input.vol) && input.vol > 0 ? input.vol : null;
  if (quoted === null && vol === null) return null;
  const model =
    vol === null
      ? null
      : exDividendCallDecision({
          spot: S,
          strike: K,
          vol,
          rate: r,
          dividend: D,
          tau,
          ...(input.laterDividends ? { laterDividends: input.laterDividends } : {}),
          ...(input.steps !== undefined ? { steps: input.steps } : {}),
        });
  const putValue = quoted ?? model!.putValue;
  const carry = K * (1 - Math.exp(-r * tau));
  const threshold = putValue + carry;
  const exerciseValue = Math.max(0, S - K);
  const americanValue = model ? model.holdValue : null;
  const screen = exerciseValue > 0 && D > threshold;
  const confirmed = model === null ? screen : model.exercise;
  const atRisk = screen && confirmed;
  const numbers: ExDividendCallRiskNumbers = {
    S,
    K,
    tau,
    D,
    putValue,
    putSource: quoted !== null ? 'market' : 'model',
    carry,
    threshold,
    exerciseValue,
    americanValue,
    distance: D - threshold,
  };
  const f = (x: number): string => x.toFixed(4);
  const rule = `dividend ${f(D)} ${D > threshold ? '>' : '<='} put ${f(putValue)} (${numbers.putSource}) + carry ${f(carry)} = ${f(threshold)}`;
  const confirm =
    americanValue === null
      ? 'not confirmed by the model (no volatility)'
      : `exercising pays ${f(exerciseValue)}, holding (American call on S - D) is worth ${f(americanValue)}`;
  const reason = exerciseValue <= 0 ? `out of the money (S ${f(S)} <= K ${f(K)})` : `${rule}; ${confirm}`;
  return { atRisk, numbers, reason };
}
