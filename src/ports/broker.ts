import type { Contract } from '../core/contract.js';
import type { BrokerEvent, ExecutionReport, OrderStatus, PositionReport } from '../core/events.js';
import type { AccountId, BrokerOrderId, OrderRef } from '../core/ids.js';
import type { OrderLeg, OrderRequest } from '../core/order.js';
import type { EpochMs, Price, Qty } from '../core/quantity.js';

/** The broker took the request: it went out. Fills, rejects and cancels come back later as events. */
export interface PlaceAck {
  readonly orderId: BrokerOrderId;
}

export interface Quote {
  readonly contract: Contract;
  readonly bid: Price | null;
  readonly ask: Price | null;
  readonly last: Price | null;
  /** The underlying's price when the quote is for an option and the source knows it. */
  readonly underlying: Price | null;
  readonly at: EpochMs;
}

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

export interface DividendInfo {
  readonly exDate: string;
  readonly amount: number;
}

/** What the broker knows about an underlying: its price and (IB generic tick 456) dividends. */
export interface UnderlyingInfo {
  readonly symbol: string;
  readonly price: Price | null;
  readonly dividends: readonly DividendInfo[];
}

/**
 * A broker: the simulated one and Interactive Brokers both implement this, and both pass
 * `test/contract/broker.contract.ts`. Commands resolve when the request went out ("sent", LEAN's convention);
 * results come back as events. A command that could not be sent rejects with a `LegguardError`
 * (`BROKER_DISCONNECTED`, `BROKER_TIMEOUT`, `BROKER_REJECTED`).
 */
export interface BrokerPort {
  readonly name: string;
  readonly account: AccountId;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  isConnected(): boolean;
  /** Every event, in the order the broker sent them. Returns the unsubscribe function. */
  subscribe(listener: (event: BrokerEvent) => void): () => void;
  /** Positions and open orders now, and executions at or after `executionsSince` (all the broker has when null). */
  snapshot(opts: { executionsSince: EpochMs | null }): Promise<BrokerSnapshot>;
  placeOrder(order: OrderRequest): Promise<PlaceAck>;
  cancelOrder(orderId: BrokerOrderId): Promise<void>;
  /** A quote now, or null when the broker has none (no market data, market closed and no last). */
  quote(contract: Contract): Promise<Quote | null>;
  underlying(symbol: string): Promise<UnderlyingInfo>;
}
