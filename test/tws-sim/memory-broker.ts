import { contractKey, type Contract } from '../../src/core/contract.js';
import { LegguardError } from '../../src/core/errors.js';
import type { BrokerEvent, ExecutionReport, OrderStatus, PositionReport } from '../../src/core/events.js';
import { AccountId, BrokerOrderId, ExecId, type OrderRef } from '../../src/core/ids.js';
import { legEffect, type OrderRequest } from '../../src/core/order.js';
import { EpochMs, Price, Qty } from '../../src/core/quantity.js';
import type { BrokerPort, BrokerSnapshot, DividendInfo, ExerciseAck, ExerciseRequest, OpenOrderReport, PlaceAck, Quote, UnderlyingInfo } from '../../src/ports/broker.js';
import type { Clock } from '../../src/ports/clock.js';
import { symbolResolver, type GatewayBackend } from '../../src/adapters/tws-sim/gateway-backend.js';

export type FillMode = 'immediate' | 'working' | 'reject';

interface MemOrder {
  readonly id: BrokerOrderId;
  readonly request: OrderRequest;
  status: OrderStatus;
  filled: number;
}

/**
 * A small, deterministic broker for the gateway's tests, until the simulator lands: positions set by the test,
 * orders that fill at once at their limit (or stay working, or are rejected), quotes and dividends set by the test.
 * Fills move positions and produce per-leg executions and commissions, as the port says a broker does.
 */
export class MemoryBroker implements BrokerPort {
  readonly name = 'memory';
  readonly account: AccountId;
  private connected = true;
  private readonly listeners = new Set<(e: BrokerEvent) => void>();
  private readonly positions = new Map<string, { contract: Contract; qty: number; avgCost: number }>();
  private readonly orders = new Map<BrokerOrderId, MemOrder>();
  private readonly executions: ExecutionReport[] = [];
  private readonly quotes = new Map<string, Quote>();
  private readonly underlyings = new Map<string, { price: number | null; dividends: DividendInfo[] }>();
  private seq = 0;
  fillMode: FillMode = 'immediate';
  /** Emit the order's first status before `placeOrder` resolves (the hard case for a bridge). */
  eventsBeforeAck = false;
  /** Commission per contract or per 100 shares. */
  commissionPerUnit = 0.65;
  readonly placed: OrderRequest[] = [];

  constructor(
    account: string,
    readonly clock: Clock,
  ) {
    this.account = AccountId.unsafe(account);
  }

  /** The backend the gateway needs: this broker, its clock, and a resolver over the symbols it has prices for. */
  backend(indices: string[] = []): GatewayBackend {
    return {
      broker: this,
      clock: this.clock,
      resolve: (spec) => symbolResolver(this.underlyings.keys(), indices)(spec),
    };
  }

  // ---- test controls ----

  setUnderlying(symbol: string, price: number | null, dividends: DividendInfo[] = []): void {
    this.underlyings.set(symbol, { price, dividends });
  }

  setQuote(contract: Contract, bid: number | null, ask: number | null, last: number | null, underlying: number | null = null, emit = false): void {
    const q: Quote = {
      contract,
      bid: bid === null ? null : Price.unsafe(bid),
      ask: ask === null ? null : Price.unsafe(ask),
      last: last === null ? null : Price.unsafe(last),
      underlying: underlying === null ? null : Price.unsafe(underlying),
      at: this.clock.now(),
    };
    this.quotes.set(contractKey(contract), q);
    if (emit) this.emit({ kind: 'quote', contract, bid: q.bid, ask: q.ask, last: q.last, tsEvent: q.at, tsInit: q.at });
  }

  /** Sets a position as an assignment or a manual trade would, and reports it. */
  setPosition(contract: Contract, qty: number, avgCost = 0): void {
    this.positions.set(contractKey(contract), { contract, qty, avgCost });
    this.emitPosition(contract);
  }

  /** A trade made outside the API (the account holder in TWS): an execution with no order id, and its position. */
  manualTrade(contract: Contract, side: 'BUY' | 'SELL', qty: number, price: number, liquidation = false): ExecutionReport {
    const x = this.exec(null, null, contract, side, qty, price, liquidation);
    this.move(contract, side === 'BUY' ? qty : -qty, price);
    return x;
  }

  setConnected(up: boolean, dataLost = false): void {
    this.connected = up;
    const t = this.clock.now();
    this.emit({ kind: 'connection', state: up ? 'connected' : 'disconnected', dataLost, reason: null, tsEvent: t, tsInit: t });
  }

  emit(ev: BrokerEvent): void {
    for (const l of this.listeners) l(ev);
  }

  order(id: BrokerOrderId): MemOrder | undefined {
    return this.orders.get(id);
  }

  /** Fills a working order now (all of it, or `units`). */
  fill(id: BrokerOrderId, units?: number, price?: number): void {
    const o = this.orders.get(id);
    if (!o) throw new Error(`no order ${id}`);
    const n = units ?? o.request.quantity - o.filled;
    const legPrice = (i: number): number => {
      if (price !== undefined) return price;
      const q = this.quotes.get(contractKey(o.request.legs[i]!.contract));
      return q?.last ?? q?.bid ?? 1;
    };
    o.request.legs.forEach((leg, i) => {
      const p = o.request.legs.length === 1 && o.request.limitPrice !== null && price === undefined ? o.request.limitPrice : legPrice(i);
      this.exec(o.id, o.request.ref, leg.contract, leg.action, leg.ratio * n, p, false);
      this.move(leg.contract, legEffect(leg, n), p);
    });
    o.filled += n;
    this.status(o, o.filled >= o.request.quantity ? 'filled' : 'partially-filled', null, null);
  }

  // ---- BrokerPort ----

  connect(): Promise<void> {
    this.connected = true;
    return Promise.resolve();
  }

  disconnect(): Promise<void> {
    this.connected = false;
    return Promise.resolve();
  }

  isConnected(): boolean {
    return this.connected;
  }

  subscribe(listener: (event: BrokerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(opts: { executionsSince: EpochMs | null }): Promise<BrokerSnapshot> {
    const at = this.clock.now();
    const positions: PositionReport[] = [...this.positions.values()]
      .filter((p) => p.qty !== 0)
      .map((p) => ({ kind: 'position', account: this.account, contract: p.contract, qty: Qty.unsafe(p.qty), avgCost: p.avgCost, tsEvent: at, tsInit: at, reconciled: true }));
    const openOrders: OpenOrderReport[] = [...this.orders.values()]
      .filter((o) => o.status === 'pending' || o.status === 'working' || o.status === 'partially-filled')
      .map((o) => ({
        orderId: o.id,
        orderRef: o.request.ref,
        account: this.account,
        legs: o.request.legs,
        quantity: o.request.quantity,
        limitPrice: o.request.limitPrice,
        status: o.status,
        filledQty: Qty.unsafe(o.filled),
        remainingQty: Qty.unsafe(o.request.quantity - o.filled),
      }));
    const since = opts.executionsSince;
    const executions = this.executions.filter((x) => since === null || x.tsEvent >= since);
    return Promise.resolve({ account: this.account, at, positions, openOrders, executions });
  }

  async placeOrder(order: OrderRequest): Promise<PlaceAck> {
    if (!this.connected) throw new LegguardError('BROKER_DISCONNECTED', 'memory broker is disconnected');
    this.placed.push(order);
    const id = BrokerOrderId.unsafe(`M${++this.seq}`);
    const o: MemOrder = { id, request: order, status: 'pending', filled: 0 };
    this.orders.set(id, o);
    const act = (): void => {
      if (this.fillMode === 'reject') {
        this.status(o, 'rejected', 'no liquidity in the memory broker', 201);
        return;
      }
      this.status(o, 'working', null, null);
      if (this.fillMode === 'immediate') this.fill(id);
    };
    if (this.eventsBeforeAck) act();
    else queueMicrotask(act);
    await Promise.resolve();
    return { orderId: id };
  }

  /** Exercise requests as received; the memory broker keeps no option positions to settle them against. */
  readonly exerciseRequests: ExerciseRequest[] = [];

  exerciseOptions(request: ExerciseRequest): Promise<ExerciseAck> {
    if (!this.connected) return Promise.reject(new LegguardError('BROKER_DISCONNECTED', 'memory broker is disconnected'));
    this.exerciseRequests.push(request);
    return Promise.reject(new LegguardError('BROKER_REJECTED', `the memory broker does not settle exercises (${request.ref})`));
  }

  cancelOrder(orderId: BrokerOrderId): Promise<void> {
    const o = this.orders.get(orderId);
    if (!o) return Promise.reject(new LegguardError('NOT_FOUND', `no order ${orderId}`));
    if (o.status === 'filled' || o.status === 'cancelled' || o.status === 'rejected') {
      return Promise.reject(new LegguardError('BROKER_REJECTED', `order ${orderId} is ${o.status}`));
    }
    queueMicrotask(() => this.status(o, 'cancelled', 'cancelled by request', null));
    return Promise.resolve();
  }

  quote(contract: Contract): Promise<Quote | null> {
    return Promise.resolve(this.quotes.get(contractKey(contract)) ?? null);
  }

  underlying(symbol: string): Promise<UnderlyingInfo> {
    const u = this.underlyings.get(symbol);
    if (!u) return Promise.reject(new LegguardError('NOT_FOUND', `unknown underlying ${symbol}`));
    return Promise.resolve({ symbol, price: u.price === null ? null : Price.unsafe(u.price), dividends: u.dividends });
  }

  // ---- internals ----

  private status(o: MemOrder, status: OrderStatus, reason: string | null, code: number | null): void {
    o.status = status;
    const t = this.clock.now();
    this.emit({
      kind: 'order-status',
      orderId: o.id,
      orderRef: o.request.ref,
      status,
      filledQty: Qty.unsafe(o.filled),
      remainingQty: Qty.unsafe(o.request.quantity - o.filled),
      avgFillPrice: status === 'filled' || status === 'partially-filled' ? (o.request.limitPrice ?? Price.unsafe(1)) : null,
      reason,
      code,
      tsEvent: t,
      tsInit: t,
    });
  }

  private exec(orderId: BrokerOrderId | null, ref: OrderRef | null, contract: Contract, side: 'BUY' | 'SELL', qty: number, price: number, liquidation: boolean): ExecutionReport {
    const t = this.clock.now();
    const x: ExecutionReport = {
      kind: 'execution',
      account: this.account,
      execId: ExecId.unsafe(`0000e0d5.${(++this.seq).toString(16).padStart(8, '0')}.01.01`),
      orderId,
      orderRef: ref,
      contract,
      side,
      qty: Qty.unsafe(qty),
      price: Price.unsafe(price),
      liquidation,
      tsEvent: t,
      tsInit: t,
    };
    this.executions.push(x);
    this.emit(x);
    const units = contract.secType === 'OPT' ? qty : qty / 100;
    this.emit({ kind: 'commission', execId: x.execId, commission: Number((units * this.commissionPerUnit).toFixed(2)), currency: 'USD', tsEvent: t, tsInit: t });
    return x;
  }

  private move(contract: Contract, delta: number, price: number): void {
    const key = contractKey(contract);
    const p = this.positions.get(key) ?? { contract, qty: 0, avgCost: 0 };
    const mult = contract.secType === 'OPT' ? contract.multiplier : 1;
    const next = p.qty + delta;
    const avgCost = next === 0 ? 0 : Math.sign(next) === Math.sign(p.qty) && Math.abs(next) < Math.abs(p.qty) ? p.avgCost : price * mult;
    this.positions.set(key, { contract, qty: next, avgCost });
    this.emitPosition(contract);
  }

  private emitPosition(contract: Contract): void {
    const p = this.positions.get(contractKey(contract))!;
    const t = this.clock.now();
    this.emit({ kind: 'position', account: this.account, contract, qty: Qty.unsafe(p.qty), avgCost: p.avgCost, tsEvent: t, tsInit: t });
  }
}

export const t0 = EpochMs.unsafe(Date.parse('2026-01-28T09:45:00-05:00'));
