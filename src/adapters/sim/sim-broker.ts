import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { expiryClose, isOpen, nextOpen, type SessionKind } from '../../core/calendar.js';
import {
  contractKey,
  describeContract,
  isOption,
  stock,
  stockFromSettlement,
  type Contract,
  type OptionContract,
} from '../../core/contract.js';
import { LegguardError } from '../../core/errors.js';
import type {
  BrokerEvent,
  ExecutionReport,
  OrderStatus,
  OrderStatusReport,
  PositionReport,
} from '../../core/events.js';
import { isTerminalOrderStatus } from '../../core/events.js';
import { BrokerOrderId, ExecId, type AccountId, type ContractKey, type OrderRef } from '../../core/ids.js';
import type { OrderLeg, OrderRequest } from '../../core/order.js';
import { requireOrderShape } from '../../core/order-shape.js';
import { EpochMs, Price, Qty } from '../../core/quantity.js';
import type {
  BrokerPort,
  BrokerSnapshot,
  ExerciseAck,
  ExerciseRequest,
  OpenOrderReport,
  PlaceAck,
  Quote,
  UnderlyingInfo,
} from '../../ports/broker.js';
import type { Clock, TimerHandle } from '../../ports/clock.js';
import { VirtualClock } from '../clock/virtual-clock.js';
import { ClearingHouse, type ClearingSettings, type ExpiryInstruction } from './clearing-house.js';
import type { SimActivity } from './sim-activity.js';
import { fillModel, type FillModel } from './fill-model.js';
import type { SimControl } from './sim-control.js';
import type { SimMarket } from './sim-market.js';

/** Commissions charged per execution (IB-like tiers, simplified). */
export interface CommissionSchedule {
  readonly perOptionContract: number;
  readonly perShare: number;
  readonly minimum: number;
}

export const DEFAULT_COMMISSIONS: CommissionSchedule = { perOptionContract: 0.65, perShare: 0.005, minimum: 1 };

export interface SimBrokerOptions {
  readonly account: AccountId;
  readonly clock: Clock;
  readonly market: SimMarket;
  readonly fills?: Partial<FillModel>;
  readonly name?: string;
  readonly commissions?: CommissionSchedule;
  /** Re-check working orders against the moving quote this often while a session is open. */
  readonly recheckMs?: number;
  /** The clearing house's settings (posting time, early exercise, seed). */
  readonly clearing?: Partial<ClearingSettings>;
  /**
   * Which of several simulated accounts behind one login this is (0-99, default 0): its order, execution and
   * permanent ids are drawn from a range of their own, so that the accounts' ids never meet at the gateway.
   */
  readonly idSpace?: number;
}


interface SimPosition {
  readonly contract: Contract;
  qty: number;
  /** Per share for stock, per contract (premium x multiplier) for options, as IB reports it. */
  avgCost: number;
}

interface SimOrder {
  readonly orderId: BrokerOrderId;
  readonly ref: OrderRef | null;
  readonly request: OrderRequest;
  readonly session: SessionKind;
  status: OrderStatus;
  filled: number;
  /** Sum of (net unit price x units) over fills, for the average. */
  filledValue: number;
  partialDone: boolean;
  timer: TimerHandle | null;
}

/** One position change from the clearing house: no execution, only positions. */
export interface SettlementChange {
  readonly contract: Contract;
  readonly delta: number;
  /** Per share (stock delivered at the strike) or per contract premium; sets the cost of a new position. */
  readonly price: number;
}

const CODE_REJECTED = 201;
const CODE_NO_SECURITY = 200;
const CODE_INVALID = 321;

/**
 * A simulated Interactive Brokers account behind the broker port. It keeps the account's net position per contract,
 * takes single and combo orders, fills them against the simulated market's quotes under a fill model chosen at run
 * time, honours the trading calendar, and reports order status, executions, positions and commissions as events in
 * IB's order. Everything runs on the injected clock: event delivery too (a timer at the current time), so a client
 * always has the acknowledgement of `placeOrder` before the events of that order, and a virtual clock makes a run
 * reproducible.
 *
 * Connection: `connect()`/`disconnect()` are the client's; `dropConnection()`/`restoreConnection()` are faults of the
 * link. While disconnected nothing but `connection` events is delivered, commands reject with BROKER_DISCONNECTED,
 * and the account keeps changing (working orders fill, assignments post); a client finds out by reconciling.
 *
 * Orders are good until cancelled; an option order outside 09:30-16:00 New York (or a stock order outside regular
 * hours without `outsideRth`) is accepted as `pending` and starts working at the next open.
 */
export class SimBroker implements BrokerPort, SimControl {
  readonly name: string;
  readonly account: AccountId;
  readonly clock: Clock;
  readonly market: SimMarket;
  /** Assignments, exercises and expirations, as the OCC and IB do them. */
  readonly clearing: ClearingHouse;

  private fills: FillModel;
  private readonly commissions: CommissionSchedule;
  private readonly recheckMs: number;
  private readonly positions = new Map<ContractKey, SimPosition>();
  private readonly orders = new Map<BrokerOrderId, SimOrder>();
  private readonly executions: ExecutionReport[] = [];
  private readonly listeners: ((e: BrokerEvent) => void)[] = [];
  private readonly activityListeners: ((a: SimActivity) => void)[] = [];
  private outbox: BrokerEvent[] = [];
  private flushTimer: TimerHandle | null = null;
  private recheckTimer: TimerHandle | null = null;
  private nextOrderId: number;
  private nextExec = 1;
  /** Execution ids end in the id space (`.01` for the first account), as IB's end in a sequence. */
  private readonly execSuffix: string;
  /** Permanent ids of orders placed outside legguard (the account holder's, the broker's liquidations). */
  private nextPerm: number;
  /** Exercise requests by ref: one request per ref. */
  private readonly exerciseRefs = new Map<OrderRef, BrokerOrderId>();
  /** Instructions for the expiry (lapse, or exercise after the last trading moment), per option. */
  private readonly instructions = new Map<ContractKey, ExpiryInstruction[]>();
  private clientConnected = false;
  private linkUp = true;

  constructor(opts: SimBrokerOptions) {
    this.name = opts.name ?? 'sim';
    this.account = opts.account;
    const space = opts.idSpace ?? 0;
    if (!(Number.isInteger(space) && space >= 0 && space <= 99)) throw new LegguardError('INVALID_INPUT', `idSpace must be a whole number from 0 to 99; got ${space}`);
    this.nextOrderId = 1 + space * 10_000_000;
    this.nextPerm = 500_000_001 + space * 10_000_000;
    this.execSuffix = String(space + 1).padStart(2, '0');
    this.clock = opts.clock;
    this.market = opts.market;
    this.fills = fillModel(opts.fills);
    this.commissions = opts.commissions ?? DEFAULT_COMMISSIONS;
    this.recheckMs = opts.recheckMs ?? 60_000;
    this.market.onChange((c) => {
      if (c.kind === 'price') {
        this.activity('price', `${c.symbol} ${c.price.toFixed(2)}${c.reason === 'ex-dividend' ? ' (ex-dividend)' : ''}`);
        const q = this.market.quote(stock(c.symbol));
        if (q) this.emit({ kind: 'quote', contract: q.contract, bid: q.bid, ask: q.ask, last: q.last, ...this.times() });
      }
      this.recheckAll();
    });
    this.clearing = new ClearingHouse(this, this.market, this.clock, opts.clearing);
    this.clearing.start();
  }

  // ------------------------------------------------------------------ broker port

  async connect(): Promise<void> {
    await Promise.resolve();
    if (!this.linkUp) throw new LegguardError('BROKER_DISCONNECTED', `${this.name}: the broker cannot be reached (link down)`);
    if (this.clientConnected) return;
    this.clientConnected = true;
    this.emit({ kind: 'connection', state: 'connected', dataLost: false, reason: null, ...this.times() });
  }

  async disconnect(): Promise<void> {
    await Promise.resolve();
    if (!this.clientConnected) return;
    this.emit({ kind: 'connection', state: 'disconnected', dataLost: false, reason: 'client disconnected', ...this.times() });
    this.clientConnected = false;
  }

  isConnected(): boolean {
    return this.clientConnected && this.linkUp;
  }

  subscribe(listener: (event: BrokerEvent) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  async snapshot(opts: { executionsSince: EpochMs | null }): Promise<BrokerSnapshot> {
    await Promise.resolve();
    this.requireConnected('snapshot');
    const at = this.clock.now();
    const positions: PositionReport[] = [];
    for (const p of this.positions.values()) {
      if (p.qty !== 0) positions.push(this.positionReport(p));
    }
    const openOrders: OpenOrderReport[] = [];
    for (const o of this.orders.values()) if (!isTerminalOrderStatus(o.status)) openOrders.push(this.openOrderReport(o));
    const since = opts.executionsSince;
    const executions = this.executions.filter((e) => since === null || e.tsEvent >= since);
    return { account: this.account, at, positions, openOrders, executions };
  }

  async placeOrder(order: OrderRequest): Promise<PlaceAck> {
    await Promise.resolve();
    // The one order shape rule (core/order-shape.ts), as the IB adapter checks it: thrown, nothing placed.
    requireOrderShape(order, this.account);
    this.requireConnected('placeOrder');
    const orderId = BrokerOrderId.unsafe(String(this.nextOrderId++));
    const session = this.sessionFor(order);
    const o: SimOrder = {
      orderId,
      ref: order.ref,
      request: order,
      session,
      status: 'pending',
      filled: 0,
      filledValue: 0,
      partialDone: false,
      timer: null,
    };
    this.orders.set(orderId, o);
    const problem = this.validate(order);
    if (problem) {
      this.finish(o, 'rejected', problem.reason, problem.code);
      return { orderId };
    }
    if (this.fills.mode === 'reject') {
      this.finish(o, 'rejected', `Order rejected - reason: ${this.fills.rejectReason}`, CODE_REJECTED);
      return { orderId };
    }
    if (isOpen(this.clock.now(), session)) {
      o.status = 'working';
      this.emitStatus(o, null, null);
      this.evaluate(o);
    } else {
      // IB's PreSubmitted: accepted, waiting for its session.
      this.emitStatus(o, null, null);
      this.armOpen(o);
    }
    return { orderId };
  }

  async cancelOrder(orderId: BrokerOrderId): Promise<void> {
    await Promise.resolve();
    this.requireConnected('cancelOrder');
    const o = this.orders.get(orderId);
    if (!o) {
      this.emit({ kind: 'notice', code: 10147, message: `OrderId ${orderId} that needs to be cancelled is not found.`, orderId, ...this.times() });
      return;
    }
    if (isTerminalOrderStatus(o.status)) {
      this.emit({ kind: 'notice', code: 161, message: `Cancel attempted when order ${orderId} is ${o.status}.`, orderId, ...this.times() });
      return;
    }
    this.finish(o, 'cancelled', 'cancelled by client', 202);
    this.activity('cancel', `order ${orderId}${o.ref ? ` (${o.ref})` : ''} cancelled, ${o.filled} of ${o.request.quantity} filled`);
  }

  /**
   * IB's exerciseOptions. An exercise before the option's last trading moment settles at once (the simulated clearing
   * posts a holder's exercise immediately; IB posts it overnight): the option shrinks and the stock moves at the
   * strike, as position events with no execution. A lapse, or an exercise after the last trading moment, is an
   * instruction the clearing house applies at the expiry's settlement. A request it cannot take is refused with a
   * `notice` naming the request id (code 321).
   */
  async exerciseOptions(req: ExerciseRequest): Promise<ExerciseAck> {
    await Promise.resolve();
    this.requireConnected('exerciseOptions');
    const known = this.exerciseRefs.get(req.ref);
    if (known !== undefined) return { requestId: known, duplicate: true };
    const requestId = BrokerOrderId.unsafe(String(this.nextOrderId++));
    this.exerciseRefs.set(req.ref, requestId);
    const problem = this.exerciseProblem(req);
    if (problem !== null) {
      this.activity('reject', `exercise request ${requestId} (${req.ref}) refused: ${problem}`);
      this.emit({ kind: 'notice', code: CODE_INVALID, message: `Exercise request refused: ${problem}`, orderId: requestId, ...this.times() });
      return { requestId, duplicate: false };
    }
    const c = req.contract;
    const what = `${req.quantity} ${describeContract(c)} (${req.ref})`;
    if (req.action === 'exercise' && this.clock.now() < expiryClose(c.expiry)) {
      this.settleOptions([{ contract: c, optionDelta: 0 - req.quantity }], 'exercise', `exercised ${what} on request ${requestId}`);
    } else {
      const key = contractKey(c);
      this.instructions.set(key, [...(this.instructions.get(key) ?? []), { action: req.action, qty: req.quantity, override: req.override }]);
      this.activity('exercise', `${req.action === 'lapse' ? 'do not exercise' : 'exercise at expiry'} ${what}${req.override ? ' (override)' : ''}, request ${requestId}`);
    }
    return { requestId, duplicate: false };
  }

  /** The expiry instructions given for an option (the clearing house reads them at settlement). */
  expiryInstructions(contract: OptionContract): readonly ExpiryInstruction[] {
    return this.instructions.get(contractKey(contract)) ?? [];
  }

  private exerciseProblem(req: ExerciseRequest): string | null {
    if (req.account !== this.account) return `account ${req.account} is not this connection's account ${this.account}`;
    const c = req.contract as Contract;
    if (!isOption(c)) return `${describeContract(c)} is not an option`;
    if (!this.market.has(c.symbol)) return `No security definition has been found for ${describeContract(c)}`;
    if (!Number.isSafeInteger(req.quantity) || req.quantity <= 0) return `exercise quantity must be a positive whole number; got ${req.quantity}`;
    if (req.action !== 'exercise' && req.action !== 'lapse') return `unknown exercise action ${String(req.action)}`;
    const now = this.clock.now();
    if (c.style === 'european' && req.action === 'exercise' && now < expiryClose(c.expiry)) {
      return `${describeContract(c)} is European: it cannot be exercised before expiry`;
    }
    if (now >= expiryClose(c.expiry) + 24 * 3600_000) return `${describeContract(c)} has expired`;
    const held: number = this.position(c);
    const instructed = (this.instructions.get(contractKey(c)) ?? []).reduce((a, i) => a + i.qty, 0);
    if (held - instructed < req.quantity) {
      return `cannot ${req.action} ${req.quantity} of ${describeContract(c)}: the account is long ${Math.max(0, held)}${instructed > 0 ? ` with ${instructed} already instructed` : ''}`;
    }
    return null;
  }

  async quote(contract: Contract): Promise<Quote | null> {
    await Promise.resolve();
    this.requireConnected('quote');
    return this.market.quote(contract);
  }

  async underlying(symbol: string): Promise<UnderlyingInfo> {
    await Promise.resolve();
    this.requireConnected('underlying');
    if (!this.market.has(symbol)) return { symbol, price: null, dividends: [] };
    return { symbol: symbol.toUpperCase(), price: Price.round(this.market.price(symbol)), dividends: this.market.upcomingDividends(symbol) };
  }

  // ------------------------------------------------------------------ simulator control

  now(): EpochMs {
    return this.clock.now();
  }

  async advance(ms: number): Promise<void> {
    if (!(this.clock instanceof VirtualClock)) {
      throw new LegguardError('INVALID_INPUT', `${this.name}: advance() needs a VirtualClock; this simulator runs on real time`);
    }
    const clock = this.clock;
    await clock.advanceTo(clock.now() + ms, () => yieldToLoop());
  }

  /** Listens to what the simulator does (for timelines); returns the unsubscribe function. */
  onActivity(fn: (a: SimActivity) => void): () => void {
    this.activityListeners.push(fn);
    return () => {
      const i = this.activityListeners.indexOf(fn);
      if (i >= 0) this.activityListeners.splice(i, 1);
    };
  }

  activity(kind: SimActivity['kind'], text: string): void {
    const a: SimActivity = { at: this.clock.now(), kind, text };
    for (const l of [...this.activityListeners]) l(a);
  }

  setPosition(contract: Contract, qty: number, avgCost?: number): void {
    const q = Qty.parse(qty, `position in ${describeContract(contract)}`);
    this.checkKnown(contract);
    const key = contractKey(contract);
    const p = this.positions.get(key) ?? { contract, qty: 0, avgCost: 0 };
    p.qty = q;
    p.avgCost = q === 0 ? 0 : (avgCost ?? (p.avgCost || this.markCost(contract)));
    this.positions.set(key, p);
    this.activity('position', `${describeContract(contract)} set to ${q}`);
    this.emit(this.positionReport(p));
  }

  position(contract: Contract): Qty {
    return Qty.unsafe(this.positions.get(contractKey(contract))?.qty ?? 0);
  }

  /** Every non-zero position, as the simulator holds it. */
  allPositions(): { contract: Contract; qty: Qty; avgCost: number }[] {
    return [...this.positions.values()].filter((p) => p.qty !== 0).map((p) => ({ contract: p.contract, qty: Qty.unsafe(p.qty), avgCost: p.avgCost }));
  }

  get fillModel(): FillModel {
    return this.fills;
  }

  setFillModel(spec: Partial<FillModel>): void {
    this.fills = fillModel(spec);
    this.activity('fill-model', `fills: ${this.fills.mode}`);
    // Orders resting after a partial fill may fill now.
    for (const o of this.orders.values()) o.partialDone = false;
    this.recheckAll();
  }

  setPrice(symbol: string, price: number): void {
    this.market.setPrice(symbol, price);
  }

  postAssignment(contract: OptionContract, qty: number): void {
    const n = positiveWhole(qty, 'assignment quantity');
    const short: number = 0 - this.position(contract);
    if (contract.style === 'european' && this.clock.now() < expiryClose(contract.expiry)) {
      throw new LegguardError('INVALID_INPUT', `${describeContract(contract)} is European: it is not assigned before expiry`);
    }
    if (short < n) {
      throw new LegguardError('INVALID_INPUT', `cannot assign ${n} of ${describeContract(contract)}: the account is short ${Math.max(0, short)}`);
    }
    this.settleOptions([{ contract, optionDelta: n }], 'assignment', `assigned ${n} ${describeContract(contract)}`);
  }

  postExercise(contract: OptionContract, qty: number): void {
    const n = positiveWhole(qty, 'exercise quantity');
    const held = this.position(contract);
    if (contract.style === 'european' && this.clock.now() < expiryClose(contract.expiry)) {
      throw new LegguardError('INVALID_INPUT', `${describeContract(contract)} is European: it cannot be exercised before expiry`);
    }
    if (held < n) {
      throw new LegguardError('INVALID_INPUT', `cannot exercise ${n} of ${describeContract(contract)}: the account is long ${Math.max(0, held)}`);
    }
    this.settleOptions([{ contract, optionDelta: -n }], 'exercise', `exercised ${n} ${describeContract(contract)}`);
  }

  /**
   * Settles option position changes as the clearing house does: each option moves by `optionDelta` (toward zero) and,
   * when `deliver` (the default) and the option is physically settled, the stock it delivers at the strike is netted
   * per underlying. Reported as position events, options first, then the stock, and no execution (IB reports none
   * for assignments, exercises and expirations).
   */
  settleOptions(
    items: readonly { contract: OptionContract; optionDelta: number; deliver?: boolean }[],
    kind: SimActivity['kind'],
    text: string,
  ): void {
    const changes: SettlementChange[] = [];
    const stockBy = new Map<string, { contract: Contract; delta: number; cost: number }>();
    for (const { contract, optionDelta, deliver } of items) {
      if (optionDelta === 0) continue;
      changes.push({ contract, delta: optionDelta, price: 0 });
      // The option leaving the account (-optionDelta of it) delivers stock at the strike.
      const shares = deliver === false ? 0 : stockFromSettlement(contract, -optionDelta);
      if (shares !== 0) {
        const s = stock(contract.symbol, contract.currency);
        const k = contractKey(s);
        const agg = stockBy.get(k) ?? { contract: s, delta: 0, cost: 0 };
        agg.delta += shares;
        agg.cost += shares * contract.strike;
        stockBy.set(k, agg);
      }
    }
    for (const s of stockBy.values()) {
      if (s.delta !== 0) changes.push({ contract: s.contract, delta: s.delta, price: s.cost / s.delta });
    }
    this.applySettlement(changes);
    this.activity(kind, text);
  }

  /** Applies position changes with no execution: options first, then stock, one position event per contract. */
  applySettlement(changes: readonly SettlementChange[]): void {
    const ordered = [...changes].sort((a, b) => Number(isOption(b.contract)) - Number(isOption(a.contract)));
    for (const c of ordered) {
      const p = this.trade(c.contract, c.delta, c.price);
      this.emit(this.positionReport(p));
    }
  }

  manualTrade(contract: Contract, signedQty: number): void {
    const q = Qty.parse(signedQty, 'trade quantity');
    if (q === 0) throw new LegguardError('INVALID_INPUT', 'a trade needs a non-zero quantity');
    this.outsideExecution(contract, q, false, this.nextPerm++);
    this.activity('manual-trade', `account holder ${q > 0 ? 'bought' : 'sold'} ${Math.abs(q)} ${describeContract(contract)}`);
  }

  manualCombo(legs: readonly { readonly contract: Contract; readonly qty: number }[]): void {
    if (legs.length < 2) throw new LegguardError('INVALID_INPUT', `a combo trade has at least 2 legs; got ${legs.length}`);
    const keys = new Set<string>();
    const checked = legs.map((l) => {
      const q = Qty.parse(l.qty, 'combo leg quantity');
      if (q === 0) throw new LegguardError('INVALID_INPUT', `combo leg ${describeContract(l.contract)}: a leg needs a non-zero quantity`);
      const key = contractKey(l.contract);
      if (keys.has(key)) throw new LegguardError('INVALID_INPUT', `combo leg ${describeContract(l.contract)} is given twice`);
      keys.add(key);
      this.checkTradable(l.contract);
      return { contract: l.contract, qty: q };
    });
    // Checked whole before any leg fills: a combo fills all its legs or none.
    const permId = this.nextPerm++;
    for (const l of checked) this.outsideExecution(l.contract, l.qty, false, permId);
    this.activity('manual-trade', `account holder traded a combo: ${checked.map((l) => `${l.qty > 0 ? '+' : ''}${l.qty} ${describeContract(l.contract)}`).join(', ')}`);
  }

  liquidate(contract: Contract, qty: number): void {
    const n = positiveWhole(Math.abs(qty), 'liquidation quantity');
    const held = this.position(contract);
    if (held === 0) throw new LegguardError('INVALID_INPUT', `cannot liquidate ${describeContract(contract)}: the account holds none`);
    const size = Math.min(n, Math.abs(held));
    const signed = held > 0 ? -size : size;
    this.outsideExecution(contract, signed, true, this.nextPerm++);
    this.activity('liquidation', `broker liquidated ${size} ${describeContract(contract)}`);
  }

  dropConnection(reason = 'connectivity between IB and TWS has been lost'): void {
    if (!this.linkUp) return;
    const wasConnected = this.isConnected();
    if (wasConnected) this.emit({ kind: 'connection', state: 'disconnected', dataLost: false, reason, ...this.times() });
    this.linkUp = false;
    this.activity('connection', `link down: ${reason}`);
  }

  restoreConnection(opts: { dataLost?: boolean } = {}): void {
    if (this.linkUp) return;
    this.linkUp = true;
    const dataLost = opts.dataLost ?? false;
    if (this.isConnected()) {
      this.emit({
        kind: 'connection',
        state: 'connected',
        dataLost,
        reason: dataLost ? 'connectivity restored, data lost' : 'connectivity restored, data maintained',
        ...this.times(),
      });
    }
    this.activity('connection', `link restored${dataLost ? ' (data lost)' : ''}`);
  }

  /** Orders as the simulator holds them (for tests and the TWS gateway's open-order requests). */
  openOrders(): OpenOrderReport[] {
    return [...this.orders.values()].filter((o) => !isTerminalOrderStatus(o.status)).map((o) => this.openOrderReport(o));
  }

  /** Cancels working orders that trade an option whose last trading moment has passed (the exchange does). */
  cancelExpired(): void {
    const now = this.clock.now();
    for (const o of this.orders.values()) {
      if (isTerminalOrderStatus(o.status)) continue;
      if (o.request.legs.some((l) => isOption(l.contract) && now >= expiryClose(l.contract.expiry))) {
        this.finish(o, 'cancelled', 'contract expired', 202);
        this.activity('cancel', `order ${o.orderId} cancelled: contract expired`);
      }
    }
  }

  // ------------------------------------------------------------------ orders

  private sessionFor(order: OrderRequest): SessionKind {
    if (order.legs.some((l) => isOption(l.contract))) return 'option';
    return order.outsideRth ? 'stock-extended' : 'stock';
  }

  /** What this simulated broker refuses as TWS would, after the shape rule: contracts it does not trade. */
  private validate(order: OrderRequest): { reason: string; code: number } | null {
    for (const leg of order.legs) {
      const c = leg.contract;
      if (!this.market.has(c.symbol)) {
        return { reason: `No security definition has been found for ${describeContract(c)}`, code: CODE_NO_SECURITY };
      }
      if (c.secType === 'STK' && this.market.isIndex(c.symbol)) {
        return { reason: `${c.symbol} is an index: it does not trade`, code: CODE_NO_SECURITY };
      }
      if (isOption(c) && this.clock.now() >= expiryClose(c.expiry)) {
        return { reason: `${describeContract(c)} has expired`, code: CODE_NO_SECURITY };
      }
    }
    return null;
  }

  /** Arms a timer for the order's next session open. */
  private armOpen(o: SimOrder): void {
    o.timer?.cancel();
    const at = nextOpen(this.clock.now(), o.session);
    o.timer = this.clock.setTimer(at, () => {
      o.timer = null;
      if (isTerminalOrderStatus(o.status)) return;
      if (o.status === 'pending') {
        o.status = 'working';
        this.emitStatus(o, null, null);
      }
      this.evaluate(o);
    });
  }

  private recheckAll(): void {
    for (const o of this.orders.values()) {
      if (o.status === 'working' || o.status === 'partially-filled') this.evaluate(o);
    }
  }

  /** Keeps one timer that re-checks working orders while any is in session: the quote moves with time. */
  private armRecheck(): void {
    if (this.recheckTimer) return;
    const now = this.clock.now();
    const working = [...this.orders.values()].some(
      (o) => (o.status === 'working' || o.status === 'partially-filled') && isOpen(now, o.session),
    );
    if (!working) return;
    this.recheckTimer = this.clock.setTimer(EpochMs.unsafe(this.clock.now() + this.recheckMs), () => {
      this.recheckTimer = null;
      this.recheckAll();
      this.armRecheck();
    });
  }

  /** Fills what the fill model allows of an order if it is marketable now. */
  private evaluate(o: SimOrder): void {
    if (isTerminalOrderStatus(o.status)) return;
    const now = this.clock.now();
    if (!isOpen(now, o.session)) {
      this.armOpen(o);
      return;
    }
    if (o.request.legs.some((l) => isOption(l.contract) && now >= expiryClose(l.contract.expiry))) return;
    const px = this.marketable(o);
    if (px === null) {
      this.armRecheck();
      return;
    }
    const remaining = o.request.quantity - o.filled;
    switch (this.fills.mode) {
      case 'immediate':
      case 'reject': // resting orders placed before the switch still fill
        this.fill(o, remaining, px);
        break;
      case 'delayed':
        if (o.timer === null) {
          o.timer = this.clock.setTimer(EpochMs.unsafe(now + this.fills.delayMs), () => {
            o.timer = null;
            if (isTerminalOrderStatus(o.status)) return;
            const later = this.marketable(o);
            if (later === null) {
              this.armRecheck();
              return;
            }
            this.fill(o, o.request.quantity - o.filled, later);
          });
        }
        break;
      case 'partial': {
        if (o.partialDone) break;
        o.partialDone = true;
        const part = remaining >= 2 ? Math.max(1, Math.floor(remaining * this.fills.fraction)) : 0;
        if (part > 0) this.fill(o, part, px);
        break;
      }
    }
    this.armRecheck();
  }

  /**
   * The prices an order fills at if it is marketable now: the far side of each leg's quote (ask to buy, bid to
   * sell), or null when a side is missing or the limit does not reach it. A single-leg limit is a price per share or
   * contract; a combo's limit is the net per unit, positive a debit, negative a credit.
   */
  private marketable(o: SimOrder): { legs: number[]; net: number } | null {
    const legs: number[] = [];
    let net = 0;
    for (const leg of o.request.legs) {
      const q = this.market.quote(leg.contract);
      const side = q === null ? null : leg.action === 'BUY' ? q.ask : q.bid;
      if (side === null) return null;
      legs.push(side);
      net += (leg.action === 'BUY' ? 1 : -1) * leg.ratio * side;
    }
    net = Number(net.toFixed(6));
    if (o.request.orderType === 'MKT') return { legs, net };
    const limit = o.request.limitPrice!;
    const single = o.request.legs.length === 1 ? o.request.legs[0]! : null;
    const ok = single && single.action === 'SELL' ? legs[0]! >= limit - 1e-9 : net <= limit + 1e-9;
    return ok ? { legs, net } : null;
  }

  private fill(o: SimOrder, units: number, px: { legs: number[]; net: number }): void {
    if (units <= 0) return;
    const at = this.clock.now();
    const execs: ExecutionReport[] = [];
    const reports: PositionReport[] = [];
    o.request.legs.forEach((leg, i) => {
      const qty = leg.ratio * units;
      const price = px.legs[i]!;
      const p = this.trade(leg.contract, (leg.action === 'BUY' ? 1 : -1) * qty, price);
      execs.push(this.execution(leg.contract, leg.action, qty, price, o.orderId, o.ref, false, at));
      reports.push(this.positionReport(p));
    });
    o.filled += units;
    o.filledValue += units * px.net;
    o.status = o.filled >= o.request.quantity ? 'filled' : 'partially-filled';
    if (o.status === 'filled') {
      o.timer?.cancel();
      o.timer = null;
    }
    const unitPrice = single(o) && o.request.legs[0]!.action === 'SELL' ? -px.net : px.net;
    this.activity(
      'fill',
      `order ${o.orderId}${o.ref ? ` (${o.ref})` : ''} ${o.status === 'filled' ? 'filled' : 'partly filled'} ${units} @ ${unitPrice.toFixed(2)}`,
    );
    if (this.fills.positionFirst) {
      for (const r of reports) this.emit(r);
      for (const e of execs) this.emit(e);
      this.emitStatus(o, null, null);
    } else {
      for (const e of execs) this.emit(e);
      this.emitStatus(o, null, null);
      for (const r of reports) this.emit(r);
    }
    for (const e of execs) this.emitCommission(e);
  }

  private finish(o: SimOrder, status: 'cancelled' | 'rejected', reason: string, code: number): void {
    o.timer?.cancel();
    o.timer = null;
    o.status = status;
    if (status === 'rejected') this.activity('reject', `order ${o.orderId}${o.ref ? ` (${o.ref})` : ''} rejected: ${reason}`);
    this.emitStatus(o, reason, code);
  }

  private emitStatus(o: SimOrder, reason: string | null, code: number | null): void {
    const report: OrderStatusReport = {
      kind: 'order-status',
      orderId: o.orderId,
      orderRef: o.ref,
      status: o.status,
      filledQty: Qty.unsafe(o.filled),
      remainingQty: Qty.unsafe(isTerminalOrderStatus(o.status) ? 0 : o.request.quantity - o.filled),
      avgFillPrice: this.avgPrice(o),
      reason,
      code,
      ...this.times(),
    };
    this.emit(report);
  }

  private avgPrice(o: SimOrder): Price | null {
    if (o.filled === 0) return null;
    const avg = o.filledValue / o.filled;
    // A single sell reports the (positive) price received, as IB does.
    return Price.unsafe(Number((single(o) && o.request.legs[0]!.action === 'SELL' ? -avg : avg).toFixed(6)));
  }

  private openOrderReport(o: SimOrder): OpenOrderReport {
    return {
      orderId: o.orderId,
      orderRef: o.ref,
      account: this.account,
      legs: o.request.legs.map((l): OrderLeg => ({ contract: l.contract, action: l.action, ratio: l.ratio })),
      quantity: o.request.quantity,
      limitPrice: o.request.limitPrice,
      status: o.status,
      filledQty: Qty.unsafe(o.filled),
      remainingQty: Qty.unsafe(o.request.quantity - o.filled),
    };
  }

  // ------------------------------------------------------------------ positions and executions

  /** Moves a position by `delta` at `price` (per share or premium per contract), keeping IB's average cost. */
  private trade(contract: Contract, delta: number, price: number): SimPosition {
    const key = contractKey(contract);
    const p = this.positions.get(key) ?? { contract, qty: 0, avgCost: 0 };
    this.positions.set(key, p);
    const unit = isOption(contract) ? price * contract.multiplier : price;
    const before = p.qty;
    const after = before + delta;
    if (after === 0) p.avgCost = 0;
    else if (before === 0 || Math.sign(before) !== Math.sign(after)) p.avgCost = unit;
    else if (Math.abs(after) > Math.abs(before)) p.avgCost = (Math.abs(before) * p.avgCost + Math.abs(delta) * unit) / Math.abs(after);
    p.qty = after;
    return p;
  }

  /** Throws unless `contract` is one this broker knows and it trades now. */
  private checkTradable(contract: Contract): void {
    this.checkKnown(contract);
    const kind: SessionKind = isOption(contract) ? 'option' : 'stock-extended';
    if (!isOpen(this.clock.now(), kind)) {
      throw new LegguardError('INVALID_INPUT', `${describeContract(contract)} does not trade now (${kind === 'option' ? '09:30-16:00' : '04:00-20:00'} New York)`);
    }
  }

  /** A fill of an order placed outside legguard: no order id, no ref; `permId` is the order's permanent id. */
  private outsideExecution(contract: Contract, signedQty: number, liquidation: boolean, permId: number): void {
    this.checkTradable(contract);
    const now = this.clock.now();
    const q = this.market.quote(contract);
    const action = signedQty > 0 ? 'BUY' : 'SELL';
    const price = (action === 'BUY' ? q?.ask : q?.bid) ?? q?.last ?? 0;
    const p = this.trade(contract, signedQty, price);
    const e = this.execution(contract, action, Math.abs(signedQty), price, null, null, liquidation, now, permId);
    this.emit(e);
    this.emit(this.positionReport(p));
    this.emitCommission(e);
  }

  private execution(
    contract: Contract,
    side: 'BUY' | 'SELL',
    qty: number,
    price: number,
    orderId: BrokerOrderId | null,
    orderRef: OrderRef | null,
    liquidation: boolean,
    at: EpochMs,
    permId: number | null = null,
  ): ExecutionReport {
    const execId = ExecId.unsafe(`sim.${(this.nextExec++).toString(16).padStart(8, '0')}.${this.execSuffix}`);
    const e: ExecutionReport = {
      kind: 'execution',
      account: this.account,
      execId,
      orderId,
      orderRef,
      contract,
      side,
      qty: Qty.unsafe(qty),
      price: Price.unsafe(price),
      liquidation,
      ...(permId !== null ? { permId } : {}),
      tsEvent: at,
      tsInit: at,
    };
    this.executions.push(e);
    return e;
  }

  private emitCommission(e: ExecutionReport): void {
    const c = this.commissions;
    const raw = isOption(e.contract) ? e.qty * c.perOptionContract : e.qty * c.perShare;
    this.emit({ kind: 'commission', execId: e.execId, commission: Number(Math.max(c.minimum, raw).toFixed(4)), currency: 'USD', ...this.times() });
  }

  private positionReport(p: SimPosition): PositionReport {
    return {
      kind: 'position',
      account: this.account,
      contract: p.contract,
      qty: Qty.unsafe(p.qty),
      avgCost: p.qty === 0 ? 0 : Number(p.avgCost.toFixed(6)),
      ...this.times(),
    };
  }

  /** What a new position costs when set by hand: the market's mark. */
  private markCost(c: Contract): number {
    const q = this.market.quote(c);
    const mark = q?.last ?? 0;
    return isOption(c) ? mark * c.multiplier : mark;
  }

  private checkKnown(c: Contract): void {
    if (!this.market.has(c.symbol)) throw new LegguardError('INVALID_INPUT', `the simulated market has no underlying ${c.symbol}`);
    if (c.secType === 'STK' && this.market.isIndex(c.symbol)) {
      throw new LegguardError('INVALID_INPUT', `${c.symbol} is an index: the account cannot hold it as stock`);
    }
  }

  // ------------------------------------------------------------------ delivery

  private times(): { tsEvent: EpochMs; tsInit: EpochMs } {
    const now = this.clock.now();
    return { tsEvent: now, tsInit: now };
  }

  private requireConnected(what: string): void {
    if (!this.isConnected()) {
      throw new LegguardError('BROKER_DISCONNECTED', `${this.name}: not connected to the broker (${what})`);
    }
  }

  /**
   * Queues an event for delivery on the clock's next turn. An event raised while disconnected is lost, as IB's are;
   * `connection` events are always delivered.
   */
  private emit(e: BrokerEvent): void {
    if (e.kind !== 'connection' && !this.isConnected()) return;
    this.outbox.push(e);
    this.flushTimer ??= this.clock.setTimer(this.clock.now(), () => this.flush());
  }

  private flush(): void {
    this.flushTimer = null;
    const batch = this.outbox;
    this.outbox = [];
    // A listener that throws must not keep the event from the others; the first failure surfaces afterwards.
    const failures: unknown[] = [];
    for (const e of batch) {
      if (e.kind !== 'connection' && !this.isConnected()) continue;
      for (const l of [...this.listeners]) {
        try {
          l(e);
        } catch (err) {
          failures.push(err);
        }
      }
    }
    if (failures.length > 0) {
      throw failures[0] instanceof Error ? failures[0] : new LegguardError('INTERNAL', `broker event listener failed: ${String(failures[0])}`);
    }
  }
}

function single(o: SimOrder): boolean {
  return o.request.legs.length === 1;
}

function positiveWhole(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n <= 0) throw new LegguardError('INVALID_INPUT', `${what} must be a positive whole number; got ${n}`);
  return n;
}
