import { LegguardError } from '../errors.js';
import { checkOptionInput, dividendsPv, intrinsic, type OptionInput } from './option-input.js';

export interface TreeOptions {
  /** Time steps; 1,000 or more where accuracy matters (about 0.002 from the exact value), fewer for quotes. */
  readonly steps?: number;
  readonly style?: 'american' | 'european';
}

export interface TreeResult {
  readonly price: number;
  /** From the first two levels of the tree. */
  readonly delta: number;
  readonly gamma: number;
  /** What holding the option one more step is worth at the root (discounted expectation). */
  readonly continuation: number;
  /** Exercising now pays this. */
  readonly intrinsic: number;
  /** True when an American holder does better exercising now than holding: intrinsic > continuation. */
  readonly exerciseNow: boolean;
}

/**
 * The Cox-Ross-Rubinstein binomial tree, American or European, with a continuous dividend yield and discrete cash
 * dividends. Cash dividends are escrowed (Hull, "Options, Futures and Other Derivatives", the known-dollar-dividend
 * tree): the tree models the spot less the present value of the dividends before expiry, and at each node the present
 * value of the dividends still to come is added back to give the stock price that exercise pays against. This keeps
 * the tree recombining.
 *
 * @example
 *   // Hull: American put, S = K = 50, r = 10%, sigma = 40%, 5 months, 5 steps: 4.4885
 *   binomial({ right: 'P', spot: 50, strike: 50, time: 5 / 12, rate: 0.1, vol: 0.4 }, { steps: 5 }).price
 */
export function binomial(input: OptionInput, opts: TreeOptions = {}): TreeResult {
  checkOptionInput(input);
  const n = opts.steps ?? 1000;
  if (!Number.isSafeInteger(n) || n < 2) {
    throw new LegguardError('INVALID_INPUT', `pricing: steps must be a whole number >= 2; got ${n}`, { field: 'steps' });
  }
  const american = (opts.style ?? 'american') === 'american';
  const { right, spot, strike: k, time: t, rate: r, vol: v } = input;
  const q = input.dividendYield ?? 0;
  const now = intrinsic(right, spot, k);
  if (t === 0) return { price: now, delta: 0, gamma: 0, continuation: now, intrinsic: now, exerciseNow: false };

  const dt = t / n;
  const u = Math.exp(v * Math.sqrt(dt));
  const d = 1 / u;
  const p = (Math.exp((r - q) * dt) - d) / (u - d);
  if (!(p > 0 && p < 1)) {
    throw new LegguardError(
      'INVALID_INPUT',
      `pricing: ${n} steps are too few for rate ${r}, yield ${q} and volatility ${v} (risk-neutral probability ${p.toFixed(4)})`,
      { field: 'steps' },
    );
  }
  const disc = Math.exp(-r * dt);
  const pu = disc * p;
  const pd = disc * (1 - p);
  const sign = right === 'C' ? 1 : -1;

  // Present value, at each step's time, of the cash dividends paid after it and before expiry.
  const divs = input.dividends ?? [];
  const pvAfter = new Float64Array(n + 1);
  if (divs.length > 0) for (let i = 0; i <= n; i++) pvAfter[i] = dividendsPv(divs, r, i * dt, t);
  const sStar = spot - pvAfter[0]!;
  if (sStar <= 0) {
    throw new LegguardError('INVALID_INPUT', `pricing: dividends (present value ${pvAfter[0]!.toFixed(4)}) exceed the spot ${spot}`, {
      field: 'dividends',
    });
  }

  const values = new Float64Array(n + 1);
  const u2 = u * u;
  let s = sStar * Math.pow(d, n);
  for (let j = 0; j <= n; j++) {
    values[j] = Math.max(0, sign * (s - k));
    s *= u2;
  }
  // Level 2 and level 1 values are kept for delta and gamma.
  let level2: [number, number, number] = [0, 0, 0];
  let level1: [number, number] = [0, 0];
  for (let i = n - 1; i >= 0; i--) {
    const add = pvAfter[i]!;
    let node = sStar * Math.pow(d, i);
    for (let j = 0; j <= i; j++) {
      const cont = pu * values[j + 1]! + pd * values[j]!;
      if (american) {
        const ex = sign * (node + add - k);
        values[j] = ex > cont ? ex : cont;
      } else {
        values[j] = cont;
      }
      node *= u2;
    }
    if (i === 2) level2 = [values[0]!, values[1]!, values[2]!];
    if (i === 1) level1 = [values[0]!, values[1]!];
  }
  const continuation = pu * level1[1] + pd * level1[0];
  const price = values[0]!;

  // Stock prices at levels 1 and 2, dividends still to come included.
  const s1u = sStar * u + pvAfter[1]!;
  const s1d = sStar * d + pvAfter[1]!;
  const delta = (level1[1] - level1[0]) / (s1u - s1d);
  let gamma = 0;
  if (n >= 2) {
    const s2uu = sStar * u2 + pvAfter[2]!;
    const s2ud = sStar + pvAfter[2]!;
    const s2dd = sStar * d * d + pvAfter[2]!;
    const dUp = (level2[2] - level2[1]) / (s2uu - s2ud);
    const dDown = (level2[1] - level2[0]) / (s2ud - s2dd);
    gamma = (dUp - dDown) / (0.5 * (s2uu - s2dd));
  }
  return { price, delta, gamma, continuation, intrinsic: now, exerciseNow: american && now > 0 && now > continuation };
}
