import { LegguardError } from '../../core/errors.js';
import type { CommissionReport, ExecutionReport, OrderStatusReport } from '../../core/events.js';
import { AccountId, IncidentId, OrderRef, StrategyId, type BrokerOrderId, type ExecId } from '../../core/ids.js';
import { parseOrderRef, RISK_TIERS, type OrderAction, type OrderLeg, type OrderRequest } from '../../core/order.js';
import { EpochMs, Price, Qty } from '../../core/quantity.js';
import type { OpenOrderReport } from '../../ports/broker.js';
import { formatIbTime, parseIbTime } from '../ib/ib-time.js';
import type { WireExecutionFilter } from './client-requests.js';
import type { ClientSession } from './client-session.js';
import type { ContractDirectory, ReportedContract } from './contract-directory.js';
import type { WireOrder } from './decode-place-order.js';
import { managedAccounts, type GatewayBackend } from './gateway-backend.js';
import { TwsCode } from './message-ids.js';
import { completedOrderMessage, openOrderMessage, type OrderViewLeg } from './order-messages.js';
import { ibStatus, isTerminalIbStatus, OrderRegistry, viewOf, type GatewayOrder } from './order-registry.js';
import { Msg } from './server-messages.js';

/** Who hears about an order or execution: its own client, and the master client(s). */
export type Recipients = (ownerClientId: number | null) => ClientSession[];

interface ExecRecord {
  readonly report: ExecutionReport;
  readonly order: GatewayOrder | null;
  readonly cumQty: number;
  readonly avgPrice: number;
}

function opposite(a: OrderAction): OrderAction {
  return a === 'BUY' ? 'SELL' : 'BUY';
}

/**
 * Orders and executions between TWS clients and the backend broker. A client's order becomes a legguard
 * `OrderRequest` (a combo sold becomes the same combo bought with legs reversed at the negated price, which is how
 * `OrderRequest` defines combos); backend events come back as IB's openOrder / orderStatus / execDetails /
 * commissionReport / error 201-202, addressed to the order's client and to the master client.
 */
export class OrderDesk {
  readonly registry = new OrderRegistry();
  private readonly execs = new Map<ExecId, ExecRecord>();
  private readonly commissions = new Map<ExecId, CommissionReport>();

  constructor(
    private readonly backend: GatewayBackend,
    private readonly directory: ContractDirectory,
    private readonly recipients: Recipients,
    private readonly log: (line: string) => void,
  ) {}

  private get accounts(): readonly string[] {
    return managedAccounts(this.backend);
  }

  private now(): number {
    return this.backend.clock.now();
  }

  async place(session: ClientSession, o: WireOrder): Promise<void> {
    const clientId = session.clientId ?? 0;
    const reject = (code: number, why: string): void => session.error(o.orderId, code, why);
    // One line per order a client sends, before any check: an operator (or a crash drill) can count what reached the
    // broker, by the client's own ref, whatever became of it.
    this.log(`client ${clientId} placed order ${o.orderId} ${o.orderRef === '' ? '(no ref)' : o.orderRef}: ${o.action} ${o.totalQuantity} ${o.contract.symbol} ${o.contract.secType}`);
    if (o.orderId <= 0) {
      reject(TwsCode.ORDER_REJECTED, `Order rejected - reason: order id ${o.orderId} must be positive`);
      return;
    }
    if (this.registry.isUsed(clientId, o.orderId)) {
      // TWS modifies a working order placed again under its id; the sim gateway does not model modification.
      const known = this.registry.get(clientId, o.orderId);
      reject(
        TwsCode.DUPLICATE_ORDER_ID,
        known && !isTerminalIbStatus(known.status)
          ? `Duplicate order id ${o.orderId}: the sim gateway does not modify working orders; cancel and place a new one`
          : `Duplicate order id ${o.orderId}: use an id above ${this.registry.nextValidId(clientId) - 1}`,
      );
      return;
    }
    this.registry.noteId(clientId, o.orderId);
    if (o.unsupported !== null) {
      reject(TwsCode.ORDER_REJECTED, `Order rejected - reason: not supported by the legguard sim gateway: ${o.unsupported}`);
      return;
    }
    const accounts = this.accounts;
    if (o.account === '' && accounts.length > 1) {
      reject(TwsCode.ORDER_REJECTED, `Order rejected - reason: this login manages several accounts (${accounts.join(', ')}): the order must name its account`);
      return;
    }
    const account = o.account === '' ? accounts[0]! : o.account;
    if (!accounts.includes(account)) {
      reject(TwsCode.ORDER_REJECTED, `Order rejected - reason: account ${account} is not managed by this login (${accounts.join(', ')})`);
      return;
    }
    let legs: OrderLeg[];
    let contract: ReportedContract;
    let comboLegs: OrderViewLeg[] = [];
    const sign: 1 | -1 = o.contract.secType.toUpperCase() === 'BAG' && o.action === 'SELL' ? -1 : 1;
    try {
      if (o.contract.secType.toUpperCase() === 'BAG') {
        if (o.comboLegs.length < 2) throw new LegguardError('INVALID_INPUT', `a BAG order needs at least 2 combo legs; got ${o.comboLegs.length}`);
        legs = o.comboLegs.map((l, i) => {
          const c = this.directory.contractOf(l.conId);
          if (!c) throw new LegguardError('INVALID_INPUT', `combo leg ${i}: unknown conId ${l.conId} (ask for contract details first)`);
          if (l.action !== 'BUY' && l.action !== 'SELL') throw new LegguardError('INVALID_INPUT', `combo leg ${i}: action ${JSON.stringify(l.action)}`);
          if (!(l.ratio >= 1)) throw new LegguardError('INVALID_INPUT', `combo leg ${i}: ratio ${l.ratio} must be at least 1`);
          return { contract: c, action: sign === -1 ? opposite(l.action) : l.action, ratio: l.ratio };
        });
        comboLegs = o.comboLegs.map((l) => ({ conId: l.conId, ratio: l.ratio, action: l.action as OrderAction }));
        const first = legs[0]!.contract;
        contract = {
          conId: 0,
          symbol: o.contract.symbol || first.symbol,
          secType: 'BAG',
          lastTradeDate: '',
          strike: 0,
          right: '',
          multiplier: '',
          exchange: o.contract.exchange || 'SMART',
          primaryExch: '',
          currency: o.contract.currency || first.currency,
          localSymbol: '',
          tradingClass: '',
        };
      } else {
        const c = this.directory.resolve(o.contract, (spec) => this.backend.resolve(spec));
        legs = [{ contract: c, action: o.action as OrderAction, ratio: 1 }];
        contract = this.directory.report(c);
      }
    } catch (e) {
      if (!LegguardError.is(e)) throw e;
      reject(TwsCode.NO_SECURITY_DEFINITION, `No security definition has been found for the request: ${e.message}`);
      return;
    }

    const backendRef = OrderRef.is(o.orderRef) && !this.registry.refInUse(account, o.orderRef) ? o.orderRef : `tws/${clientId}/${o.orderId}`;
    const parsed = parseOrderRef(backendRef);
    const strategyId = parsed && StrategyId.is(parsed.strategyId) ? StrategyId.unsafe(parsed.strategyId) : StrategyId.unsafe(`tws-client-${clientId}`);
    const incidentId = parsed && IncidentId.is(parsed.incident) && !parsed.incident.startsWith('exit') ? IncidentId.unsafe(parsed.incident) : null;
    const limit = o.orderType === 'LMT' && o.lmtPrice !== null ? Price.unsafe(sign * o.lmtPrice) : null;
    const request: OrderRequest = {
      ref: OrderRef.unsafe(backendRef),
      strategyId,
      incidentId,
      account: AccountId.unsafe(account),
      legs,
      quantity: Qty.unsafe(o.totalQuantity),
      orderType: o.orderType === 'MKT' ? 'MKT' : 'LMT',
      limitPrice: limit,
      outsideRth: o.outsideRth,
      purpose: incidentId !== null ? 'emergency' : 'normal',
      tier: legs.length > 1 ? RISK_TIERS.spread : RISK_TIERS['long-option'],
    };
    const order: GatewayOrder = {
      clientId,
      orderId: o.orderId,
      permId: this.registry.nextPermId(),
      backendId: null,
      backendRef,
      clientRef: o.orderRef,
      account,
      contract,
      comboLegs,
      action: o.action as OrderAction,
      totalQuantity: o.totalQuantity,
      orderType: o.orderType === 'MKT' ? 'MKT' : 'LMT',
      lmtPrice: o.orderType === 'LMT' ? o.lmtPrice : null,
      tif: o.tif === '' ? 'DAY' : o.tif,
      outsideRth: o.outsideRth,
      priceSign: sign,
      status: 'PendingSubmit',
      filled: 0,
      remaining: o.totalQuantity,
      avgFillPrice: 0,
      lastFillPrice: 0,
      completedTime: '',
      completedStatus: '',
      cancelRequested: false,
      legFills: new Map(),
    };
    this.registry.add(order);
    let ack: { orderId: BrokerOrderId };
    try {
      ack = await this.backend.broker.placeOrder(request);
    } catch (e) {
      this.finish(order, 'Inactive', e instanceof Error ? e.message : String(e));
      const code = LegguardError.is(e) && e.code === 'BROKER_DISCONNECTED' ? TwsCode.NOT_CONNECTED : TwsCode.ORDER_REJECTED;
      this.toRecipients(order, (s) => {
        s.error(order.orderId, code, `Order rejected - reason: ${e instanceof Error ? e.message : String(e)}`);
        s.send(Msg.orderStatus(this.statusFields(order)));
      });
      return;
    }
    if (order.backendId === null) this.registry.bind(order, ack.orderId);
    if (order.status === 'PendingSubmit') {
      // The backend said nothing yet; TWS acknowledges an accepted order at once.
      order.status = 'PreSubmitted';
      this.announce(order);
    }
  }

  async cancel(session: ClientSession, orderId: number): Promise<void> {
    const order = this.registry.get(session.clientId ?? 0, orderId);
    if (!order) {
      session.error(orderId, TwsCode.ORDER_NOT_FOUND, `OrderId ${orderId} that needs to be cancelled is not found.`);
      return;
    }
    await this.cancelOrder(order, session);
  }

  async cancelAll(session: ClientSession): Promise<void> {
    for (const o of [...this.registry.all()]) {
      if (!isTerminalIbStatus(o.status) && o.backendId !== null) await this.cancelOrder(o, session);
    }
  }

  private async cancelOrder(order: GatewayOrder, session: ClientSession): Promise<void> {
    if (isTerminalIbStatus(order.status) || order.backendId === null) {
      session.error(order.orderId, TwsCode.NOT_CANCELLABLE, `Cancel attempted when order is not in a cancellable state. Order permId =${order.permId}`);
      return;
    }
    order.cancelRequested = true;
    try {
      await this.backend.broker.cancelOrder(order.backendId);
    } catch (e) {
      order.cancelRequested = false;
      session.error(order.orderId, TwsCode.NOT_CANCELLABLE, `Cancel of order ${order.orderId} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Open orders at the backend, as OPEN_ORDER + ORDER_STATUS pairs and OPEN_ORDER_END. */
  async openOrders(session: ClientSession, scope: 'client' | 'all' | 'auto'): Promise<void> {
    const snap = await this.backend.broker.snapshot({ executionsSince: EpochMs.unsafe(this.now()) });
    for (const r of snap.openOrders) {
      const o = this.registry.byBackendId(r.orderId) ?? this.registry.byBackendRef(r.orderRef, r.account) ?? this.foreign(r);
      if (o.backendId === null) this.registry.bind(o, r.orderId);
      if (scope === 'client' && (o.clientId !== session.clientId || o.orderId === 0)) continue;
      this.applyStatus(o, r.status, r.filledQty, r.remainingQty, null);
      session.send(openOrderMessage(viewOf(o)));
      session.send(Msg.orderStatus(this.statusFields(o)));
    }
    session.send(Msg.openOrderEnd());
  }

  completedOrders(session: ClientSession, apiOnly: boolean): void {
    for (const o of this.registry.all()) {
      if (!isTerminalIbStatus(o.status)) continue;
      if (apiOnly && o.orderId === 0) continue;
      session.send(completedOrderMessage(viewOf(o)));
    }
    session.send(Msg.completedOrdersEnd());
  }

  /** REQ_EXECUTIONS: the backend's executions since the filter's time, filtered as IB filters, then the end marker. */
  async executions(session: ClientSession, reqId: number, f: WireExecutionFilter): Promise<void> {
    let since: EpochMs | null = null;
    if (f.time.trim() !== '') {
      try {
        since = parseIbTime(f.time);
      } catch (e) {
        session.error(reqId, TwsCode.ERROR_VALIDATING_REQUEST, `Error validating request: execution filter time: ${e instanceof Error ? e.message : String(e)}`);
        return;
      }
    }
    const snap = await this.backend.broker.snapshot({ executionsSince: since });
    for (const x of snap.executions) {
      if (since !== null && x.tsEvent < since) continue;
      if (f.account !== '' && f.account !== x.account) continue;
      if (f.symbol !== '' && f.symbol.toUpperCase() !== x.contract.symbol) continue;
      if (f.secType !== '' && f.secType.toUpperCase() !== x.contract.secType) continue;
      if (f.side !== '' && f.side.toUpperCase() !== x.side && !(f.side.toUpperCase() === 'BOT' && x.side === 'BUY') && !(f.side.toUpperCase() === 'SLD' && x.side === 'SELL')) continue;
      const rec = this.execs.get(x.execId) ?? this.record(x);
      if (f.clientId !== null && f.clientId !== 0 && (rec.order?.clientId ?? 0) !== f.clientId) continue;
      session.send(this.executionMessage(reqId, rec));
      const c = this.commissions.get(x.execId);
      if (c) session.send(Msg.commissionReport(c.execId, c.commission, c.currency));
    }
    session.send(Msg.executionDataEnd(reqId));
  }

  onOrderStatus(ev: OrderStatusReport): void {
    const order = this.registry.byBackendId(ev.orderId) ?? this.registry.byBackendRef(ev.orderRef, null);
    if (!order) {
      this.log(`order-status for unknown backend order ${ev.orderId} (${ev.status}); no client placed it through this gateway`);
      return;
    }
    if (order.backendId === null) this.registry.bind(order, ev.orderId);
    this.applyStatus(order, ev.status, ev.filledQty, ev.remainingQty, ev.avgFillPrice, ev.reason);
    if (ev.status === 'rejected') {
      this.toRecipients(order, (s) => {
        s.error(order.orderId, ev.code ?? TwsCode.ORDER_REJECTED, `Order rejected - reason: ${ev.reason ?? 'rejected by the broker'}`);
        s.send(Msg.orderStatus(this.statusFields(order)));
      });
      return;
    }
    if (ev.status === 'cancelled') {
      this.toRecipients(order, (s) => s.error(order.orderId, TwsCode.ORDER_CANCELLED, `Order Canceled - reason:${ev.reason ?? ''}`));
    }
    this.announce(order);
  }

  onExecution(ev: ExecutionReport): void {
    const rec = this.record(ev);
    this.toRecipientsOf(rec.order, (s) => s.send(this.executionMessage(-1, rec)));
  }

  onCommission(ev: CommissionReport): void {
    this.commissions.set(ev.execId, ev);
    const rec = this.execs.get(ev.execId);
    this.toRecipientsOf(rec?.order ?? null, (s) => s.send(Msg.commissionReport(ev.execId, ev.commission, ev.currency)));
  }

  /** Books an execution once (duplicates from the backend keep their first accounting). */
  private record(x: ExecutionReport): ExecRecord {
    const seen = this.execs.get(x.execId);
    if (seen) return seen;
    const order = this.registry.byBackendId(x.orderId) ?? this.registry.byBackendRef(x.orderRef, x.account) ?? null;
    let cumQty = x.qty as number;
    let avgPrice = x.price as number;
    if (order) {
      const conId = this.directory.conIdOf(x.contract);
      const f = order.legFills.get(conId) ?? { qty: 0, avg: 0 };
      cumQty = f.qty + x.qty;
      avgPrice = (f.avg * f.qty + x.price * x.qty) / cumQty;
      order.legFills.set(conId, { qty: cumQty, avg: avgPrice });
      order.lastFillPrice = x.price;
    }
    const rec: ExecRecord = { report: x, order, cumQty, avgPrice };
    this.execs.set(x.execId, rec);
    return rec;
  }

  private executionMessage(reqId: number, rec: ExecRecord): ReturnType<typeof Msg.executionData> {
    const x = rec.report;
    return Msg.executionData(reqId, rec.order?.orderId ?? 0, this.directory.report(x.contract), {
      execId: x.execId,
      time: formatIbTime(x.tsEvent, 'US/Eastern'),
      account: x.account,
      exchange: 'SMART',
      side: x.side === 'BUY' ? 'BOT' : 'SLD',
      shares: x.qty,
      price: x.price,
      permId: rec.order?.permId ?? x.permId ?? 0,
      clientId: rec.order?.clientId ?? 0,
      liquidation: x.liquidation,
      cumQty: rec.cumQty,
      avgPrice: Number(rec.avgPrice.toFixed(6)),
      orderRef: rec.order ? rec.order.clientRef : (x.orderRef ?? ''),
    });
  }

  private applyStatus(
    o: GatewayOrder,
    status: OrderStatusReport['status'],
    filled: number,
    remaining: number,
    avgFillPrice: Price | null,
    reason: string | null = null,
  ): void {
    const next = ibStatus(status);
    // An order that is done stays done, whatever order late or repeated reports arrive in.
    if (isTerminalIbStatus(o.status) && !isTerminalIbStatus(next)) return;
    o.status = next;
    o.filled = Math.max(o.filled, filled);
    o.remaining = remaining;
    if (avgFillPrice !== null) o.avgFillPrice = o.priceSign * avgFillPrice;
    if (isTerminalIbStatus(next) && o.completedTime === '') this.finish(o, next, reason);
  }

  private finish(o: GatewayOrder, status: string, reason: string | null): void {
    o.status = status;
    o.completedTime = formatIbTime(this.now(), 'US/Eastern');
    o.completedStatus = reason ?? status;
  }

  private statusFields(o: GatewayOrder): Parameters<typeof Msg.orderStatus>[0] {
    return {
      orderId: o.orderId,
      status: o.status,
      filled: o.filled,
      remaining: o.remaining,
      avgFillPrice: o.avgFillPrice,
      permId: o.permId,
      lastFillPrice: o.lastFillPrice,
      clientId: o.clientId,
      whyHeld: '',
    };
  }

  private announce(o: GatewayOrder): void {
    this.toRecipients(o, (s) => {
      s.send(openOrderMessage(viewOf(o)));
      s.send(Msg.orderStatus(this.statusFields(o)));
    });
  }

  private toRecipients(o: GatewayOrder, fn: (s: ClientSession) => void): void {
    this.toRecipientsOf(o, fn);
  }

  private toRecipientsOf(o: GatewayOrder | null, fn: (s: ClientSession) => void): void {
    const owner = o && o.orderId > 0 ? o.clientId : null;
    for (const s of this.recipients(owner)) fn(s);
  }

  /** An order the backend has that no client placed through this gateway: reported with orderId 0, as TWS does. */
  private foreign(r: OpenOrderReport): GatewayOrder {
    const single = r.legs.length === 1 ? r.legs[0]! : null;
    const first = r.legs[0];
    const contract: ReportedContract = single
      ? this.directory.report(single.contract)
      : {
          conId: 0,
          symbol: first?.contract.symbol ?? '',
          secType: 'BAG',
          lastTradeDate: '',
          strike: 0,
          right: '',
          multiplier: '',
          exchange: 'SMART',
          primaryExch: '',
          currency: first?.contract.currency ?? 'USD',
          localSymbol: '',
          tradingClass: '',
        };
    const o: GatewayOrder = {
      clientId: 0,
      orderId: 0,
      permId: this.registry.nextPermId(),
      backendId: r.orderId,
      backendRef: r.orderRef ?? `backend/${r.orderId}`,
      clientRef: r.orderRef ?? '',
      account: r.account,
      contract,
      comboLegs: single ? [] : r.legs.map((l) => ({ conId: this.directory.conIdOf(l.contract), ratio: l.ratio, action: l.action })),
      action: single ? single.action : 'BUY',
      totalQuantity: single ? r.quantity * single.ratio : r.quantity,
      orderType: r.limitPrice === null ? 'MKT' : 'LMT',
      lmtPrice: r.limitPrice,
      tif: 'DAY',
      outsideRth: false,
      priceSign: 1,
      status: ibStatus(r.status),
      filled: r.filledQty,
      remaining: r.remainingQty,
      avgFillPrice: 0,
      lastFillPrice: 0,
      completedTime: '',
      completedStatus: '',
      cancelRequested: false,
      legFills: new Map(),
    };
    this.registry.add(o);
    return o;
  }
}

