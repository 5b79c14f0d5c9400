import { LegguardError } from '../errors.js';
import { gbsPrice } from './black-scholes.js';
import { bivariateNormCdf, normCdf } from './normal.js';
import { checkOptionInput, type OptionInput } from './option-input.js';

/**
 * The Bjerksund-Stensland (2002) approximation of an American option with a continuous dividend yield, as Haug gives
 * it: a two-step flat exercise boundary. A put is priced as a call through the put-call transformation
 * P(S, K, T, r, b) = C(K, S, T, r - b, -b).
 *
 * @example
 *   // Haug: call, S = 90, K = 100, T = 0.5, r = q = 10%, sigma = 15%: 0.8099
 *   bjerksundStensland({ right: 'C', spot: 90, strike: 100, time: 0.5, rate: 0.1, dividendYield: 0.1, vol: 0.15 })
 */
export function bjerksundStensland(input: OptionInput): number {
  checkOptionInput(input);
  if (input.dividends !== undefined && input.dividends.length > 0) {
    throw new LegguardError('INVALID_INPUT', 'pricing: Bjerksund-Stensland takes a dividend yield, not cash dividends; use binomial', {
      field: 'dividends',
    });
  }
  const { right, spot: s, strike: k, time: t, rate: r, vol: v } = input;
  const b = r - (input.dividendYield ?? 0);
  if (t === 0) return gbsPrice(right, s, k, t, r, b, v);
  return right === 'C' ? call2002(s, k, t, r, b, v) : call2002(k, s, t, r - b, -b, v);
}

function call2002(s: number, k: number, t: number, r: number, b: number, v: number): number {
  if (b >= r) return gbsPrice('C', s, k, t, r, b, v);
  const v2 = v * v;
  const t1 = 0.5 * (Math.sqrt(5) - 1) * t;
  const beta = 0.5 - b / v2 + Math.sqrt((b / v2 - 0.5) ** 2 + (2 * r) / v2);
  const bInf = (beta / (beta - 1)) * k;
  const b0 = Math.max(k, (r / (r - b)) * k);
  const ht1 = (-(b * t1 + 2 * v * Math.sqrt(t1)) * k * k) / ((bInf - b0) * b0);
  const ht2 = (-(b * t + 2 * v * Math.sqrt(t)) * k * k) / ((bInf - b0) * b0);
  const i1 = b0 + (bInf - b0) * (1 - Math.exp(ht1));
  const i2 = b0 + (bInf - b0) * (1 - Math.exp(ht2));
  if (s >= i2) return s - k;
  const alpha1 = (i1 - k) * i1 ** -beta;
  const alpha2 = (i2 - k) * i2 ** -beta;
  const ph = (tt: number, g: number, h: number, i: number): number => phi(s, tt, g, h, i, r, b, v);
  const ks = (g: number, h: number): number => ksi(s, t, g, h, i2, i1, t1, r, b, v);
  return (
    alpha2 * s ** beta -
    alpha2 * ph(t1, beta, i2, i2) +
    ph(t1, 1, i2, i2) -
    ph(t1, 1, i1, i2) -
    k * ph(t1, 0, i2, i2) +
    k * ph(t1, 0, i1, i2) +
    alpha1 * ph(t1, beta, i1, i2) -
    alpha1 * ks(beta, i1) +
    ks(1, i1) -
    ks(1, k) -
    k * ks(0, i1) +
    k * ks(0, k)
  );
}

function phi(s: number, t: number, gamma: number, h: number, i: number, r: number, b: number, v: number): number {
  const v2 = v * v;
  const lambda = (-r + gamma * b + 0.5 * gamma * (gamma - 1) * v2) * t;
  const d = -(Math.log(s / h) + (b + (gamma - 0.5) * v2) * t) / (v * Math.sqrt(t));
  const kappa = (2 * b) / v2 + 2 * gamma - 1;
  return Math.exp(lambda) * s ** gamma * (normCdf(d) - (i / s) ** kappa * normCdf(d - (2 * Math.log(i / s)) / (v * Math.sqrt(t))));
}

function ksi(
  s: number,
  t2: number,
  gamma: number,
  h: number,
  i2: number,
  i1: number,
  t1: number,
  r: number,
  b: number,
  v: number,
): number {
  const v2 = v * v;
  const m = b + (gamma - 0.5) * v2;
  const st1 = v * Math.sqrt(t1);
  const st2 = v * Math.sqrt(t2);
  const e1 = (Math.log(s / i1) + m * t1) / st1;
  const e2 = (Math.log((i2 * i2) / (s * i1)) + m * t1) / st1;
  const e3 = (Math.log(s / i1) - m * t1) / st1;
  const e4 = (Math.log((i2 * i2) / (s * i1)) - m * t1) / st1;
  const f1 = (Math.log(s / h) + m * t2) / st2;
  const f2 = (Math.log((i2 * i2) / (s * h)) + m * t2) / st2;
  const f3 = (Math.log((i1 * i1) / (s * h)) + m * t2) / st2;
  const f4 = (Math.log((s * i1 * i1) / (h * i2 * i2)) + m * t2) / st2;
  const rho = Math.sqrt(t1 / t2);
  const lambda = -r + gamma * b + 0.5 * gamma * (gamma - 1) * v2;
  const kappa = (2 * b) / v2 + (2 * gamma - 1);
  return (
    Math.exp(lambda * t2) *
    s ** gamma *
    (bivariateNormCdf(-e1, -f1, rho) -
      (i2 / s) ** kappa * bivariateNormCdf(-e2, -f2, rho) -
      (i1 / s) ** kappa * bivariateNormCdf(-e3, -f3, -rho) +
      (i1 / i2) ** kappa * bivariateNormCdf(-e4, -f4, -rho))
  );
}
