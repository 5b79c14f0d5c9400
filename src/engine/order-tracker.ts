import { nextOpen, type SessionKind } from '../core/calendar.js';
import { contractKey, isOption } from '../core/contract.js';
import { isOpenOrder, stepOrder, type OrderEvent, type StoredOrderStatus } from '../core/order-state.js';
import type { BrokerOrderId, ContractKey, ExecId, OrderRef, StrategyId } from '../core/ids.js';
import { legEffect, type OrderRequest } from '../core/order.js';
import { EpochMs, Qty, type Price } from '../core/quantity.js';
import type { OrderRecord } from '../ports/store.js';

/** An order the guard planned or sent, and what became of it. */
export interface TrackedOrder {
  readonly request: OrderRequest;
  orderId: BrokerOrderId | null;
  /** Changed only through `applyOrderEvent` (the order state machine in core/order-state). */
  status: StoredOrderStatus;
  /** Order units filled, from order-status reports. Only grows, never past the quantity. */
  filledUnits: number;
  /** A cancel was asked of the broker and not yet confirmed. */
  cancelRequested: boolean;
  /** Signed quantity applied to the book from this order's executions, per leg contract. */
  readonly legFilled: Map<ContractKey, number>;
  avgFillPrice: Price | null;
  placedAt: EpochMs | null;
  /** Real time the order went out (`clock.perf()`), for latency figures. */
  placedPerf: number | null;
  positionBefore: Record<ContractKey, number>;
  reason: string | null;
  /** Not sent before this time (the session open for its instruments). */
  readonly notBefore: EpochMs;
  /** Last time anything happened to it: correlation window for the detector. */
  lastActivity: EpochMs;
  updatedAt: EpochMs;
}

export function isOpenStatus(s: StoredOrderStatus): boolean {
  return isOpenOrder(s);
}

/**
 * Moves `o` by the order state machine. Returns null when it moved (possibly only its filled units), or the reason the
 * machine refused (the order is left as it was).
 */
export function applyOrderEvent(o: TrackedOrder, ev: OrderEvent): string | null {
  const r = stepOrder({ status: o.status, filledUnits: o.filledUnits, quantity: o.request.quantity, cancelRequested: o.cancelRequested }, ev);
  if (!r.ok) return r.reason;
  o.status = r.next.status;
  o.filledUnits = r.next.filledUnits;
  o.cancelRequested = r.next.cancelRequested;
  return null;
}

/**
 * Every guard order by ref and by broker id, with the sums the gate and the detector need: the signed quantity the
 * open orders of a strategy (or of the whole guard) still have to trade in a contract, and which contracts saw guard
 * order activity recently.
 */
export class OrderTracker {
  private readonly byRef = new Map<OrderRef, TrackedOrder>();
  private readonly byId = new Map<BrokerOrderId, TrackedOrder>();
  private readonly byStrategy = new Map<StrategyId, Set<OrderRef>>();
  private readonly byContract = new Map<ContractKey, Set<OrderRef>>();
  private readonly execIds = new Set<ExecId>();

  add(o: TrackedOrder): void {
    this.byRef.set(o.request.ref, o);
    if (o.orderId) this.byId.set(o.orderId, o);
    let s = this.byStrategy.get(o.request.strategyId);
    if (!s) this.byStrategy.set(o.request.strategyId, (s = new Set()));
    s.add(o.request.ref);
    for (const leg of o.request.legs) {
      const key = contractKey(leg.contract);
      let c = this.byContract.get(key);
      if (!c) this.byContract.set(key, (c = new Set()));
      c.add(o.request.ref);
    }
  }

  setOrderId(o: TrackedOrder, id: BrokerOrderId): void {
    o.orderId = id;
    this.byId.set(id, o);
  }

  get(ref: OrderRef): TrackedOrder | undefined {
    return this.byRef.get(ref);
  }

  byOrderId(id: BrokerOrderId): TrackedOrder | undefined {
    return this.byId.get(id);
  }

  ofStrategy(id: StrategyId): TrackedOrder[] {
    const refs = this.byStrategy.get(id);
    if (!refs) return [];
    return [...refs].map((r) => this.byRef.get(r)!).filter(Boolean);
  }

  openOf(id: StrategyId): TrackedOrder[] {
    return this.ofStrategy(id).filter((o) => isOpenStatus(o.status));
  }

  all(): IterableIterator<TrackedOrder> {
    return this.byRef.values();
  }

  /** True the first time an execution id is seen: executions are applied to the book once. */
  firstSight(execId: ExecId): boolean {
    if (this.execIds.has(execId)) return false;
    this.execIds.add(execId);
    return true;
  }

  hasSeen(execId: ExecId): boolean {
    return this.execIds.has(execId);
  }

  /** Execution ids applied or journaled before a restart: `firstSight` is false for them from now on. */
  markSeen(execIds: Iterable<ExecId>): void {
    for (const id of execIds) this.execIds.add(id);
  }

  /** Signed quantity still to trade in `key` by open orders of `strategyId` (or of every strategy when null). */
  working(strategyId: StrategyId | null, key: ContractKey, except?: OrderRef): Qty {
    const onContract = this.byContract.get(key);
    if (!onContract) return Qty.zero;
    // A strategy's own orders are few; the orders on a stock a thousand strategies hedged are many.
    const own = strategyId === null ? undefined : this.byStrategy.get(strategyId);
    if (strategyId !== null && !own) return Qty.zero;
    const refs = own !== undefined && own.size < onContract.size ? own : onContract;
    let sum = 0;
    for (const ref of refs) {
      if (ref === except) continue;
      const o = this.byRef.get(ref)!;
      if (strategyId !== null && o.request.strategyId !== strategyId) continue;
      if (!isOpenStatus(o.status)) continue;
      for (const leg of o.request.legs) {
        if (contractKey(leg.contract) !== key) continue;
        const total = legEffect(leg, o.request.quantity);
        const done = o.legFilled.get(key) ?? 0;
        sum += total - done;
      }
    }
    return Qty.unsafe(sum);
  }

  /** True when a guard order on `key` is open, or was active within `windowMs` of `now`. */
  recentlyActive(key: ContractKey, now: number, windowMs: number): boolean {
    const refs = this.byContract.get(key);
    if (!refs) return false;
    for (const ref of refs) {
      const o = this.byRef.get(ref)!;
      if (o.status === 'planned') continue; // not at the broker: cannot explain a change
      if (isOpenStatus(o.status)) return true;
      if (now - o.lastActivity < windowMs) return true;
    }
    return false;
  }

  /**
   * Until when the close of `strategyId` waits for executions still owed: an order the broker reported finished
   * (filled, or cancelled after part-filling) for more than its executions so far brought into the book. IB often
   * sends the order status before the executions; the wait ends when they arrive or, at the latest, when the
   * correlation window after the order's last activity closes. Null when nothing is owed.
   */
  executionsOwedUntil(strategyId: StrategyId, windowMs: number): EpochMs | null {
    let until: number | null = null;
    for (const o of this.ofStrategy(strategyId)) {
      if (isOpenStatus(o.status)) continue;
      const owes = o.request.legs.some((leg) => {
        const reported = legEffect(leg, o.filledUnits);
        const applied = o.legFilled.get(contractKey(leg.contract)) ?? 0;
        return Math.abs(applied) < Math.abs(reported);
      });
      if (owes) until = Math.max(until ?? 0, o.lastActivity + windowMs);
    }
    return until === null ? null : EpochMs.unsafe(until);
  }

  /** When the correlation window on `key` ends, or null when no sent order touches it. */
  windowEnds(key: ContractKey, windowMs: number): EpochMs | null {
    const refs = this.byContract.get(key);
    if (!refs) return null;
    let latest: number | null = null;
    for (const ref of refs) {
      const o = this.byRef.get(ref)!;
      if (o.status === 'planned') continue;
      latest = Math.max(latest ?? 0, o.lastActivity + windowMs);
    }
    return latest === null ? null : EpochMs.unsafe(latest);
  }

  toRecord(o: TrackedOrder): OrderRecord {
    return {
      request: o.request,
      orderId: o.orderId,
      status: o.status,
      filledQty: Qty.unsafe(o.filledUnits),
      avgFillPrice: o.avgFillPrice,
      placedAt: o.placedAt,
      positionBefore: { ...o.positionBefore },
      reason: o.reason,
      updatedAt: o.updatedAt,
    };
  }

  /**
   * Rebuilds a tracked order from the store after a restart. The store does not keep when a planned order may go: it
   * is the next open, from `now`, of the session its legs trade in, as the planner set it (options at 09:30, stock
   * with `outsideRth` at 04:00), so a guard restarted at 03:00 does not send the open's orders at once.
   */
  static fromRecord(r: OrderRecord, now: EpochMs): TrackedOrder {
    const session: SessionKind = r.request.legs.some((l) => isOption(l.contract)) ? 'option' : r.request.outsideRth ? 'stock-extended' : 'stock';
    const notBefore = nextOpen(now, session);
    return {
      request: r.request,
      orderId: r.orderId,
      status: r.status,
      filledUnits: r.filledQty,
      cancelRequested: false,
      legFilled: new Map(),
      avgFillPrice: r.avgFillPrice,
      placedAt: r.placedAt,
      placedPerf: null,
      positionBefore: { ...r.positionBefore },
      reason: r.reason,
      notBefore,
      lastActivity: r.updatedAt,
      updatedAt: r.updatedAt,
    };
  }
}
