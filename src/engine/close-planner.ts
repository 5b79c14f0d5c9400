import type { Holding } from '../core/book.js';
import { planClose, type PlannedOrder } from '../core/close-plan.js';
import { contractKey, describeContract, type Contract } from '../core/contract.js';
import type { IncidentId, StrategyId } from '../core/ids.js';
import type { OrderRequest } from '../core/order.js';
import { nextLimitPrice } from '../core/price-walk.js';
import { Qty, type EpochMs } from '../core/quantity.js';
import type { Quote } from '../ports/broker.js';
import type { EngineHost, StrategyRuntime } from './engine-host.js';
import type { TrackedOrder } from './order-tracker.js';

/**
 * Planning a close: what a strategy still has to close (its holdings less what its open orders still trade), the
 * core close plan for it at the current price-walk step, as tracked orders (planned, not yet committed).
 */
export class ClosePlanner {
  constructor(private readonly host: EngineHost) {}

  /**
   * What the strategy still has to close: its holdings plus the part of its open orders still to trade, per
   * contract, never past zero. A working order that would cross zero (it was planned for holdings since changed)
   * counts for nothing here; it is being cancelled.
   */
  residual(id: StrategyId): Holding[] {
    const e = this.host;
    const out: Holding[] = [];
    for (const h of e.book.holdings(id)) {
      const w = e.tracker.working(id, contractKey(h.contract));
      const r = h.qty + w;
      if (r !== 0 && Math.sign(r) === Math.sign(h.qty)) out.push({ contract: h.contract, qty: Qty.unsafe(r) });
    }
    return out;
  }

  /**
   * Plans the residual close of `rt` as tracked orders (status planned, not yet committed). When the price walk of
   * any order is past its bound, nothing is planned and `walkOver` says which.
   */
  async plan(rt: StrategyRuntime): Promise<PlanOutcome> {
    const e = this.host;
    const closing = rt.closing!;
    const holdings = this.residual(rt.def.id);
    if (holdings.length === 0) return { orders: [], blocked: [], walkOver: null };
    const quotes = await e.quotesFor(holdings.map((h) => h.contract));
    const now = e.clock.now();
    const plan = planClose({
      strategyId: rt.def.id,
      account: e.account,
      incidentId: closing.purpose === 'emergency' ? (closing.incidentKey as IncidentId) : null,
      incidentKey: closing.incidentKey,
      revision: closing.revision,
      holdings,
      book: e.book,
      brokerPosition: (key) => e.brokerQty(key),
      quote: (c) => quotes.get(contractKey(c)) ?? null,
      now,
      mode: closing.mode,
      purpose: closing.purpose,
      combos: e.config.combos,
      preMarketHedge: e.config.preMarketHedge,
      limits: e.config.limits,
    });
    const requests: { request: OrderRequest; notBefore: EpochMs }[] = [];
    for (const p of plan.orders) {
      const request = this.walked(p, closing.walkStep, quotes);
      if (request === null) return { orders: [], blocked: [], walkOver: describeOrder(p.request) };
      requests.push({ request, notBefore: p.notBefore });
    }
    const orders: TrackedOrder[] = [];
    for (const { request, notBefore } of requests) {
      const o: TrackedOrder = {
        request,
        orderId: null,
        status: 'planned',
        filledUnits: 0,
        cancelRequested: false,
        legFilled: new Map(),
        avgFillPrice: null,
        placedAt: null,
        placedPerf: null,
        positionBefore: {},
        reason: null,
        notBefore,
        lastActivity: now,
        updatedAt: now,
      };
      e.tracker.add(o);
      e.emit({ kind: 'order-planned', at: now, order: o });
      orders.push(o);
    }
    const blocked: Blocked[] = [
      ...plan.blocked.map((b) => ({ contract: b.contract, qty: b.qty, reason: b.reason, worthlessLong: false })),
      // A long option nobody bids for is worth nothing and risks nothing more: the planner holds it back; it is left
      // to expire, and sold if a bid appears, rather than calling a person out.
      ...plan.held.filter((h) => h.why === 'no-bid').map((h) => ({ contract: h.contract, qty: h.qty, reason: h.reason, worthlessLong: true })),
    ];
    return { orders, blocked, walkOver: null };
  }

  /** The planned order at walk step `step` (0 = as planned); null when the walk is past its bound. */
  private walked(p: PlannedOrder, step: number, quotes: Map<string, Quote | null>): OrderRequest | null {
    if (step === 0 || p.request.orderType !== 'LMT' || p.request.limitPrice === null) return p.request;
    const price = nextLimitPrice({
      request: p.request,
      quotes: (c) => quotes.get(contractKey(c)) ?? null,
      step,
      stepTicks: this.host.config.priceWalk.stepTicks,
      maxSlippageFraction: this.host.config.priceWalk.maxSlippageFraction,
      minBoundTicks: this.host.config.priceWalk.minBoundTicks,
    });
    if (price === null) return null;
    return { ...p.request, limitPrice: price };
  }
}

export interface Blocked {
  readonly contract: Contract;
  readonly qty: number;
  readonly reason: string;
  readonly worthlessLong: boolean;
}

export interface PlanOutcome {
  readonly orders: TrackedOrder[];
  readonly blocked: readonly Blocked[];
  /** The order whose price walk is past its bound, or null. */
  readonly walkOver: string | null;
}

export function describeBlocked(bs: readonly Blocked[]): string {
  return bs.map((b) => `${b.qty > 0 ? '+' : ''}${b.qty} ${describeContract(b.contract)} (${b.reason})`).join(', ');
}

export function describeOrder(r: OrderRequest): string {
  const legs = r.legs.map((l) => `${l.action} ${l.ratio * r.quantity} ${describeContract(l.contract)}`).join(' + ');
  const price = r.orderType === 'MKT' || r.limitPrice === null ? 'MKT' : `LMT ${r.limitPrice.toFixed(2)}`;
  return `${legs} ${price}${r.outsideRth ? ' (outside RTH)' : ''}`;
}
