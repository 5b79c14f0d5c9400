import type { Contract } from './contract.js';
import type { AccountId, BrokerOrderId, ExecId, OrderRef } from './ids.js';
import type { EpochMs, Price, Qty } from './quantity.js';

/**
 * What a broker adapter reports, one immutable tagged type per change (NautilusTrader's `OrderEventAny` style).
 * `tsEvent` is when the broker says the change happened or showed it (for IB position updates, which carry no time,
 * the moment the adapter received it); `tsInit` is when the event was created in this process. Both come from the
 * injected clock. A report made up during reconciliation says so with `reconciled: true`.
 */
interface EventTimes {
  readonly tsEvent: EpochMs;
  readonly tsInit: EpochMs;
  readonly reconciled?: boolean;
}

/** The account's net position in one contract, as the broker now reports it (not a delta). */
export interface PositionReport extends EventTimes {
  readonly kind: 'position';
  readonly account: AccountId;
  readonly contract: Contract;
  readonly qty: Qty;
  /** Per share or per contract incl. multiplier, as IB reports it; null when unknown. */
  readonly avgCost: number | null;
}

/** One fill. Combo fills are reported per leg. */
export interface ExecutionReport extends EventTimes {
  readonly kind: 'execution';
  readonly account: AccountId;
  readonly execId: ExecId;
  /** The broker's order id, null when the order was not placed through this connection (manual, other client). */
  readonly orderId: BrokerOrderId | null;
  /** The orderRef on the order, null when it had none. legguard's own start with `lg/`. */
  readonly orderRef: OrderRef | null;
  readonly contract: Contract;
  readonly side: 'BUY' | 'SELL';
  /** Positive. */
  readonly qty: Qty;
  readonly price: Price;
  /** True when the broker itself liquidated (IB's Execution.liquidation). */
  readonly liquidation: boolean;
  /**
   * The broker's permanent id of the order (IB's permId), the same for every leg of one combo order and across
   * clients; null or absent when the broker did not say. How the account holder's combo trades are told apart.
   */
  readonly permId?: number | null;
}

export interface CommissionReport extends EventTimes {
  readonly kind: 'commission';
  readonly execId: ExecId;
  readonly commission: number;
  readonly currency: string;
}

export const ORDER_STATUSES = ['pending', 'working', 'partially-filled', 'filled', 'cancelled', 'rejected'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export function isTerminalOrderStatus(s: OrderStatus): boolean {
  return s === 'filled' || s === 'cancelled' || s === 'rejected';
}

export interface OrderStatusReport extends EventTimes {
  readonly kind: 'order-status';
  readonly orderId: BrokerOrderId;
  readonly orderRef: OrderRef | null;
  readonly status: OrderStatus;
  /** In order units (combo units for a combo). */
  readonly filledQty: Qty;
  readonly remainingQty: Qty;
  readonly avgFillPrice: Price | null;
  /** The broker's words for a reject or cancel. */
  readonly reason: string | null;
  /** The broker's code (IB 201 for a reject ...), null when none. */
  readonly code: number | null;
}

/**
 * The link to the broker. IB's 1100 is `disconnected`; 1101 is `connected` with `dataLost: true` (subscriptions
 * must be made again); 1102 is `connected` with `dataLost: false`.
 */
export interface ConnectionReport extends EventTimes {
  readonly kind: 'connection';
  readonly state: 'connected' | 'disconnected';
  readonly dataLost: boolean;
  readonly reason: string | null;
}

export interface QuoteReport extends EventTimes {
  readonly kind: 'quote';
  readonly contract: Contract;
  readonly bid: Price | null;
  readonly ask: Price | null;
  readonly last: Price | null;
}

/** Anything else the broker says that a person may want in the journal (IB 2104 farm OK, 2110 ...). */
export interface NoticeReport extends EventTimes {
  readonly kind: 'notice';
  readonly code: number;
  readonly message: string;
  readonly orderId: BrokerOrderId | null;
}

export type BrokerEvent =
  | PositionReport
  | ExecutionReport
  | CommissionReport
  | OrderStatusReport
  | ConnectionReport
  | QuoteReport
  | NoticeReport;

export type BrokerEventKind = BrokerEvent['kind'];
