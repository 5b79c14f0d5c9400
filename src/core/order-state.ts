import type { OrderStatus } from './events.js';
import { isTerminalOrderStatus } from './events.js';

/**
 * An order's life, as the guard records it. The statuses are the stored ones:
 *
 * | life            | status             |
 * |-----------------|--------------------|
 * | planned         | `planned` (written ahead, not sent) |
 * | sent            | `pending` (placed, the broker has not confirmed it working) |
 * | working         | `working`          |
 * | partly filled   | `partially-filled` |
 * | cancel requested| any sent, unfinished status with `cancelRequested` (the order can still fill until the broker confirms) |
 * | filled          | `filled`           |
 * | cancelled       | `cancelled` (also: finished with `filledUnits < quantity`, the rest known not working) |
 * | rejected        | `rejected`         |
 *
 * Finished statuses (filled, cancelled, rejected) are final; the filled quantity only grows and never exceeds the
 * order's quantity. Every status change of a guard order goes through `stepOrder`.
 */
export type StoredOrderStatus = 'planned' | OrderStatus;

export interface OrderLife {
  readonly status: StoredOrderStatus;
  /** Order units filled. */
  readonly filledUnits: number;
  /** Order units the order is for. */
  readonly quantity: number;
  /** The guard asked the broker to cancel it and the broker has not yet confirmed. */
  readonly cancelRequested: boolean;
}

export type OrderEvent =
  /** The guard hands the planned order to the broker. */
  | { readonly kind: 'send' }
  /** Placing failed before the broker had it (disconnected): it is planned again and goes at the next chance. */
  | { readonly kind: 'send-failed' }
  /** The broker's word about the order: an order-status report, or the order as a reconciliation found it working. */
  | { readonly kind: 'broker-status'; readonly status: OrderStatus; readonly filledUnits: number }
  /** Executions account for this many order units. */
  | { readonly kind: 'executed'; readonly filledUnits: number }
  /**
   * A reconciliation did not find the order among the broker's working orders; its executions account for
   * `executedUnits`. `confirmed` when an earlier reconciliation missed it too (a single snapshot may miss an order).
   */
  | { readonly kind: 'missing'; readonly executedUnits: number; readonly confirmed: boolean }
  /** The guard asks the broker to cancel it. */
  | { readonly kind: 'cancel-requested' }
  /** The cancel request did not reach the broker. */
  | { readonly kind: 'cancel-failed' }
  /** The guard withdraws an order it never sent. */
  | { readonly kind: 'withdraw' }
  /** The guard's own refusal (the pre-trade gate) or the broker refusing to take it at placing. */
  | { readonly kind: 'reject' };

export type OrderEventKind = OrderEvent['kind'];

export type OrderStep = { readonly ok: true; readonly next: OrderLife } | { readonly ok: false; readonly reason: string };

export function isFinishedOrder(s: StoredOrderStatus): boolean {
  return s !== 'planned' && isTerminalOrderStatus(s);
}

export function isOpenOrder(s: StoredOrderStatus): boolean {
  return !isFinishedOrder(s);
}

/** Sent to the broker and not finished. */
function isSent(s: StoredOrderStatus): boolean {
  return s === 'pending' || s === 'working' || s === 'partially-filled';
}

function refuse(life: OrderLife, ev: OrderEvent, why: string): OrderStep {
  return { ok: false, reason: `order ${life.status} refuses '${ev.kind}': ${why}` };
}

/** Filled units never decrease and never exceed the quantity; a bad count (NaN, negative) changes nothing. */
function grown(life: OrderLife, units: number): number {
  if (!Number.isFinite(units) || units <= life.filledUnits) return life.filledUnits;
  return Math.min(life.quantity, Math.floor(units));
}

function finish(life: OrderLife, status: StoredOrderStatus, filledUnits: number): OrderLife {
  return { ...life, status, filledUnits, cancelRequested: isFinishedOrder(status) ? false : life.cancelRequested };
}

/**
 * The next life of an order after `ev`, or a refusal naming why (the caller keeps the order as it is). Pure.
 */
export function stepOrder(life: OrderLife, ev: OrderEvent): OrderStep {
  const s = life.status;
  const finished = isFinishedOrder(s);
  switch (ev.kind) {
    case 'send':
      if (s !== 'planned') return refuse(life, ev, 'only a planned order is sent');
      return { ok: true, next: finish(life, 'pending', life.filledUnits) };
    case 'send-failed':
      if (s !== 'pending' || life.filledUnits > 0) return refuse(life, ev, 'only an order just handed over, with nothing filled, goes back to planned');
      return { ok: true, next: finish(life, 'planned', life.filledUnits) };
    case 'broker-status': {
      const filled = grown(life, ev.filledUnits);
      if (finished) {
        // Reports can arrive after a reconciliation saw the order finish: the status never moves, a fill still counts.
        if (filled === life.filledUnits) return refuse(life, ev, 'a finished order is final');
        return { ok: true, next: { ...life, filledUnits: filled } };
      }
      return { ok: true, next: finish(life, ev.status, filled) };
    }
    case 'executed': {
      const filled = grown(life, ev.filledUnits);
      if (filled === life.filledUnits) return refuse(life, ev, 'no new units');
      if (finished) return { ok: true, next: { ...life, filledUnits: filled } };
      // An execution proves the order reached the broker; the status is the broker's to say, except that it went out.
      return { ok: true, next: finish(life, s === 'planned' ? 'pending' : s, filled) };
    }
    case 'missing': {
      if (finished) return refuse(life, ev, 'a finished order is final');
      const filled = grown(life, ev.executedUnits);
      if (filled >= life.quantity) return { ok: true, next: finish(life, 'filled', filled) };
      if (s === 'planned' && filled === 0) return refuse(life, ev, 'a planned order with no execution was never sent');
      // Partly executed (or not at all) and not working at the broker. One snapshot may simply have missed it, and
      // counting the rest as not working while it works could close it twice: it stays sent (a planned order that
      // executed did go out) until a second reconciliation confirms; then it is done with what it executed.
      if (!ev.confirmed) return { ok: true, next: finish(life, s === 'planned' ? 'pending' : s, filled) };
      return { ok: true, next: finish(life, 'cancelled', filled) };
    }
    case 'cancel-requested':
      if (!isSent(s)) return refuse(life, ev, 'only a sent, unfinished order can be cancelled at the broker');
      if (life.cancelRequested) return refuse(life, ev, 'a cancel is already requested');
      return { ok: true, next: { ...life, cancelRequested: true } };
    case 'cancel-failed':
      if (!life.cancelRequested) return refuse(life, ev, 'no cancel was requested');
      return { ok: true, next: { ...life, cancelRequested: false } };
    case 'withdraw':
      if (s !== 'planned') return refuse(life, ev, 'only an order not yet sent is withdrawn');
      return { ok: true, next: finish(life, 'cancelled', life.filledUnits) };
    case 'reject':
      if (s !== 'planned' && s !== 'pending') return refuse(life, ev, 'only an order not yet accepted is rejected by the guard');
      return { ok: true, next: finish(life, 'rejected', life.filledUnits) };
  }
}
