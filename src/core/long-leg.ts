import type { Holding } from './book.js';
import { expiryClose } from './calendar.js';
import { contractKey, describeContract, formatStrike, isOption, stockFromSettlement, type Contract, type OptionContract } from './contract.js';
import { Qty, type EpochMs } from './quantity.js';
import type { QuoteView } from './quote-view.js';

/**
 * What a long option left after its short partner was assigned is worth to each way out, per contract, in money:
 * selling it at the bid, or exercising it into (or out of) the stock the assignment left. The costs are the
 * broker's: its commission on an option trade, its fee for an exercise, and its commission per share for the stock
 * trade an exercise makes unnecessary (the shares it delivers would otherwise be sold or bought back).
 */
export interface LongLegCosts {
  /** Commission per option contract sold. */
  readonly optionCommission: number;
  /** Fee per contract exercised (IB charges none on US equity options; a clearing fee elsewhere). */
  readonly exerciseFee: number;
  /** Commission per share of the stock trade the exercise replaces. */
  readonly stockCommissionPerShare: number;
}

export const DEFAULT_LONG_LEG_COSTS: LongLegCosts = { optionCommission: 0.65, exerciseFee: 0, stockCommissionPerShare: 0.005 };

export type LongLegAction = 'sell' | 'exercise' | 'hold';

/** The decision for `qty` contracts of one long option, with the numbers behind it. */
export interface LongLegDecision {
  readonly contract: OptionContract;
  readonly action: LongLegAction;
  /** Contracts, positive. */
  readonly qty: Qty;
  /** Per share (the option's unit): the stock price the intrinsic value is read against, and that value. */
  readonly stockPrice: number | null;
  readonly intrinsic: number | null;
  readonly bid: number | null;
  /** Per contract, in money: what selling brings net of commission, what exercising brings net of its costs. */
  readonly sellValue: number | null;
  readonly exerciseValue: number | null;
  readonly reason: string;
}

export interface LongLegInput {
  readonly contract: OptionContract;
  /** Contracts held long, positive. */
  readonly qty: Qty;
  /** Shares of the deliverable stock the same strategy holds (signed): what an exercise can deliver out of. */
  readonly stockHeld: Qty;
  readonly optionQuote: QuoteView | null;
  /** The stock's quote: a put's exercise replaces a sale at the bid, a call's a purchase at the ask. */
  readonly stockQuote: QuoteView | null;
  readonly now: EpochMs;
  readonly costs?: LongLegCosts;
}

/**
 * Sell or exercise a long option whose short partner is gone? Exercise only where it closes stock the strategy
 * already holds (a long put delivers long shares, a long call takes back short ones), never into a new position: at
 * most as many contracts as that stock covers. For those, exercise when the bid net of commission is below the
 * intrinsic value net of the exercise's costs (which saves the stock trade's commission); sell otherwise. Out of the
 * money there is nothing to exercise for: sell if anyone bids, else hold (left to expire). European or cash-settled
 * options, and options past their last trading moment, are never exercised here.
 *
 * @example
 *   // put spread, short 440 put assigned: +100 SPY (bid 420.00), long 435 put bid 14.60 (intrinsic 15.00)
 *   decideLongLeg({ contract: put435, qty: 1, stockHeld: 100, optionQuote: { bid: 14.6, ... }, stockQuote: { bid: 420, ... }, now })
 *   // [{ action: 'exercise', qty: 1, sellValue: 1459.35, exerciseValue: 1500.5, ... }]
 */
export function decideLongLeg(input: LongLegInput): LongLegDecision[] {
  const { contract: c, qty } = input;
  const costs = input.costs ?? DEFAULT_LONG_LEG_COSTS;
  const m = c.multiplier;
  const bid = input.optionQuote?.bid ?? null;
  const sellValue = bid === null ? null : round(bid * m - costs.optionCommission);
  const base = { contract: c, bid, sellValue };
  const sellOrHold = (n: number, why: string, extra: Partial<LongLegDecision> = {}): LongLegDecision => {
    const action: LongLegAction = bid !== null && bid > 0 ? 'sell' : 'hold';
    const tail = action === 'sell' ? `sell at the bid ${bid}` : 'nobody bids: hold (left to expire)';
    return { stockPrice: null, intrinsic: null, exerciseValue: null, ...base, ...extra, action, qty: Qty.unsafe(n), reason: `${describeContract(c)}: ${why}; ${tail}` };
  };
  if (qty <= 0) return [];
  if (c.style !== 'american' || c.settlement !== 'physical') return [sellOrHold(qty, `${c.style}, ${c.settlement}-settled: not exercised early`)];
  if (input.now >= expiryClose(c.expiry)) return [sellOrHold(qty, 'past its last trading moment')];
  const stockPrice = (c.right === 'P' ? input.stockQuote?.bid : input.stockQuote?.ask) ?? input.stockQuote?.last ?? null;
  if (stockPrice === null) return [sellOrHold(qty, 'no stock price to read its intrinsic value against')];
  const intrinsic = round(c.right === 'P' ? c.strike - stockPrice : stockPrice - c.strike);
  const numbers = { stockPrice, intrinsic };
  if (intrinsic <= 0) return [sellOrHold(qty, `out of the money (${c.symbol} ${stockPrice}, strike ${formatStrike(c.strike)})`, numbers)];
  // Each contract exercised moves stockFromSettlement(c, 1) shares; only as many as close stock already held.
  const perContract = stockFromSettlement(c, 1);
  const coverable = Math.sign(input.stockHeld) === -Math.sign(perContract) ? Math.floor(Math.abs(input.stockHeld) / Math.abs(perContract)) : 0;
  const n = Math.min(qty, coverable);
  const exerciseValue = round(intrinsic * m - costs.exerciseFee + costs.stockCommissionPerShare * Math.abs(perContract));
  const out: LongLegDecision[] = [];
  if (n > 0) {
    if (sellValue !== null && sellValue >= exerciseValue) {
      out.push(sellOrHold(n, `the bid net of commission ${sellValue.toFixed(2)} is at least the intrinsic value net of costs ${exerciseValue.toFixed(2)}`, { ...numbers, exerciseValue }));
    } else {
      const why =
        sellValue === null
          ? `nobody bids; exercising is worth the intrinsic value net of costs ${exerciseValue.toFixed(2)}`
          : `the bid net of commission ${sellValue.toFixed(2)} is below the intrinsic value net of costs ${exerciseValue.toFixed(2)}`;
      out.push({
        ...base,
        ...numbers,
        exerciseValue,
        action: 'exercise',
        qty: Qty.unsafe(n),
        reason: `${describeContract(c)}: ${why}; exercise ${n} (${perContract * n > 0 ? '+' : ''}${perContract * n} ${c.symbol} against the ${input.stockHeld} held)`,
      });
    }
  }
  if (qty > n) out.push(sellOrHold(qty - n, 'exercising would open a new stock position', { ...numbers, exerciseValue }));
  return out;
}

/** An exercise the close plan takes instead of orders, with what it does to the strategy's holdings. */
export interface PlannedExercise {
  readonly decision: LongLegDecision;
  /** Signed effects per contract: the option toward zero, the stock it delivers. */
  readonly effects: readonly Holding[];
}

/**
 * Splits a strategy's residual into exercises and what is left for ordinary orders: every long physically settled
 * option whose short partner is gone (no short option of its underlying and right is left) is decided by
 * `decideLongLeg` against the stock the residual holds; exercised contracts and the stock they deliver leave the
 * residual. Contracts in `noExercise` are never exercised (an exercise of them failed already).
 */
export function splitExercises(input: {
  readonly holdings: readonly Holding[];
  readonly quote: (c: Contract) => QuoteView | null;
  readonly now: EpochMs;
  readonly costs?: LongLegCosts;
  readonly noExercise?: ReadonlySet<string>;
}): { readonly exercises: readonly PlannedExercise[]; readonly rest: readonly Holding[]; readonly decisions: readonly LongLegDecision[] } {
  const qty = new Map<string, { contract: Contract; qty: number }>();
  for (const h of input.holdings) qty.set(contractKey(h.contract), { contract: h.contract, qty: h.qty });
  const exercises: PlannedExercise[] = [];
  const decisions: LongLegDecision[] = [];
  for (const h of input.holdings) {
    const c = h.contract;
    if (!isOption(c) || h.qty <= 0 || input.noExercise?.has(contractKey(c))) continue;
    const partnered = input.holdings.some((o) => isOption(o.contract) && o.qty < 0 && o.contract.symbol === c.symbol && o.contract.right === c.right);
    if (partnered) continue;
    const stockKey = `STK:${c.symbol}`;
    const stock = qty.get(stockKey);
    if (!stock || stock.qty === 0) continue;
    const ds = decideLongLeg({
      contract: c,
      qty: Qty.unsafe(qty.get(contractKey(c))!.qty),
      stockHeld: Qty.unsafe(stock.qty),
      optionQuote: input.quote(c),
      stockQuote: input.quote(stock.contract),
      now: input.now,
      ...(input.costs ? { costs: input.costs } : {}),
    });
    decisions.push(...ds);
    for (const d of ds) {
      if (d.action !== 'exercise') continue;
      const shares = stockFromSettlement(c, d.qty);
      qty.get(contractKey(c))!.qty -= d.qty;
      stock.qty += shares;
      exercises.push({
        decision: d,
        effects: [
          { contract: c, qty: Qty.unsafe(0 - d.qty) },
          { contract: stock.contract, qty: Qty.unsafe(shares) },
        ],
      });
    }
  }
  const rest: Holding[] = [];
  for (const { contract, qty: q } of qty.values()) if (q !== 0) rest.push({ contract, qty: Qty.unsafe(q) });
  return { exercises, rest, decisions };
}

/** What to do on expiration day with a long option no short partner needs any more. */
export interface ExpiryLongDecision {
  readonly contract: OptionContract;
  readonly qty: Qty;
  readonly action: 'none' | 'sell' | 'lapse';
  readonly reason: string;
}

/**
 * On its expiration day, a long physically settled option in the money by at least `threshold` (or within it: the
 * close may move it in) is exercised automatically at the close (exercise by exception). When nothing held takes the
 * stock it would deliver, that is a new, unwanted position: sell it if anyone bids, else instruct the broker not to
 * exercise it (IB's lapse). `stockHeld` is the strategy's stock of the underlying.
 */
export function decideExpiringLong(input: {
  readonly contract: OptionContract;
  readonly qty: Qty;
  readonly stockHeld: Qty;
  readonly underlying: number | null;
  readonly bid: number | null;
  /** How near the money counts as at risk of exercise (the clearing's $0.01, plus a pin band). */
  readonly band: number;
}): ExpiryLongDecision {
  const { contract: c, qty } = input;
  const say = (action: ExpiryLongDecision['action'], why: string): ExpiryLongDecision => ({ contract: c, qty, action, reason: `${describeContract(c)} x${qty}: ${why}` });
  if (qty <= 0 || c.settlement !== 'physical') return say('none', 'nothing delivers stock');
  if (input.underlying === null) return say('none', 'no underlying price: cannot tell');
  const itm = c.right === 'P' ? c.strike - input.underlying : input.underlying - c.strike;
  if (itm < -input.band) return say('none', `out of the money by ${(-itm).toFixed(2)}: expires worthless`);
  const shares = stockFromSettlement(c, qty);
  // Delivery that reduces stock held (long shares under a put, short under a call) is wanted.
  if (Math.sign(shares) === 0 - Math.sign(input.stockHeld) && Math.abs(input.stockHeld) >= Math.abs(shares)) return say('none', 'its exercise closes stock held');
  if (input.bid !== null && input.bid > 0) return say('sell', `would be exercised into ${shares > 0 ? '+' : ''}${shares} ${c.symbol} nobody wants; sell at the bid ${input.bid}`);
  return say('lapse', `would be exercised into ${shares > 0 ? '+' : ''}${shares} ${c.symbol} nobody wants and nobody bids; do not exercise`);
}

function round(x: number): number {
  return Number(x.toFixed(4));
}
