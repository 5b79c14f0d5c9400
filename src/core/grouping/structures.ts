import { isRatio } from '../strategy-kind.js';
import { unitsIn, type Finder, type OptionSlot, type Shape, type UnderlyingBook } from './shapes.js';

/**
 * The structures grouping looks for, in the order it takes them: fewer, larger, risk-defined first (a short call
 * is covered by shares before it is the short side of a ratio spread). Each finder
 * returns the first structure (options in expiry, right, strike order) that the book holds at least once, with its
 * unit; the grouping takes as many units as there are and asks again. What a finder returns is exactly what
 * `inferKind` names that kind (table tests pin each pair).
 */

const live = (b: UnderlyingBook): OptionSlot[] => b.options.filter((o) => o.qty !== 0);
const sign = (n: number): number => Math.sign(n);
const sameSeries = (a: OptionSlot, b: OptionSlot): boolean => a.contract.multiplier === b.contract.multiplier;

function first(candidates: Iterable<Shape>): Shape | null {
  for (const s of candidates) if (unitsIn(s) > 0) return s;
  return null;
}

/** Iron condors and iron butterflies: a put vertical below (or touching) a call vertical, inner legs one sign. */
const iron: Finder = (b) =>
  first(
    (function* () {
      const opts = live(b);
      for (const [i, po] of opts.entries()) {
        if (po.contract.right !== 'P') continue;
        for (const pi of opts.slice(i + 1)) {
          if (pi.contract.right !== 'P' || pi.contract.expiry !== po.contract.expiry || pi.contract.strike === po.contract.strike) continue;
          if (!sameSeries(po, pi) || sign(pi.qty) === sign(po.qty)) continue;
          const s = sign(pi.qty);
          for (const [k, ci] of opts.entries()) {
            if (ci.contract.right !== 'C' || ci.contract.expiry !== po.contract.expiry || ci.contract.strike < pi.contract.strike) continue;
            if (!sameSeries(po, ci) || sign(ci.qty) !== s) continue;
            for (const co of opts.slice(k + 1)) {
              if (co.contract.right !== 'C' || co.contract.expiry !== po.contract.expiry || co.contract.strike === ci.contract.strike) continue;
              if (!sameSeries(po, co) || sign(co.qty) !== -s) continue;
              yield [
                { slot: po, unit: -s },
                { slot: pi, unit: s },
                { slot: ci, unit: s },
                { slot: co, unit: -s },
              ];
            }
          }
        }
      }
    })(),
  );

/** Butterflies: three equally spaced strikes of one right and expiry, wings `n`, body `-2n`. */
const butterfly: Finder = (b) =>
  first(
    (function* () {
      const opts = live(b);
      for (const [i, lo] of opts.entries()) {
        for (const [j, mid] of opts.entries()) {
          if (j <= i || !together(lo, mid) || mid.contract.strike <= lo.contract.strike || sign(mid.qty) === sign(lo.qty)) continue;
          for (const hi of opts.slice(j + 1)) {
            if (!together(lo, hi) || sign(hi.qty) !== sign(lo.qty)) continue;
            if (Math.abs(hi.contract.strike - mid.contract.strike - (mid.contract.strike - lo.contract.strike)) > 1e-9) continue;
            const s = sign(lo.qty);
            yield [
              { slot: lo, unit: s },
              { slot: mid, unit: -2 * s },
              { slot: hi, unit: s },
            ];
          }
        }
      }
    })(),
  );

/** Same right, expiry and multiplier. */
function together(a: OptionSlot, b: OptionSlot): boolean {
  return a.contract.right === b.contract.right && a.contract.expiry === b.contract.expiry && sameSeries(a, b);
}

/** Collars: long stock, a long put below a short call of one expiry, `multiplier` shares a pair. */
const collar: Finder = (b) => {
  const stk = b.stock;
  if (stk === null || stk.qty <= 0) return null;
  return first(
    (function* () {
      const opts = live(b);
      for (const put of opts) {
        if (put.contract.right !== 'P' || put.qty <= 0) continue;
        for (const call of opts) {
          if (call.contract.right !== 'C' || call.qty >= 0 || call.contract.expiry !== put.contract.expiry) continue;
          if (!sameSeries(put, call) || call.contract.strike <= put.contract.strike) continue;
          yield [
            { slot: stk, unit: call.contract.multiplier },
            { slot: put, unit: 1 },
            { slot: call, unit: -1 },
          ];
        }
      }
    })(),
  );
};

/** Two legs of one right and multiplier, opposite signs, chosen by `fits`; one contract of each a unit. */
function pairs(fits: (a: OptionSlot, b: OptionSlot) => boolean): Finder {
  return (b) =>
    first(
      (function* () {
        const opts = live(b);
        for (const [i, a] of opts.entries()) {
          for (const c of opts.slice(i + 1)) {
            if (a.contract.right !== c.contract.right || !sameSeries(a, c) || sign(a.qty) === sign(c.qty) || !fits(a, c)) continue;
            yield [
              { slot: a, unit: sign(a.qty) },
              { slot: c, unit: sign(c.qty) },
            ];
          }
        }
      })(),
    );
}

/**
 * Ratio spreads, taken whole before verticals: a 1x2 the book shows entire is one structure, not a vertical and a
 * naked leg. Only where one side is a whole multiple of the other (1x2, 2x4).
 */
const ratio: Finder = (b) =>
  first(
    (function* () {
      const opts = live(b);
      for (const [i, a] of opts.entries()) {
        for (const c of opts.slice(i + 1)) {
          if (!together(a, c) || a.contract.strike === c.contract.strike || sign(a.qty) === sign(c.qty) || !isRatio(a.qty, c.qty)) continue;
          yield [
            { slot: a, unit: a.qty },
            { slot: c, unit: c.qty },
          ];
        }
      }
    })(),
  );

const vertical = pairs((a, c) => a.contract.expiry === c.contract.expiry && a.contract.strike !== c.contract.strike);
const calendar = pairs((a, c) => a.contract.expiry !== c.contract.expiry && a.contract.strike === c.contract.strike);
const diagonal = pairs((a, c) => a.contract.expiry !== c.contract.expiry && a.contract.strike !== c.contract.strike);

/** Covered calls: one short call and `multiplier` shares a contract; shares beyond that stay loose. */
const coveredCall: Finder = (b) => {
  const stk = b.stock;
  if (stk === null || stk.qty <= 0) return null;
  return first(
    live(b)
      .filter((o) => o.contract.right === 'C' && o.qty < 0)
      .map((call): Shape => [
        { slot: stk, unit: call.contract.multiplier },
        { slot: call, unit: -1 },
      ]),
  );
};

/** Straddles and strangles: a call and a put of one expiry, the same sign. */
const callPut: Finder = (b) =>
  first(
    (function* () {
      const opts = live(b);
      // Straddles first: the same strike is the tighter structure.
      for (const strikeMatch of [true, false]) {
        for (const put of opts) {
          if (put.contract.right !== 'P') continue;
          for (const call of opts) {
            if (call.contract.right !== 'C' || call.contract.expiry !== put.contract.expiry || !sameSeries(put, call) || sign(call.qty) !== sign(put.qty)) continue;
            if ((call.contract.strike === put.contract.strike) !== strikeMatch) continue;
            const s = sign(put.qty);
            yield [
              { slot: put, unit: s },
              { slot: call, unit: s },
            ];
          }
        }
      }
    })(),
  );

/** Cash-secured puts: a short put on its own, taken whole. */
const cashSecuredPut: Finder = (b) => {
  const put = live(b).find((o) => o.contract.right === 'P' && o.qty < 0);
  return put ? [{ slot: put, unit: put.qty }] : null;
};

/** In the order they are taken. */
export const FINDERS: readonly Finder[] = [iron, butterfly, collar, coveredCall, ratio, vertical, calendar, diagonal, callPut, cashSecuredPut];
