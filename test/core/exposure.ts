/**
 * A test oracle for "exposure", written apart from src/core/exposure.ts so that properties about close plans do not
 * restate the planner's rule. It prices a position in one underlying at the options' intrinsic values on a grid of
 * prices and asks two questions:
 *
 * - how much it loses per unit rise when the price runs away upward (`unbounded`: measured from the payoff at two
 *   very large prices), and
 * - the worst loss per unit of move from the spot to any price on the grid (0 to four times the spot, plus every
 *   strike) or beyond it (`perMove`).
 *
 * Unbounded loss outranks any bounded one.
 */
export interface OracleOption {
  readonly right: 'C' | 'P';
  readonly strike: number;
  /** Signed contracts. */
  readonly qty: number;
  readonly multiplier: number;
}

export interface OraclePosition {
  readonly shares: number;
  readonly options: readonly OracleOption[];
}

export interface OracleRisk {
  readonly unbounded: number;
  readonly perMove: number;
}

export function valueAt(p: OraclePosition, price: number): number {
  let v = p.shares * price;
  for (const o of p.options) {
    const intrinsic = o.right === 'C' ? Math.max(0, price - o.strike) : Math.max(0, o.strike - price);
    v += o.qty * o.multiplier * intrinsic;
  }
  return v;
}

export function riskOf(p: OraclePosition, spot: number): OracleRisk {
  const far = 1e7;
  const rise = (valueAt(p, 2 * far) - valueAt(p, far)) / far;
  const unbounded = Math.max(0, -rise);
  const here = valueAt(p, spot);
  const prices = new Set<number>(p.options.map((o) => o.strike));
  const steps = 1600;
  for (let i = 0; i <= steps; i++) prices.add((4 * spot * i) / steps);
  let perMove = unbounded;
  for (const s of prices) {
    if (s === spot) continue;
    perMove = Math.max(perMove, (here - valueAt(p, s)) / Math.abs(s - spot));
  }
  return { unbounded, perMove };
}

/** Negative when `a` is the smaller exposure; within rounding, equal. */
export function compareRisk(a: OracleRisk, b: OracleRisk): number {
  const close = (x: number, y: number): boolean => Math.abs(x - y) <= 1e-6 * Math.max(1, Math.abs(x), Math.abs(y));
  if (!close(a.unbounded, b.unbounded)) return a.unbounded - b.unbounded;
  if (!close(a.perMove, b.perMove)) return a.perMove - b.perMove;
  return 0;
}

export function describeRisk(r: OracleRisk): string {
  return `unbounded ${r.unbounded.toFixed(2)}/unit, worst ${r.perMove.toFixed(2)}/unit of move`;
}
