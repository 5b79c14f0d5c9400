import { LegguardError } from '../errors.js';
import { gbsPrice } from './black-scholes.js';
import { normCdf, normPdf } from './normal.js';
import { checkOptionInput, type OptionInput } from './option-input.js';

/**
 * The Barone-Adesi-Whaley (1987) quadratic approximation of an American option with a continuous dividend yield, as
 * Haug gives it ("The Complete Guide to Option Pricing Formulas"). Fast and within a few cents on ordinary grids;
 * discrete cash dividends are not its domain (use `binomial`).
 *
 * @example
 *   // Haug / QuantLib: call, S = 100, K = 100, r = q = 10%, sigma = 15%, T = 0.1: 1.8771
 *   baroneAdesiWhaley({ right: 'C', spot: 100, strike: 100, time: 0.1, rate: 0.1, dividendYield: 0.1, vol: 0.15 })
 */
export function baroneAdesiWhaley(input: OptionInput): number {
  checkOptionInput(input);
  if (input.dividends !== undefined && input.dividends.length > 0) {
    throw new LegguardError('INVALID_INPUT', 'pricing: Barone-Adesi-Whaley takes a dividend yield, not cash dividends; use binomial', {
      field: 'dividends',
    });
  }
  const { right, spot: s, strike: k, time: t, rate: r, vol: v } = input;
  const b = r - (input.dividendYield ?? 0);
  if (t === 0) return gbsPrice(right, s, k, t, r, b, v);
  return right === 'C' ? bawCall(s, k, t, r, b, v) : bawPut(s, k, t, r, b, v);
}

function bawCall(s: number, k: number, t: number, r: number, b: number, v: number): number {
  // With carry at least the rate an American call is never exercised early.
  if (b >= r) return gbsPrice('C', s, k, t, r, b, v);
  const sk = criticalCall(k, t, r, b, v);
  const n = (2 * b) / (v * v);
  const kk = (2 * r) / (v * v * (1 - Math.exp(-r * t)));
  const d1 = (Math.log(sk / k) + (b + (v * v) / 2) * t) / (v * Math.sqrt(t));
  const q2 = (-(n - 1) + Math.sqrt((n - 1) ** 2 + 4 * kk)) / 2;
  const a2 = (sk / q2) * (1 - Math.exp((b - r) * t) * normCdf(d1));
  return s < sk ? gbsPrice('C', s, k, t, r, b, v) + a2 * (s / sk) ** q2 : s - k;
}

function bawPut(s: number, k: number, t: number, r: number, b: number, v: number): number {
  const sk = criticalPut(k, t, r, b, v);
  const n = (2 * b) / (v * v);
  const kk = (2 * r) / (v * v * (1 - Math.exp(-r * t)));
  const d1 = (Math.log(sk / k) + (b + (v * v) / 2) * t) / (v * Math.sqrt(t));
  const q1 = (-(n - 1) - Math.sqrt((n - 1) ** 2 + 4 * kk)) / 2;
  const a1 = -(sk / q1) * (1 - Math.exp((b - r) * t) * normCdf(-d1));
  return s > sk ? gbsPrice('P', s, k, t, r, b, v) + a1 * (s / sk) ** q1 : k - s;
}

const TOLERANCE = 1e-6;
const MAX_ITER = 200;

/** The critical stock price above which the call is exercised, by Newton-Raphson from Haug's seed. */
function criticalCall(k: number, t: number, r: number, b: number, v: number): number {
  const sqt = v * Math.sqrt(t);
  const n = (2 * b) / (v * v);
  const m = (2 * r) / (v * v);
  const q2u = (-(n - 1) + Math.sqrt((n - 1) ** 2 + 4 * m)) / 2;
  const su = k / (1 - 1 / q2u);
  const h2 = (-(b * t + 2 * sqt) * k) / (su - k);
  let si = k + (su - k) * (1 - Math.exp(h2));
  const kk = (2 * r) / (v * v * (1 - Math.exp(-r * t)));
  const q2 = (-(n - 1) + Math.sqrt((n - 1) ** 2 + 4 * kk)) / 2;
  const carry = Math.exp((b - r) * t);
  for (let i = 0; i < MAX_ITER; i++) {
    const d1 = (Math.log(si / k) + (b + (v * v) / 2) * t) / sqt;
    const lhs = si - k;
    const rhs = gbsPrice('C', si, k, t, r, b, v) + ((1 - carry * normCdf(d1)) * si) / q2;
    if (Math.abs(lhs - rhs) / k <= TOLERANCE) break;
    const slope = carry * normCdf(d1) * (1 - 1 / q2) + (1 - (carry * normPdf(d1)) / sqt) / q2;
    si = (k + rhs - slope * si) / (1 - slope);
  }
  return si;
}

/** The critical stock price below which the put is exercised. */
function criticalPut(k: number, t: number, r: number, b: number, v: number): number {
  const sqt = v * Math.sqrt(t);
  const n = (2 * b) / (v * v);
  const m = (2 * r) / (v * v);
  const q1u = (-(n - 1) - Math.sqrt((n - 1) ** 2 + 4 * m)) / 2;
  const su = k / (1 - 1 / q1u);
  const h1 = ((b * t - 2 * sqt) * k) / (k - su);
  let si = su + (k - su) * Math.exp(h1);
  const kk = (2 * r) / (v * v * (1 - Math.exp(-r * t)));
  const q1 = (-(n - 1) - Math.sqrt((n - 1) ** 2 + 4 * kk)) / 2;
  const carry = Math.exp((b - r) * t);
  for (let i = 0; i < MAX_ITER; i++) {
    const d1 = (Math.log(si / k) + (b + (v * v) / 2) * t) / sqt;
    const lhs = k - si;
    const rhs = gbsPrice('P', si, k, t, r, b, v) - ((1 - carry * normCdf(-d1)) * si) / q1;
    if (Math.abs(lhs - rhs) / k <= TOLERANCE) break;
    const slope = -carry * normCdf(-d1) * (1 - 1 / q1) - (1 + (carry * normPdf(-d1)) / sqt) / q1;
    si = (k - rhs + slope * si) / (1 + slope);
  }
  return si;
}
