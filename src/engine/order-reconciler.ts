import { contractKey } from '../core/contract.js';
import type { OrderRef } from '../core/ids.js';
import { legEffect } from '../core/order.js';
import type { ReconcileResult } from '../core/reconcile.js';
import type { EngineHost } from './engine-host.js';
import type { OrderSender } from './order-sender.js';
import { isOpenStatus } from './order-tracker.js';

/** The order side of a reconciliation result, applied through the order state machine. */
export class OrderReconciler {
  /** Sent orders a reconciliation did not find at the broker, and how many times in a row. */
  private readonly missing = new Map<OrderRef, number>();

  constructor(
    private readonly host: EngineHost,
    private readonly sender: OrderSender,
  ) {}

  /**
   * Matches the broker's working orders with the guard's by orderRef: an order the store has as planned but the
   * broker already has (sent just before a crash) is adopted, never sent again; an order the store thinks is working
   * but the broker does not have, with no fill, is marked cancelled so the close is re-planned; an `lg/` order the
   * store does not know is an orphan: cancelled and reported.
   */
  async reconcileOrders(r: ReconcileResult): Promise<string[]> {
    const e = this.host;
    const notes: string[] = [];
    for (const m of r.matchedOrders) {
      const o = e.tracker.get(m.ref);
      if (!o) continue;
      this.missing.delete(o.request.ref);
      if (o.orderId === null) e.tracker.setOrderId(o, m.orderId);
      const wasPlanned = o.status === 'planned';
      if (!this.sender.step(o, { kind: 'broker-status', status: m.broker.status, filledUnits: m.broker.filledQty })) continue;
      if (wasPlanned) notes.push(`order ${m.ref} was already at the broker: adopted, not re-sent`);
      o.lastActivity = e.clock.now();
      this.sender.markDirty(o);
      if (!this.sender.hasTimer(o.request.ref)) this.sender.armFillTimeout(o);
    }
    for (const d of r.discrepancies) {
      if (d.kind !== 'orphan-order' || d.orderRef === null) continue;
      if (d.where === 'broker') {
        // Working at the broker under a legguard ref the guard does not know: cancel it, it was not planned here.
        if (d.orderId !== null && !d.key.endsWith(':executed')) {
          notes.push(`cancelling orphan order ${d.orderRef} (${d.orderId})`);
          await e.writeAhead();
          await e.broker.cancelOrder(d.orderId).catch(() => undefined);
        }
        continue;
      }
      const o = e.tracker.get(d.orderRef);
      if (!o || !isOpenStatus(o.status)) continue;
      const executed = Math.max(o.filledUnits, d.executedUnits ?? 0);
      const wasPlanned = o.status === 'planned';
      if (o.orderId === null && d.orderId !== null) e.tracker.setOrderId(o, d.orderId);
      // Not among the broker's working orders. Executed in full: done. Otherwise a snapshot may simply have missed
      // it, and re-planning while it still works could close twice: it stays open (the gate counts what it has left),
      // the broker is asked to cancel it, and it is done with what it executed only when a second reconciliation
      // misses it too. A planned order that executed went out before the guard knew (a crash right after sending):
      // it is never sent again.
      const misses = executed >= o.request.quantity ? 0 : (this.missing.get(o.request.ref) ?? 0) + 1;
      if (!this.sender.step(o, { kind: 'missing', executedUnits: executed, confirmed: misses >= 2 })) continue;
      this.sender.markDirty(o);
      if (wasPlanned) notes.push(`order ${o.request.ref} went out before the crash and executed ${executed} unit(s): not re-sent`);
      if (o.status === 'filled') {
        this.missing.delete(o.request.ref);
        continue;
      }
      if (misses < 2) {
        this.missing.set(o.request.ref, misses);
        notes.push(`order ${o.request.ref}: cancel requested, confirming at the next reconciliation`);
        await this.sender.requestCancel(o);
        continue;
      }
      this.missing.delete(o.request.ref);
      o.reason = o.reason ?? 'not working at the broker at two reconciliations';
      notes.push(`order ${o.request.ref} no longer working at the broker: cancelled`);
    }
    // Fill effects: orders loaded from the store have no per-leg fill record; their fills are in the book already.
    for (const o of e.tracker.all()) {
      if (o.legFilled.size === 0 && o.filledUnits > 0) {
        for (const leg of o.request.legs) o.legFilled.set(contractKey(leg.contract), legEffect(leg, o.filledUnits));
      }
    }
    return notes;
  }
}
