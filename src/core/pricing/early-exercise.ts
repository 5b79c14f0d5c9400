import { binomial } from './binomial.js';
import { blackScholes } from './black-scholes.js';
import { checkOptionInput, dividendsPv, intrinsic, type CashDividend } from './option-input.js';
import { LegguardError } from '../errors.js';

/**
 * The textbook condition for exercising an American call on the last day before an ex-dividend date, when no later
 * dividend is paid before expiry: exercise exactly when the dividend is worth more than what holding keeps, the
 * European put on the ex-dividend price plus the interest on the strike,
 *
 *     D > P_E(S - D, K, tau) + K (1 - e^{-r tau})
 *
 * This form takes the put's price as given (a market price, as practitioners read it off the screen).
 *
 * @example
 *   // ASX, NAB ex-date 7 June 2004: D = 0.83, 17 days, r = 5.25%, the 30.00 put at 0.68: 0.68 + 0.073 < 0.83, exercise
 *   exDividendCallRule({ dividend: 0.83, putPrice: 0.68, strike: 30, rate: 0.0525, tau: 17 / 365, compounding: 'simple' })
 */
export function exDividendCallRule(input: {
  readonly dividend: number;
  readonly putPrice: number;
  readonly strike: number;
  readonly rate: number;
  /** Years from the ex-date to expiry. */
  readonly tau: number;
  /** Practitioner sheets (the ASX's) quote simple interest K r tau; the exact rule is continuous. */
  readonly compounding?: 'continuous' | 'simple';
}): { readonly exercise: boolean; readonly interest: number; readonly threshold: number } {
  const interest =
    input.compounding === 'simple'
      ? input.strike * input.rate * input.tau
      : input.strike * (1 - Math.exp(-input.rate * input.tau));
  const threshold = input.putPrice + interest;
  return { exercise: input.dividend > threshold, interest, threshold };
}

export interface ExDividendCallInput {
  /** The stock on the last cum-dividend day (when holders decide). */
  readonly spot: number;
  readonly strike: number;
  readonly vol: number;
  readonly rate: number;
  /** The dividend paid at the coming ex-date. */
  readonly dividend: number;
  /** Years from the ex-date to expiry. */
  readonly tau: number;
  /** Dividends after this one and before expiry, `time` in years from the ex-date. */
  readonly laterDividends?: readonly CashDividend[];
  /** Tree steps when later dividends make the American call worth pricing. */
  readonly steps?: number;
}

export interface ExDividendCallDecision {
  readonly exercise: boolean;
  /** S - K: what exercising before the ex-date pays (0 when out of the money). */
  readonly exerciseValue: number;
  /** The call on the ex-dividend stock S - D: what holding through the ex-date is worth. */
  readonly holdValue: number;
  /** P_E(S - D, K, tau): meaningful without later dividends. */
  readonly putValue: number;
  /** K (1 - e^{-r tau}). */
  readonly interest: number;
  /** putValue + interest: the dividend must exceed it. Without later dividends the decision is exactly D > threshold. */
  readonly threshold: number;
}

/**
 * Should a holder of an American call exercise it on the last day before an ex-dividend date? Without later
 * dividends the rule above decides, with the put priced by Black-Scholes. With later dividends the rule is only
 * necessary, so the American call on S - D with the remaining dividends is priced on a binomial tree and exercise is
 * optimal when S - K is worth more.
 */
export function exDividendCallDecision(input: ExDividendCallInput): ExDividendCallDecision {
  const { spot: s, strike: k, vol, rate: r, dividend: d, tau } = input;
  if (!(Number.isFinite(d) && d >= 0)) {
    throw new LegguardError('INVALID_INPUT', `pricing: dividend must be a number >= 0; got ${d}`, { field: 'dividend' });
  }
  if (!(s - d > 0)) {
    throw new LegguardError('INVALID_INPUT', `pricing: dividend ${d} is not below the spot ${s}`, { field: 'dividend' });
  }
  const exerciseValue = intrinsic('C', s, k);
  const exDiv = s - d;
  const base = { right: 'P' as const, spot: exDiv, strike: k, time: tau, rate: r, vol };
  checkOptionInput(base);
  const putValue = blackScholes(base).price;
  const interest = k * (1 - Math.exp(-r * tau));
  const threshold = putValue + interest;
  const later = (input.laterDividends ?? []).filter((x) => x.time > 0 && x.time <= tau && x.amount > 0);
  let holdValue: number;
  if (later.length === 0) {
    // Put-call parity: C_E(S - D) = S - D - K e^{-r tau} + P_E(S - D); an American call without dividends is European.
    holdValue = exDiv - k * Math.exp(-r * tau) + putValue;
  } else {
    holdValue = tau === 0 ? intrinsic('C', exDiv, k) : binomial({ ...base, right: 'C', dividends: later }, { steps: input.steps ?? 1000 }).price;
  }
  return { exercise: exerciseValue > 0 && exerciseValue > holdValue, exerciseValue, holdValue, putValue, interest, threshold };
}

export interface PutEarlyExerciseInput {
  readonly spot: number;
  readonly strike: number;
  readonly vol: number;
  readonly rate: number;
  /** Years to expiry. */
  readonly time: number;
  /** Cash dividends before expiry, `time` in years from now. */
  readonly dividends?: readonly CashDividend[];
  readonly steps?: number;
}

export interface PutEarlyExerciseDecision {
  /** True when the American put is worth no more than its intrinsic value: exercising now is optimal. */
  readonly exercise: boolean;
  /** The necessary screen K (1 - e^{-r tau}) >= C_E(S, K, tau) + PV(dividends). When it fails, holding is better. */
  readonly screen: boolean;
  readonly carry: number;
  readonly callValue: number;
  readonly dividendsPv: number;
  /** From the tree; null when the screen already said hold. */
  readonly americanValue: number | null;
  readonly intrinsic: number;
}

/**
 * Should the holder of a deep in-the-money American put exercise it now? Exactly when the American value equals the
 * intrinsic value, which the binomial tree decides (the root's continuation value is below intrinsic). The cheap
 * necessary screen comes first: interest earned on the strike must outweigh the call (the insurance given up) plus
 * the dividends the holder would miss.
 *
 * @example
 *   // S = 60, K = 100, 91 days, sigma 30%, r 5%: carry 1.2388 > call 0.0013, American value 40.0000: exercise
 *   putEarlyExerciseDecision({ spot: 60, strike: 100, vol: 0.3, rate: 0.05, time: 91 / 365 }).exercise // true
 */
export function putEarlyExerciseDecision(input: PutEarlyExerciseInput): PutEarlyExerciseDecision {
  const { spot: s, strike: k, vol, rate: r, time: t } = input;
  const base = {
    right: 'C' as const,
    spot: s,
    strike: k,
    time: t,
    rate: r,
    vol,
    ...(input.dividends ? { dividends: input.dividends } : {}),
  };
  checkOptionInput(base);
  const now = intrinsic('P', s, k);
  const carry = k * (1 - Math.exp(-r * t));
  const divPv = dividendsPv(input.dividends, r, 0, t);
  // Parity with dividends: C_E here is the call on the same dividend-paying stock.
  const callValue = blackScholes(base).price;
  const screen = now > 0 && carry >= callValue + divPv;
  if (!screen || t === 0) {
    return { exercise: false, screen, carry, callValue, dividendsPv: divPv, americanValue: null, intrinsic: now };
  }
  const tree = binomial({ ...base, right: 'P' }, { steps: input.steps ?? 1000 });
  return { exercise: tree.exerciseNow, screen, carry, callValue, dividendsPv: divPv, americanValue: tree.price, intrinsic: now };
}

/** What an option's price holds beyond its intrinsic value. A short option with little of it left is at risk. */
export function timeValue(price: number, right: 'C' | 'P', spot: number, strike: number): number {
  return Math.max(0, price - intrinsic(right, spot, strike));
}
