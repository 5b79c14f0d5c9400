import type { Contract, OptionContract } from '../core/contract.js';
import type { BrokerSnapshot } from '../core/broker-snapshot.js';
import type { BrokerEvent } from '../core/events.js';
import type { AccountId, BrokerOrderId, OrderRef } from '../core/ids.js';
import type { OrderRequest } from '../core/order.js';
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

/** IB's exerciseAction: 1 exercise, 2 lapse (a do-not-exercise instruction for the expiry). */
export type ExerciseAction = 'exercise' | 'lapse';

/**
 * An instruction on a long option the account holds (IB's `exerciseOptions`). `exercise` settles it at the strike:
 * the option position shrinks and the stock is delivered (a call buys, a put sells), reported as position events and
 * no execution, as IB reports an exercise. `lapse` tells the clearing not to exercise it at its expiry; nothing
 * happens until then, when the option goes away with no stock. `override` is IB's: act against the natural action
 * (exercise one out of the money, lapse one in the money at expiry).
 */
export interface ExerciseRequest {
  /**
   * legguard's ref (`lg/<strategy>/<incident>/<group>/<revision>`). A broker takes one request per ref: the same ref
   * again resolves with `duplicate: true` and sends nothing (IB's request carries no ref; the adapter remembers).
   */
  readonly ref: OrderRef;
  readonly account: AccountId;
  readonly contract: OptionContract;
  /** Contracts, positive. */
  readonly quantity: Qty;
  readonly action: ExerciseAction;
  readonly override: boolean;
}

/** The request went out under `requestId`; a refusal comes back as a `notice` naming that id. */
export interface ExerciseAck {
  readonly requestId: BrokerOrderId;
  readonly duplicate: boolean;
}

// The snapshot lives in core (reconciliation reads it); the broker port names it here too.
export type { BrokerSnapshot, OpenOrderReport } from '../core/broker-snapshot.js';

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
  /**
   * Exercise or lapse a long option. Resolves when the request went out; the exercise shows as position events (the
   * option shrinking, the stock delivered); a refusal (not held, malformed, European before expiry) as a `notice`
   * whose `orderId` is the ack's `requestId`.
   */
  exerciseOptions(request: ExerciseRequest): Promise<ExerciseAck>;
  /** A quote now, or null when the broker has none (no market data, market closed and no last). */
  quote(contract: Contract): Promise<Quote | null>;
  underlying(symbol: string): Promise<UnderlyingInfo>;
}

/**
 * What a command that only reads gets from a broker (`legguard risk --config`): positions, quotes, underlyings and
 * the broker's time. Nothing on it sends an order, a cancel or an exercise, so the read-only path cannot.
 */
export interface BrokerReader {
  readonly name: string;
  readonly account: AccountId;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** The broker's time now (TWS's clock; the scenario time of the sim gateway). */
  currentTime(): Promise<EpochMs>;
  /** The account's non-zero positions. */
  positions(): Promise<readonly { readonly contract: Contract; readonly qty: Qty }[]>;
  quote(contract: Contract): Promise<Quote | null>;
  underlying(symbol: string): Promise<UnderlyingInfo>;
}
