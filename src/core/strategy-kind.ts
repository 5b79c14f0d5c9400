import { contractKey, isOption, type OptionContract } from './contract.js';
import type { Leg } from './leg.js';
import type { StrategyKind } from './strategy.js';

interface OptLeg {
  readonly c: OptionContract;
  readonly qty: number;
}

/**
 * The kind of a strategy, from its legs, when the user does not say. Legs on the same contract are summed first and
 * zero legs dropped, so `[-1, -1]` on one put is a 2-lot short put. Every kind is checked with its signs and ratios;
 * anything that does not fit a kind exactly is `custom`.
 *
 * - vertical: two options, same right and expiry, different strikes, opposite signs, equal size.
 * - straddle / strangle: a call and a put, same expiry and sign and size; same strike / different strikes.
 * - calendar: same right and strike, different expiries, opposite signs, equal size.
 * - diagonal: same right, different strikes and expiries, opposite signs, equal size.
 * - ratio spread: same right and expiry, different strikes, opposite signs, one side a whole multiple (2 or more) of
 *   the other (1x2, 2x6).
 * - butterfly: three strikes of one right and expiry, equally spaced, wings `n` and body `-2n` (or the reverse).
 * - iron condor: a put vertical below a call vertical, same expiry and size, both short or both long premium
 *   (short puts and calls inside the long wings, or the reverse). Iron butterfly: the inner strikes coincide.
 * - covered call: long stock and short calls, with at least `multiplier` shares for each call.
 * - collar: long stock, a long put below a short call of one expiry and size, at least `multiplier` shares a call.
 * - cash-secured put: a lone short put.
 *
 * @example
 *   inferKind([{ contract: put440, qty: -2 }, { contract: put435, qty: 2 }]) // 'vertical'
 *   inferKind([{ contract: call450, qty: 1 }, { contract: call455, qty: -1 }, { contract: call460, qty: 1 }])
 *     // 'custom': a butterfly's body is twice its wings
 */
export function inferKind(legs: readonly Leg[]): StrategyKind {
  const merged = new Map<string, { leg: Leg; qty: number }>();
  for (const leg of legs) {
    const key = contractKey(leg.contract);
    const m = merged.get(key);
    if (m) m.qty += leg.qty;
    else merged.set(key, { leg, qty: leg.qty });
  }
  const opts: OptLeg[] = [];
  let stockQty = 0;
  let stockLegs = 0;
  const symbols = new Set<string>();
  for (const { leg, qty } of merged.values()) {
    if (qty === 0) continue;
    symbols.add(leg.contract.symbol);
    if (isOption(leg.contract)) opts.push({ c: leg.contract, qty });
    else {
      stockLegs++;
      stockQty += qty;
    }
  }
  if (symbols.size !== 1) return 'custom';
  if (opts.some((o) => o.c.multiplier !== opts[0]!.c.multiplier)) return 'custom';

  if (stockLegs > 0) return coveredCall(stockQty, opts) ? 'covered-call' : collar(stockQty, opts) ? 'collar' : 'custom';
  opts.sort((a, b) => a.c.strike - b.c.strike || (a.c.right < b.c.right ? -1 : a.c.right > b.c.right ? 1 : 0));
  switch (opts.length) {
    case 1:
      return opts[0]!.c.right === 'P' && opts[0]!.qty < 0 ? 'cash-secured-put' : 'custom';
    case 2:
      return twoLegs(opts[0]!, opts[1]!);
    case 3:
      return butterfly(opts[0]!, opts[1]!, opts[2]!) ? 'butterfly' : 'custom';
    case 4:
      return iron(opts);
    default:
      return 'custom';
  }
}

function coveredCall(stockQty: number, opts: readonly OptLeg[]): boolean {
  if (stockQty <= 0 || opts.length === 0) return false;
  let calls = 0;
  for (const o of opts) {
    if (o.c.right !== 'C' || o.qty >= 0) return false;
    calls += -o.qty * o.c.multiplier;
  }
  return stockQty >= calls;
}

function collar(stockQty: number, opts: readonly OptLeg[]): boolean {
  if (stockQty <= 0 || opts.length !== 2) return false;
  const put = opts.find((o) => o.c.right === 'P');
  const call = opts.find((o) => o.c.right === 'C');
  if (!put || !call || put.qty <= 0 || call.qty >= 0 || put.qty !== -call.qty) return false;
  if (put.c.expiry !== call.c.expiry || put.c.strike >= call.c.strike) return false;
  return stockQty >= -call.qty * call.c.multiplier;
}

function twoLegs(a: OptLeg, b: OptLeg): StrategyKind {
  const sameExpiry = a.c.expiry === b.c.expiry;
  const sameSize = Math.abs(a.qty) === Math.abs(b.qty);
  if (a.c.right === b.c.right) {
    const opposite = Math.sign(a.qty) !== Math.sign(b.qty);
    if (!opposite) return 'custom';
    if (!sameSize) return sameExpiry && a.c.strike !== b.c.strike && isRatio(a.qty, b.qty) ? 'ratio-spread' : 'custom';
    if (sameExpiry && a.c.strike !== b.c.strike) return 'vertical';
    if (!sameExpiry && a.c.strike === b.c.strike) return 'calendar';
    if (!sameExpiry) return 'diagonal';
    return 'custom';
  }
  if (!sameSize) return 'custom';
  if (!sameExpiry || Math.sign(a.qty) !== Math.sign(b.qty)) return 'custom';
  return a.c.strike === b.c.strike ? 'straddle' : 'strangle';
}

function butterfly(lo: OptLeg, mid: OptLeg, hi: OptLeg): boolean {
  const right = lo.c.right;
  if (mid.c.right !== right || hi.c.right !== right) return false;
  if (mid.c.expiry !== lo.c.expiry || hi.c.expiry !== lo.c.expiry) return false;
  if (!(lo.c.strike < mid.c.strike && mid.c.strike < hi.c.strike)) return false;
  if (Math.abs(mid.c.strike - lo.c.strike - (hi.c.strike - mid.c.strike)) > 1e-9) return false;
  return lo.qty === hi.qty && mid.qty === -2 * lo.qty;
}

function iron(opts: readonly OptLeg[]): StrategyKind {
  const expiry = opts[0]!.c.expiry;
  if (opts.some((o) => o.c.expiry !== expiry)) return 'custom';
  const puts = opts.filter((o) => o.c.right === 'P');
  const calls = opts.filter((o) => o.c.right === 'C');
  if (puts.length !== 2 || calls.length !== 2) return 'custom';
  const size = Math.abs(opts[0]!.qty);
  if (opts.some((o) => Math.abs(o.qty) !== size)) return 'custom';
  // Sorted by strike: [outer put, inner put] and [inner call, outer call].
  const [putOut, putIn] = puts as [OptLeg, OptLeg];
  const [callIn, callOut] = calls as [OptLeg, OptLeg];
  if (putOut.c.strike === putIn.c.strike || callIn.c.strike === callOut.c.strike) return 'custom';
  const inner = Math.sign(putIn.qty);
  if (Math.sign(callIn.qty) !== inner || Math.sign(putOut.qty) !== -inner || Math.sign(callOut.qty) !== -inner) return 'custom';
  if (putIn.c.strike < callIn.c.strike) return 'iron-condor';
  if (putIn.c.strike === callIn.c.strike) return 'iron-butterfly';
  return 'custom';
}

/** True when one size is a whole multiple, 2 or more, of the other: 1x2, 1x3, 2x4. */
export function isRatio(a: number, b: number): boolean {
  const lo = Math.min(Math.abs(a), Math.abs(b));
  const hi = Math.max(Math.abs(a), Math.abs(b));
  return lo > 0 && hi > lo && hi % lo === 0;
}
