import type { ExecutionReport, OrderStatus, PositionReport } from './events.js';
import type { AccountId, BrokerOrderId, OrderRef } from './ids.js';
import type { OrderLeg } from './order.js';
import type { EpochMs, Price, Qty } from './quantity.js';

/** One working (or just finished) order as the broker lists it. */
export interface OpenOrderReport {
  readonly orderId: BrokerOrderId;
  readonly orderRef: OrderRef | null;
  readonly account: AccountId;
  readonly legs: readonly OrderLeg[];
  readonly quantity: Qty;
  readonly limitPrice: Price | null;
  readonly status: OrderStatus;
  readonly filledQty: Qty;
  readonly remainingQty: Qty;
}

/** Everything reconciliation needs, as of one moment: positions, working orders, executions since a time. */
export interface BrokerSnapshot {
  readonly account: AccountId;
  readonly at: EpochMs;
  /** Non-zero positions only. */
  readonly positions: readonly PositionReport[];
  readonly openOrders: readonly OpenOrderReport[];
  readonly executions: readonly ExecutionReport[];
}
