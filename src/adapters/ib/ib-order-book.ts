import { OrderAction as IbAction, SecType, type Contract as IbContract, type Order as IbOrder, type OrderState } from '@stoqey/ib';
import type { Contract } from '../../core/contract.js';
import type { OrderStatus, OrderStatusReport } from '../../core/events.js';
import { BrokerOrderId, OrderRef, type AccountId } from '../../core/ids.js';
import type { OrderAction, OrderLeg } from '../../core/order.js';
import { Price, Qty, type EpochMs } from '../../core/quantity.js';
import type { OpenOrderReport } from '../../ports/broker.js';
import { IbCode, isOrderReject } from './ib-codes.js';
import type { Round } from './ib-requests.js';
import { isDrop, mapStatus, readOrderQuantities, type Drop } from './ib-translate.js';

interface OwnOrder {
  ref: OrderRef | null;
  status: OrderStatus | null;
  filled: number;
  remaining: number;
  terminal: boolean;
  reject: { code: number; reason: string } | null;
  cancelReason: string | null;
}

export interface OpenOrdersRound extends Round<OpenOrderReport[]> {
  readonly orders: Map<string, { contract: IbContract; order: IbOrder; state: OrderState }>;
  readonly statuses: Map<string, { status: string; filled: number; remaining: number }>;
}

/** The most orders of other clients remembered (by their legguard ref); the oldest go first. */
const MAX_FOREIGN = 10_000;
/** The most orders remembered in all: the oldest finished ones go first (a stream of made-up ids cannot grow it). */
const MAX_ORDERS = 100_000;

/**
 * The orders TWS reports, in legguard's words. Known are the orders this client placed and any order carrying a
 * legguard ref (a restarted guard's, seen in an open or completed order); statuses of other orders only feed the
 * reconciliation's open-order list. IB's statuses become `order-status` events once per change (TWS repeats itself);
 * a reject is an error code on the order id, turned into a `rejected` status; a finished order never reopens.
 */
export class OrderBook {
  private readonly orders = new Map<string, OwnOrder>();
  private readonly byRef = new Map<string, string>();
  private foreign = 0;

  constructor(
    private readonly clientId: number,
    private readonly account: AccountId,
  ) {}

  /** IB's id of an order as legguard names it: its order id for this client's, `c<client>-<id>` or `perm-<id>` else. */
  ownerId(clientId: number | undefined, orderId: number | undefined, permId: number | undefined): string | null {
    if (typeof orderId === 'number' && Number.isSafeInteger(orderId) && orderId > 0) {
      return clientId === undefined || clientId === this.clientId ? String(orderId) : `c${clientId}-${orderId}`;
    }
    return typeof permId === 'number' && Number.isSafeInteger(permId) && permId > 0 ? `perm-${permId}` : null;
  }

  /** Whether an order TWS lists is this account's: one naming another account is not (one naming none is kept). */
  private ofThisAccount(o: IbOrder | undefined): boolean {
    const acct = o?.account;
    return typeof acct !== 'string' || acct === '' || acct === this.account;
  }

  /** This client placed order `id` with `ref`. */
  placed(id: number, ref: OrderRef, quantity: number): void {
    const own = this.record(String(id));
    own.ref = ref;
    own.remaining = quantity;
    this.byRef.set(ref, String(id));
  }

  has(id: string): boolean {
    return this.orders.has(id);
  }

  /** An open order: its ref is learned (a restarted guard's order); the reconciliation's round collects it. */
  onOpenOrder(orderId: number, c: IbContract, o: IbOrder, s: OrderState, round: OpenOrdersRound | null): void {
    // A login of several accounts lists every account's orders (reqAllOpenOrders): another account's order is never
    // this guard's, even when it carries the same ref (the same strategy id and incident in two accounts).
    if (!this.ofThisAccount(o)) return;
    const id = this.ownerId(o?.clientId, orderId, o?.permId);
    if (id === null) return;
    const ref = typeof o.orderRef === 'string' && OrderRef.is(o.orderRef) ? o.orderRef : null;
    if (ref !== null && !this.orders.has(id)) {
      if (id.startsWith('c') || id.startsWith('perm-')) this.foreign++;
      if (this.foreign > MAX_FOREIGN) this.forgetOldestForeign();
      const own = this.record(id);
      own.ref = ref;
      this.byRef.set(ref, id);
    }
    round?.orders.set(id, { contract: c, order: o, state: s });
  }

  /** An order status; the event to pass on, null when nothing changed or the order is not legguard's to follow. */
  onOrderStatus(
    o: { orderId: number; status: unknown; filled: unknown; remaining: unknown; avgFillPrice: unknown; permId: number | undefined; clientId: number | undefined },
    round: OpenOrdersRound | null,
    at: EpochMs,
  ): OrderStatusReport | Drop | null {
    const id = this.ownerId(o.clientId, o.orderId, o.permId);
    if (id === null) return null;
    const q = readOrderQuantities(o.filled, o.remaining);
    if (isDrop(q)) return q;
    const status = String(o.status);
    round?.statuses.set(id, { status, filled: q.filled, remaining: q.remaining });
    // This client's order ids are its own, a restarted guard's included (TWS reports them before their open order);
    // other clients' orders are followed only once an open order showed a legguard ref.
    const own = this.orders.get(id) ?? (/^\d+$/.test(id) ? this.record(id) : undefined);
    if (!own) return null;
    let mapped = mapStatus(status, q.filled);
    if (mapped === null || own.terminal) return null;
    if (mapped === 'cancelled' && own.reject) mapped = 'rejected';
    if (own.status === mapped && own.filled === q.filled && own.remaining === q.remaining) return null; // TWS repeats itself
    own.status = mapped;
    own.filled = q.filled;
    own.remaining = q.remaining;
    const done = mapped === 'filled' || mapped === 'cancelled' || mapped === 'rejected';
    if (done) own.terminal = true;
    const avg = Number(o.avgFillPrice);
    return {
      kind: 'order-status',
      orderId: BrokerOrderId.unsafe(id),
      orderRef: own.ref,
      status: mapped,
      filledQty: Qty.unsafe(q.filled),
      remainingQty: Qty.unsafe(done ? 0 : q.remaining),
      avgFillPrice: q.filled > 0 && Number.isFinite(avg) && avg > 0 && avg < 1e9 ? Price.unsafe(avg) : null,
      reason: mapped === 'rejected' ? (own.reject?.reason ?? `IB order status ${status}`) : mapped === 'cancelled' ? (own.cancelReason ?? 'cancelled') : null,
      code: mapped === 'rejected' ? (own.reject?.code ?? null) : mapped === 'cancelled' ? IbCode.ORDER_CANCELLED : null,
      tsEvent: at,
      tsInit: at,
    };
  }

  /**
   * An error on one of this client's order ids: a reject ends the order (`rejected`); 202 only remembers why it was
   * cancelled (the status follows); anything else is a notice. Null when the id is not a known order.
   */
  onOrderError(orderId: string, code: number, message: string, at: EpochMs): { event: OrderStatusReport | null } | { notice: true } | null {
    const own = this.orders.get(orderId);
    if (!own) return null;
    if (code === IbCode.ORDER_CANCELLED) {
      own.cancelReason = message;
      return { event: null };
    }
    if (!isOrderReject(code)) return { notice: true };
    own.reject = { code, reason: message };
    if (own.terminal) return { event: null };
    own.terminal = true;
    own.status = 'rejected';
    return {
      event: {
        kind: 'order-status',
        orderId: BrokerOrderId.unsafe(orderId),
        orderRef: own.ref,
        status: 'rejected',
        filledQty: Qty.unsafe(own.filled),
        remainingQty: Qty.zero,
        avgFillPrice: null,
        reason: message,
        code,
        tsEvent: at,
        tsInit: at,
      },
    };
  }

  /** A completed order that finished while the guard could not hear: its final status, marked reconciled. */
  onCompletedOrder(o: IbOrder, s: OrderState, at: EpochMs): OrderStatusReport | null {
    if (!this.ofThisAccount(o)) return null;
    if (typeof o?.orderRef !== 'string' || !OrderRef.is(o.orderRef)) return null;
    const id = this.byRef.get(o.orderRef);
    if (id === undefined) return null;
    const own = this.orders.get(id);
    if (!own || own.terminal) return null;
    const q = readOrderQuantities(o.filledQuantity ?? 0, 0);
    if (isDrop(q)) return null;
    const mapped = mapStatus(String(s?.status), q.filled);
    if (mapped !== 'filled' && mapped !== 'cancelled' && mapped !== 'rejected') return null;
    own.terminal = true;
    own.status = mapped;
    own.filled = q.filled;
    return {
      kind: 'order-status',
      orderId: BrokerOrderId.unsafe(id),
      orderRef: own.ref,
      status: mapped,
      filledQty: Qty.unsafe(q.filled),
      remainingQty: Qty.zero,
      avgFillPrice: null,
      reason: typeof s?.completedStatus === 'string' ? s.completedStatus : null,
      code: mapped === 'cancelled' ? IbCode.ORDER_CANCELLED : null,
      tsEvent: at,
      tsInit: at,
      reconciled: true,
    };
  }

  /**
   * The working orders of a finished round, as the broker port reports them. A combo's legs are named by conId only:
   * `legOf` resolves them (from what TWS told before, else by asking); a combo whose legs cannot all be resolved is
   * left out and said once.
   */
  async openOrders(
    round: OpenOrdersRound,
    deps: { legOf: (conId: number) => Promise<Contract | null>; single: (c: IbContract) => Contract | null; unresolved: (id: string, conId: unknown) => void },
  ): Promise<OpenOrderReport[]> {
    const out: OpenOrderReport[] = [];
    for (const [id, { contract, order, state }] of round.orders) {
      const st = round.statuses.get(id);
      const q = readOrderQuantities(order.filledQuantity ?? 0, 0);
      const filled = st?.filled ?? (isDrop(q) ? 0 : q.filled);
      const status = mapStatus(st?.status ?? String(state?.status), filled);
      if (status === null || status === 'filled' || status === 'cancelled' || status === 'rejected') continue;
      const total = Number(order.totalQuantity ?? 0);
      if (!(Number.isSafeInteger(Math.round(total)) && total > 0 && total <= 1e9)) continue;
      const action: OrderAction = order.action === IbAction.SELL ? 'SELL' : 'BUY';
      let legs: OrderLeg[];
      let limit = typeof order.lmtPrice === 'number' && Number.isFinite(order.lmtPrice) && Math.abs(order.lmtPrice) < 1e9 ? order.lmtPrice : null;
      if (contract?.secType === SecType.BAG) {
        const resolved: OrderLeg[] = [];
        for (const l of contract.comboLegs ?? []) {
          const ratio = Number(l.ratio ?? 1);
          const c = typeof l.conId === 'number' && Number.isSafeInteger(ratio) && ratio > 0 ? await deps.legOf(l.conId) : null;
          if (!c) {
            deps.unresolved(id, l.conId);
            break;
          }
          const legAction: OrderAction = l.action === IbAction.SELL ? 'SELL' : 'BUY';
          // A sold combo is the same combo bought with its legs reversed, at the negated price.
          resolved.push({ contract: c, action: action === 'SELL' ? (legAction === 'BUY' ? 'SELL' : 'BUY') : legAction, ratio });
        }
        if (resolved.length !== (contract.comboLegs ?? []).length || resolved.length === 0) continue;
        legs = resolved;
        if (action === 'SELL' && limit !== null) limit = -limit;
      } else {
        const c = deps.single(contract);
        if (!c) continue;
        legs = [{ contract: c, action, ratio: 1 }];
      }
      const ref = typeof order.orderRef === 'string' && OrderRef.is(order.orderRef) ? order.orderRef : null;
      out.push({
        orderId: BrokerOrderId.unsafe(id),
        orderRef: ref,
        account: this.account,
        legs,
        quantity: Qty.unsafe(Math.round(total)),
        limitPrice: limit === null ? null : Price.unsafe(limit),
        status,
        filledQty: Qty.unsafe(filled),
        remainingQty: Qty.unsafe(st?.remaining ?? Math.max(0, Math.round(total) - filled)),
      });
    }
    return out;
  }

  private record(id: string): OwnOrder {
    let r = this.orders.get(id);
    if (!r) {
      if (this.orders.size >= MAX_ORDERS) this.forgetOldestFinished();
      r = { ref: null, status: null, filled: 0, remaining: 0, terminal: false, reject: null, cancelReason: null };
      this.orders.set(id, r);
    }
    return r;
  }

  private forgetOldestFinished(): void {
    for (const [id, o] of this.orders) {
      if (!o.terminal && o.ref !== null) continue;
      this.orders.delete(id);
      if (o.ref !== null && this.byRef.get(o.ref) === id) this.byRef.delete(o.ref);
      if (id.startsWith('c') || id.startsWith('perm-')) this.foreign--;
      return;
    }
  }

  private forgetOldestForeign(): void {
    for (const [id, o] of this.orders) {
      if (!(id.startsWith('c') || id.startsWith('perm-'))) continue;
      this.orders.delete(id);
      if (o.ref !== null) this.byRef.delete(o.ref);
      this.foreign--;
      return;
    }
  }
}
