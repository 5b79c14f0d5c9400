import { normCdf, normPdf } from './normal.js';
import { checkOptionInput, dividendsPv, intrinsic, type OptionInput } from './option-input.js';

/** A price with its sensitivities. Vega and rho per 1.00 (100 percentage points); theta per year. */
export interface PriceAndGreeks {
  readonly price: number;
  readonly delta: number;
  readonly gamma: number;
  readonly vega: number;
  readonly theta: number;
  readonly rho: number;
}

/**
 * The generalized Black-Scholes-Merton price of a European option with cost of carry `b` (b = r - q; b = 0 for an
 * option on a future). The building block the approximations (Barone-Adesi-Whaley, Bjerksund-Stensland) take.
 */
export function gbsPrice(right: 'C' | 'P', s: number, k: number, t: number, r: number, b: number, v: number): number {
  if (t <= 0) return intrinsic(right, s, k);
  const sq = v * Math.sqrt(t);
  const d1 = (Math.log(s / k) + (b + (v * v) / 2) * t) / sq;
  const d2 = d1 - sq;
  const carry = Math.exp((b - r) * t);
  const disc = Math.exp(-r * t);
  return right === 'C'
    ? s * carry * normCdf(d1) - k * disc * normCdf(d2)
    : k * disc * normCdf(-d2) - s * carry * normCdf(-d1);
}

/**
 * A European option's Black-Scholes-Merton price and greeks. Dividends as a continuous yield, as discrete cash
 * dividends (escrowed: the spot less the present value of the dividends paid before expiry, Hull's approach), or both.
 *
 * @example
 *   // Hull: S = K = 40, r = 9%, sigma = 30%, six months, 0.50 dividends at 2 and 5 months: call 3.67
 *   blackScholes({ right: 'C', spot: 40, strike: 40, time: 0.5, rate: 0.09, vol: 0.3,
 *                  dividends: [{ time: 2 / 12, amount: 0.5 }, { time: 5 / 12, amount: 0.5 }] }).price
 */
export function blackScholes(input: OptionInput): PriceAndGreeks {
  checkOptionInput(input);
  const { right, strike: k, time: t, rate: r, vol: v } = input;
  const q = input.dividendYield ?? 0;
  const s = input.spot - dividendsPv(input.dividends, r, 0, t);
  if (t === 0 || s <= 0) {
    // At expiry (or when dividends eat the whole spot) only the intrinsic value is left.
    const itm = right === 'C' ? s > k : s < k;
    return {
      price: intrinsic(right, Math.max(s, 0), k),
      delta: itm ? (right === 'C' ? 1 : -1) : 0,
      gamma: 0,
      vega: 0,
      theta: 0,
      rho: 0,
    };
  }
  const sqt = Math.sqrt(t);
  const d1 = (Math.log(s / k) + (r - q + (v * v) / 2) * t) / (v * sqt);
  const d2 = d1 - v * sqt;
  const eq = Math.exp(-q * t);
  const er = Math.exp(-r * t);
  const pdf = normPdf(d1);
  const gamma = (eq * pdf) / (s * v * sqt);
  const vega = s * eq * pdf * sqt;
  if (right === 'C') {
    const nd1 = normCdf(d1);
    const nd2 = normCdf(d2);
    return {
      price: s * eq * nd1 - k * er * nd2,
      delta: eq * nd1,
      gamma,
      vega,
      theta: (-s * eq * pdf * v) / (2 * sqt) - r * k * er * nd2 + q * s * eq * nd1,
      rho: k * t * er * nd2,
    };
  }
  const nmd1 = normCdf(-d1);
  const nmd2 = normCdf(-d2);
  return {
    price: k * er * nmd2 - s * eq * nmd1,
    delta: -eq * nmd1,
    gamma,
    vega,
    theta: (-s * eq * pdf * v) / (2 * sqt) + r * k * er * nmd2 - q * s * eq * nmd1,
    rho: -k * t * er * nmd2,
  };
}
