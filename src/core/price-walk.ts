import { describeContract, type Contract } from './contract.js';
import type { OrderLeg, OrderRequest } from './order.js';
import { Price } from './quantity.js';
import type { QuoteView } from './quote-view.js';

export type MarketablePrice =
  | { readonly ok: true; readonly price: Price }
  | { readonly ok: false; readonly contract: Contract; readonly reason: string };

/**
 * The far side of the market for an order: a single BUY at the ask, a single SELL at the bid; a combo (two legs or
 * more) at its net per unit, each BUY leg at its ask and each SELL leg at its bid times the leg's ratio, a debit
 * positive. A leg without the side it needs is reported instead of being priced blind; a single SELL also needs a
 * bid above zero (a limit of 0 is no order).
 *
 * @example
 *   marketablePrice([{ contract: call460, action: 'BUY', ratio: 1 }, { contract: call465, action: 'SELL', ratio: 1 }], q)
 *   // 460 ask 5.20, 465 bid 3.10: { ok: true, price: 2.10 } (a debit)
 */
export function marketablePrice(legs: readonly OrderLeg[], quote: (c: Contract) => QuoteView | null, tick = 0.01): MarketablePrice {
  let net = 0;
  for (const leg of legs) {
    const q = quote(leg.contract);
    const side = leg.action === 'BUY' ? q?.ask : q?.bid;
    const name = leg.action === 'BUY' ? 'ask' : 'bid';
    if (q === null || side === null || side === undefined || !Number.isFinite(side)) {
      return { ok: false, contract: leg.contract, reason: `no ${name} for ${describeContract(leg.contract)}` };
    }
    if (legs.length === 1) {
      if (side <= 0) return { ok: false, contract: leg.contract, reason: `no ${name} above zero for ${describeContract(leg.contract)}` };
      return { ok: true, price: Price.round(side, tick) };
    }
    net += (leg.action === 'BUY' ? 1 : -1) * side * leg.ratio;
  }
  if (legs.length === 0) throw new RangeError('marketablePrice: an order has at least one leg');
  return { ok: true, price: Price.round(net, tick) };
}

export interface PriceWalkInput {
  readonly request: OrderRequest;
  readonly quotes: (c: Contract) => QuoteView | null;
  /** 0 is the far side itself; each step after moves `stepTicks` further toward paying more (or receiving less). */
  readonly step: number;
  readonly stepTicks: number;
  /** The bound, as a fraction of the starting price; null to bound by ticks alone. */
  readonly maxSlippageFraction: number | null;
  /** The bound is never less than this many ticks (and is exactly this when the fraction is null). */
  readonly minBoundTicks: number;
  readonly tick?: number;
  /**
   * The limit of the last attempt sent, when known. A single SELL's walk is over at the one-tick floor only once an
   * attempt was there: when the bid fell to one tick since the last attempt (sent at two), one tick is still a try.
   */
  readonly previous?: number | null;
}

/**
 * The limit price of an order at walk step `step`: from the far side of the market now (the request's own limit
 * when a leg has no quote), `step x stepTicks` ticks more aggressive, never beyond the bound. The last step is
 * clamped to the bound exactly; the step after it returns null, which the engine takes as "the walk is over"
 * (NEEDS_ATTENTION). More aggressive is up for a BUY and for any combo (its limit is a net debit) and down for a
 * SELL, which never goes below one tick.
 *
 * @example
 *   // SELL at bid 2.00, steps of 5 ticks, bound max(10% of 2.00, 10 ticks) = 20 ticks:
 *   // step 1 -> 1.95, step 4 -> 1.80, step 5 -> null
 */
export function nextLimitPrice(input: PriceWalkInput): Price | null {
  const tick = input.tick ?? 0.01;
  const { request, step } = input;
  const far = marketablePrice(request.legs, input.quotes, tick);
  const base = far.ok ? far.price : request.limitPrice;
  if (base === null) return null;
  if (step <= 0) return base;
  const dir = request.legs.length === 1 && request.legs[0]!.action === 'SELL' ? -1 : 1;
  const baseTicks = Math.round(base / tick);
  const fractionTicks = input.maxSlippageFraction === null ? 0 : Math.floor((Math.abs(base) * input.maxSlippageFraction) / tick + 1e-9);
  const boundTicks = Math.max(fractionTicks, input.minBoundTicks);
  if ((step - 1) * input.stepTicks >= boundTicks) return null;
  let ticks = baseTicks + dir * Math.min(step * input.stepTicks, boundTicks);
  if (request.legs.length === 1 && ticks < 1) {
    // A single-leg limit must stay positive; when the floor is where the walk already was, it is over.
    const before = input.previous === null || input.previous === undefined ? baseTicks + dir * (step - 1) * input.stepTicks : Math.round(input.previous / tick);
    if (before <= 1) return null;
    ticks = 1;
  }
  return Price.unsafe(Number((ticks * tick).toFixed(6)));
}
