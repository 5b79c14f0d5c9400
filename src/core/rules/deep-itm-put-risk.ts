import { putEarlyExerciseDecision } from '../pricing/early-exercise.js';
import type { CashDividend } from '../pricing/option-input.js';

/** Within this much (per share) of its intrinsic value, an American put is at its early-exercise boundary. */
export const DEEP_ITM_EPSILON = 0.005;

export interface DeepItmPutRiskInput {
  readonly spot: number;
  readonly strike: number;
  readonly rate: number;
  /** Years to expiry. */
  readonly time: number;
  /** The model's volatility; null when unknown (then the put's market mid stands for its American value). */
  readonly vol: number | null;
  /** Cash dividends before expiry, `time` in years from now. */
  readonly dividends?: readonly CashDividend[];
  /** The put's market mid, when quoted. */
  readonly putQuote?: number | null;
  readonly epsilon?: number;
  readonly steps?: number;
}

export type DeepItmPutRiskNumbers = {
  readonly S: number;
  readonly K: number;
  readonly tau: number;
  /** PV of the dividends before expiry. */
  readonly D: number;
  readonly intrinsic: number;
  /** K (1 - e^{-r tau}): the interest a holder earns on the strike by exercising now. */
  readonly carry: number;
  /** C_E(S, K, tau): the insurance a holder gives up by exercising; null when the market decided. */
  readonly callValue: number | null;
  /** The American put (the tree, or the market mid); null when the necessary screen already says hold. */
  readonly americanValue: number | null;
  readonly valueSource: 'model' | 'market';
  /** American value less intrinsic: the time value left, 0 at the boundary; null when not priced. */
  readonly distance: number | null;
};

export interface DeepItmPutRisk {
  readonly atRisk: boolean;
  readonly numbers: DeepItmPutRiskNumbers;
  readonly reason: string;
}

/**
 * Whether a holder of a short American put exercises it now: at risk when the put's American value is within
 * `epsilon` of its intrinsic value (the spot at or past the early-exercise boundary). The necessary screen
 * K (1 - e^{-r tau}) >= C_E + PV(dividends) comes first; the binomial tree decides. Without a volatility the market
 * mid stands for the American value. Null when neither is known.
 *
 * @example
 *   // S 60, K 100, sigma .30, r 5%, 91 days: American value 40.0000 = intrinsic: at risk
 *   deepItmPutRisk({ spot: 60, strike: 100, rate: 0.05, time: 91 / 365, vol: 0.3 }).atRisk // true
 */
export function deepItmPutRisk(input: DeepItmPutRiskInput): DeepItmPutRisk | null {
  const { spot: S, strike: K, rate: r, time: t } = input;
  if (!(S > 0 && K > 0 && t >= 0)) return null;
  const eps = input.epsilon ?? DEEP_ITM_EPSILON;
  const intrinsic = Math.max(0, K - S);
  const carry = K * (1 - Math.exp(-r * t));
  const divPv = (input.dividends ?? []).filter((d) => d.time > 0 && d.time <= t).reduce((n, d) => n + d.amount * Math.exp(-r * d.time), 0);
  const f = (x: number): string => x.toFixed(4);
  const vol = input.vol !== null && Number.isFinite(input.vol) && input.vol > 0 ? input.vol : null;
  if (vol !== null) {
    const x = putEarlyExerciseDecision({
      spot: S,
      strike: K,
      vol,
      rate: r,
      time: t,
      ...(input.dividends ? { dividends: input.dividends } : {}),
      ...(input.steps !== undefined ? { steps: input.steps } : {}),
    });
    const american = x.americanValue;
    const distance = american === null ? null : Math.max(0, american - intrinsic);
    const atRisk = intrinsic > 0 && x.screen && (x.exercise || (distance !== null && distance <= eps));
    const numbers: DeepItmPutRiskNumbers = { S, K, tau: t, D: divPv, intrinsic, carry, callValue: x.callValue, americanValue: american, valueSource: 'model', distance };
    const reason =
      intrinsic <= 0
        ? `out of the money (S ${f(S)} >= K ${f(K)})`
        : !x.screen
          ? `carry ${f(carry)} < call ${f(x.callValue)} + dividends ${f(divPv)}: holding is worth more than exercising`
          : `carry ${f(carry)} >= call ${f(x.callValue)} + dividends ${f(divPv)}; American value ${f(american!)} ${atRisk ? 'at' : 'above'} intrinsic ${f(intrinsic)}`;
    return { atRisk, numbers, reason };
  }
  const q = input.putQuote;
  if (q === undefined || q === null || !Number.isFinite(q) || q < 0) return null;
  const distance = Math.max(0, q - intrinsic);
  const atRisk = intrinsic > 0 && distance <= eps;
  const numbers: DeepItmPutRiskNumbers = { S, K, tau: t, D: divPv, intrinsic, carry, callValue: null, americanValue: q, valueSource: 'market', distance };
  const reason = intrinsic <= 0 ? `out of the money (S ${f(S)} >= K ${f(K)})` : `market mid ${f(q)} ${atRisk ? 'at' : 'above'} intrinsic ${f(intrinsic)} (no volatility: the market decides)`;
  return { atRisk, numbers, reason };
}
