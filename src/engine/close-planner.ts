import type { Holding } from '../core/book.js';
import { nyDate } from '../core/calendar.js';
import { planClose, type PlannedOrder } from '../core/close-plan.js';
import { contractKey, describeContract, isOption, stock, type Contract } from '../core/contract.js';
import type { IncidentId, StrategyId } from '../core/ids.js';
import { decideExpiringLong, splitExercises } from '../core/long-leg.js';
import { legEffect, RISK_TIERS, type OrderRequest } from '../core/order.js';
import { nextLimitPrice } from '../core/price-walk.js';
import { Qty, type EpochMs } from '../core/quantity.js';
import type { Quote } from '../ports/broker.js';
import type { EngineHost, StrategyRuntime } from './engine-host.js';
import { Exerciser, type PlannedExerciseOrder } from './exerciser.js';
import type { TrackedOrder } from './order-tracker.js';

/**
 * Planning a close: what a strategy still has to close (its holdings less what its open orders still trade), the
 * core close plan for it at the current price-walk step, as tracked orders (planned, not yet committed).
 */
export class ClosePlanner {
  constructor(
    private readonly host: EngineHost,
    private readonly exerciser: Exerciser,
  ) {}

  /**
   * What the strategy still has to close: its holdings plus the part of its open orders and outstanding exercises
   * still to trade, per contract, never past zero. A working order that would cross zero (it was planned for holdings since changed)
   * counts for nothing here; it is being cancelled.
   */
  residual(id: StrategyId): Holding[] {
    const e = this.host;
    const out: Holding[] = [];
    for (const h of e.book.holdings(id)) {
      const w = e.tracker.working(id, contractKey(h.contract)) + this.exerciser.working(id, contractKey(h.contract));
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
    if (holdings.length === 0) return { orders: [], blocked: [], walkOver: null, exercises: [] };
    const quotes = await e.quotesFor(holdings.map((h) => h.contract));
    const now = e.clock.now();
    // The long leg an assignment left: exercised where its bid is below its intrinsic value net of costs and the stock
    // the assignment brought is what it delivers out of (core/long-leg.ts); what it settles leaves the residual.
    const split =
      closing.purpose === 'emergency' && closing.mode === 'close'
        ? splitExercises({
            holdings,
            quote: (c) => quotes.get(contractKey(c)) ?? null,
            now,
            noExercise: this.exerciser.noExercise(rt.def.id),
            ...(e.config.exercise ? { costs: e.config.exercise } : {}),
          })
        : { exercises: [], rest: holdings, decisions: [] };
    const exercises: PlannedExerciseOrder[] = split.exercises.map((x) =>
      Exerciser.plan({
        strategyId: rt.def.id,
        incidentKey: closing.incidentKey,
        revision: closing.revision,
        contract: x.decision.contract,
        qty: x.decision.qty,
        action: 'exercise',
        optionBefore: e.book.holding(rt.def.id, contractKey(x.decision.contract)),
        now,
        reason: x.decision.reason,
      }),
    );
    const plan = planClose({
      strategyId: rt.def.id,
      account: e.account,
      incidentId: closing.purpose === 'emergency' ? (closing.incidentKey as IncidentId) : null,
      incidentKey: closing.incidentKey,
      revision: closing.revision,
      holdings: split.rest,
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
    // Long options offered at one tick that did not sell: worth nothing and at no risk, like those nobody bids for.
    const unsold: Blocked[] = [];
    for (const p of plan.orders) {
      const request = this.walked(p, closing.walkStep, quotes, rt.def.id);
      if (request === null) {
        const floor = worthlessLongSale(p.request, quotes);
        if (floor !== null) {
          unsold.push(floor);
          continue;
        }
        return { orders: [], blocked: [], walkOver: describeOrder(p.request), exercises: [] };
      }
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
    let blocked: Blocked[] = [
      ...plan.blocked.map((b) => ({ contract: b.contract, qty: b.qty, reason: b.reason, worthlessLong: false })),
      // A long option nobody bids for is worth nothing and risks nothing more: the planner holds it back; it is left
      // to expire, and sold if a bid appears, rather than calling a person out.
      ...plan.held.filter((h) => h.why === 'no-bid').map((h) => ({ contract: h.contract, qty: h.qty, reason: h.reason, worthlessLong: true })),
      ...unsold,
    ];
    if (closing.purpose === 'emergency') {
      const lapses = this.lapses(rt, blocked, split.rest, plan.orders.map((p) => p.request), now);
      exercises.push(...lapses);
      const lapsed = new Set(lapses.map((x) => contractKey(x.contract)));
      // A long left to expire with a do-not-exercise instruction is waited for like one nobody bids for.
      blocked = blocked.map((b) => (lapsed.has(contractKey(b.contract)) ? { ...b, worthlessLong: true } : b));
    }
    this.exerciser.add(exercises);
    for (const x of exercises) e.emit({ kind: 'note', at: now, strategyId: rt.def.id, text: `planned ${x.action} ${x.qty} ${describeContract(x.contract)} (${x.ref}): ${x.reason}` });
    return { orders, blocked, walkOver: null, exercises };
  }

  /**
   * On its expiration day, a long option the plan leaves (nobody bids) that the close may exercise automatically
   * into stock nothing held takes: a do-not-exercise instruction (core/long-leg.ts `decideExpiringLong`).
   */
  private lapses(rt: StrategyRuntime, left: readonly Blocked[], rest: readonly Holding[], orders: readonly OrderRequest[], now: EpochMs): PlannedExerciseOrder[] {
    const e = this.host;
    const closing = rt.closing!;
    const out: PlannedExerciseOrder[] = [];
    for (const b of left) {
      const c = b.contract;
      if (!isOption(c) || b.qty <= 0 || c.expiry !== nyDate(now)) continue;
      const s = stock(c.symbol, c.currency);
      const key = contractKey(s);
      let stockHeld = rest.find((h) => contractKey(h.contract) === key)?.qty ?? 0;
      for (const o of orders) for (const l of o.legs) if (contractKey(l.contract) === key) stockHeld += legEffect(l, o.quantity);
      const d = decideExpiringLong({
        contract: c,
        qty: Qty.unsafe(b.qty),
        stockHeld: Qty.unsafe(stockHeld),
        underlying: e.priceOf(s),
        bid: null,
        band: Math.max(0.01, 0.005 * c.strike),
      });
      if (d.action !== 'lapse') continue;
      out.push(
        Exerciser.plan({
          strategyId: rt.def.id,
          incidentKey: closing.incidentKey,
          revision: closing.revision,
          contract: c,
          qty: b.qty,
          action: 'lapse',
          optionBefore: e.book.holding(rt.def.id, contractKey(c)),
          now,
          reason: d.reason,
        }),
      );
    }
    return out;
  }

  /** The limit of the latest attempt of the same order (strategy, incident, group) that went to the broker, or null. */
  private lastSentLimit(id: StrategyId, ref: string): number | null {
    let last: TrackedOrder | null = null;
    for (const o of this.host.tracker.ofStrategy(id)) {
      if (o.placedAt === null || !sameGroup(o.request.ref, ref)) continue;
      if (last === null || o.placedAt >= (last.placedAt ?? 0)) last = o;
    }
    return last?.request.limitPrice ?? null;
  }

  /** The planned order at walk step `step` (0 = as planned); null when the walk is past its bound. */
  private walked(p: PlannedOrder, step: number, quotes: Map<string, Quote | null>, id: StrategyId): OrderRequest | null {
    if (step === 0 || p.request.orderType !== 'LMT' || p.request.limitPrice === null) return p.request;
    const price = nextLimitPrice({
      previous: this.lastSentLimit(id, p.request.ref),
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

/**
 * A single long option offered down to one tick without a buyer, whose bid is at most one tick now: held back as
 * worthless (left to expire, sold if a bid appears) rather than calling a person for a dollar. Null otherwise.
 */
function worthlessLongSale(r: OrderRequest, quotes: Map<string, Quote | null>): Blocked | null {
  if (r.tier !== RISK_TIERS['long-option'] || r.legs.length !== 1 || r.legs[0]!.action !== 'SELL') return null;
  const c = r.legs[0]!.contract;
  if (!isOption(c)) return null;
  const bid = quotes.get(contractKey(c))?.bid ?? null;
  if (bid !== null && bid > ONE_TICK + 1e-9) return null;
  return { contract: c, qty: r.quantity, reason: `no buyer at ${ONE_TICK.toFixed(2)} (bid ${bid === null ? 'none' : bid.toFixed(2)}): worth nothing to sell and no risk to hold`, worthlessLong: true };
}

const ONE_TICK = 0.01;

/** Two refs of attempts of one order: the same strategy, incident and group (`lg/<strategy>/<incident>/<group>/<n>`). */
function sameGroup(a: string, b: string): boolean {
  return a.slice(0, a.lastIndexOf('/')) === b.slice(0, b.lastIndexOf('/'));
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
  /** Exercises and lapses planned instead of orders (already outstanding in the exerciser, not yet committed). */
  readonly exercises: readonly PlannedExerciseOrder[];
}

export function describeBlocked(bs: readonly Blocked[]): string {
  return bs.map((b) => `${b.qty > 0 ? '+' : ''}${b.qty} ${describeContract(b.contract)} (${b.reason})`).join(', ');
}

export function describeOrder(r: OrderRequest): string {
  const legs = r.legs.map((l) => `${l.action} ${l.ratio * r.quantity} ${describeContract(l.contract)}`).join(' + ');
  const price = r.orderType === 'MKT' || r.limitPrice === null ? 'MKT' : `LMT ${r.limitPrice.toFixed(2)}`;
  return `${legs} ${price}${r.outsideRth ? ' (outside RTH)' : ''}`;
}
