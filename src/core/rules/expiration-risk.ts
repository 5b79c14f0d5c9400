import type { Right } from '../contract.js';

/** The pin band is at least this fraction of the spot. */
export const PIN_BAND_MIN_FRACTION = 0.005;
/** Holders may decide until 17:30 New York on expiration day: the after-hours window after the 16:00 close. */
export const AFTER_HOURS_MS = 90 * 60_000;

export interface ExpirationRiskInput {
  readonly right: Right;
  readonly spot: number;
  readonly strike: number;
  /** Years from now to the holders' last decision (the close plus the after-hours window). */
  readonly time: number;
  /** The model's volatility; null: the band is its minimum fraction. */
  readonly vol: number | null;
}

export type ExpirationRiskNumbers = {
  readonly S: number;
  readonly K: number;
  readonly tau: number;
  /** In the money by this much (negative: out of the money by it). */
  readonly moneyness: number;
  /** |S - K|: the distance to the strike. */
  readonly distance: number;
  /** max(0.5% of S, one standard deviation of the move to the holders' last decision). */
  readonly band: number;
};

export interface ExpirationRisk {
  readonly atRisk: boolean;
  readonly numbers: ExpirationRiskNumbers;
  readonly reason: string;
}

/**
 * A short leg at expiry: at risk when in the money (at least $0.01, the clearing house's exercise-by-exception line)
 * or within the pin band of its strike, where the holder's choice after the close cannot be known.
 *
 * @example expirationRisk({ right: 'C', spot: 100.3, strike: 100, time: 2 / (365 * 24), vol: 0.2 }).atRisk // true
 */
export function expirationRisk(input: ExpirationRiskInput): ExpirationRisk {
  const { right, spot: S, strike: K } = input;
  const t = Math.max(0, input.time);
  const moneyness = right === 'C' ? S - K : K - S;
  const distance = Math.abs(S - K);
  const sd = input.vol !== null && input.vol > 0 ? S * input.vol * Math.sqrt(t) : 0;
  const band = Math.max(PIN_BAND_MIN_FRACTION * S, sd);
  const itm = moneyness >= 0.01 - 1e-9;
  const pinned = distance <= band;
  const f = (x: number): string => x.toFixed(2);
  const reason = itm
    ? `in the money by ${f(moneyness)} (S ${f(S)}, K ${f(K)}): exercised by exception at the close`
    : pinned
      ? `within the pin band: ${f(distance)} from the strike, band ${f(band)}`
      : `out of the money by ${f(-moneyness)}, outside the pin band ${f(band)}`;
  return { atRisk: itm || pinned, numbers: { S, K, tau: t, moneyness, distance, band }, reason };
}
