import type { Right } from './contract.js';

/** One option position of an underlying, for exposure: `units` is signed quantity times multiplier (shares). */
export interface ExposureOption {
  readonly right: Right;
  readonly strike: number;
  readonly units: number;
}

/**
 * What a position in one underlying can lose, read from its payoff with every option at its intrinsic value (the
 * time value is what the close pays or gets; what is at risk is how the payoff moves with the underlying).
 *
 * - `unbounded`: shares' worth of loss per unit rise with no limit: short stock and short calls not offset by long
 *   stock or long calls. Nothing bounded outweighs it.
 * - `perMove`: the largest loss per unit of a move of the underlying from `spot` to any price (0 to infinity), in
 *   currency per currency unit of move: 200 for 200 shares long, about 100 for a short call in the money, K/spot*100
 *   for a short put far out of the money (its worst is the stock going to 0). 0 when `spot` is unknown.
 */
export interface Exposure {
  readonly unbounded: number;
  readonly perMove: number;
}

export const NO_EXPOSURE: Exposure = { unbounded: 0, perMove: 0 };

/** The payoff's slope at `s` (from the right when `side` is 1, from the left when -1). */
function slope(shares: number, options: readonly ExposureOption[], s: number, side: 1 | -1): number {
  let d = shares;
  for (const o of options) {
    if (o.right === 'C' && (side === 1 ? s >= o.strike : s > o.strike)) d += o.units;
    if (o.right === 'P' && (side === 1 ? s < o.strike : s <= o.strike)) d -= o.units;
  }
  return d;
}

function payoff(shares: number, options: readonly ExposureOption[], s: number): number {
  let v = shares * s;
  for (const o of options) v += o.units * (o.right === 'C' ? Math.max(s - o.strike, 0) : Math.max(o.strike - s, 0));
  return v;
}

export function exposureOf(shares: number, options: readonly ExposureOption[], spot: number | null): Exposure {
  const atInfinity = slope(shares, options, Number.POSITIVE_INFINITY, 1);
  const unbounded = Math.max(0, -atInfinity);
  if (spot === null || !(spot > 0)) return { unbounded, perMove: 0 };
  // The payoff is linear between strikes, so the loss per unit of move is largest at a strike, at 0, right next to
  // the spot (the local slopes) or at infinity (the last slope).
  let perMove = Math.max(0, unbounded, slope(shares, options, spot, -1), -slope(shares, options, spot, 1));
  const here = payoff(shares, options, spot);
  for (const s of [0, ...options.map((o) => o.strike)]) {
    if (s === spot) continue;
    perMove = Math.max(perMove, (here - payoff(shares, options, s)) / Math.abs(s - spot));
  }
  return { unbounded, perMove };
}

/** Lexicographic: unbounded loss first, then the loss per move; differences within a share's worth are equal. */
export function compareExposure(a: Exposure, b: Exposure): number {
  const EPS = 1e-6;
  if (Math.abs(a.unbounded - b.unbounded) > EPS) return a.unbounded - b.unbounded;
  if (Math.abs(a.perMove - b.perMove) > EPS) return a.perMove - b.perMove;
  return 0;
}

export function addExposure(a: Exposure, b: Exposure): Exposure {
  return { unbounded: a.unbounded + b.unbounded, perMove: a.perMove + b.perMove };
}

/**
 * How many of `|shares|` to trade toward zero while the options stay as they are (they cannot trade yet): all of it,
 * except (1) the shares whose sale would add unbounded loss (long stock under short calls: they bound the calls),
 * and (2) all of it when trading it would leave a larger loss per move than holding it (stock against a long option
 * of the other side deep in the money: together flat, the option alone is the full move). Never a fine-tuned
 * amount: with options at their intrinsic value the exact optimum is an artifact, and nobody wants 180 of 200 shares
 * sold.
 *
 * @example
 *   // Short 100 XOM, short one 95 put, XOM at 110: buying all 100 back leaves a put that can lose 9,500 but not
 *   // without limit; the stock alone can.
 *   stockToTrade(-100, [{ right: 'P', strike: 95, units: -100 }], 110) // 100
 *   // Long 150 shares under one short call: 50 may go, 100 bound the call.
 *   stockToTrade(150, [{ right: 'C', strike: 460, units: -100 }], 440) // 50
 */
export function stockToTrade(shares: number, options: readonly ExposureOption[], spot: number | null): number {
  const n = Math.abs(shares);
  const dir = -Math.sign(shares);
  const at = (x: number): Exposure => exposureOf(shares + dir * x, options, spot);
  // The unbounded loss is flat or linear in x with one kink, where the shares left equal the net short calls.
  const calls = options.reduce((a, o) => a + (o.right === 'C' ? o.units : 0), 0);
  const kink = Math.abs(shares + calls);
  let most = 0;
  for (const x of [n, Math.min(n, Math.floor(kink)), Math.min(n, Math.ceil(kink)), 0]) {
    if (at(x).unbounded <= at(most).unbounded + 1e-9 && (at(x).unbounded < at(most).unbounded - 1e-9 || x > most)) most = x;
  }
  const none = at(0);
  const some = at(most);
  if (some.unbounded < none.unbounded - 1e-9) return most;
  return some.perMove > none.perMove + 1e-9 ? 0 : most;
}
