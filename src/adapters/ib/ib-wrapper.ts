import { EventName, SecType, type CommissionReport as IbCommissionReport, type Contract as IbContract, type ContractDetails, type Execution, type Order as IbOrder, type OrderState } from '@stoqey/ib';
import { LegguardError } from '../../core/errors.js';
import type { BrokerEvent } from '../../core/events.js';
import type { AccountId } from '../../core/ids.js';
import type { EpochMs } from '../../core/quantity.js';
import type { Clock } from '../../ports/clock.js';
import type { DropLog } from './drop-log.js';
import type { AccountFeed, Outcome } from './ib-account.js';
import { IbCode } from './ib-codes.js';
import type { On } from './ib-connection.js';
import type { ContractCache } from './ib-contract-cache.js';
import type { MarketData } from './ib-market-data.js';
import type { OrderBook } from './ib-order-book.js';
import type { IbQueries } from './ib-queries.js';
import type { Req, Requests } from './ib-requests.js';
import type { ServerTime } from './ib-server-time.js';
import { isDrop, readServerTime } from './ib-translate.js';

export interface WrapperParts {
  readonly account: AccountId;
  /** Stamps events: the broker's time (scenario time in a drill). */
  readonly stamp: Clock;
  readonly drops: DropLog;
  readonly requests: Requests;
  readonly cache: ContractCache;
  readonly feed: AccountFeed;
  readonly orders: OrderBook;
  readonly queries: IbQueries;
  readonly market: MarketData;
  readonly time: ServerTime;
  readonly emit: (e: BrokerEvent) => void;
  /** A notice event (IB's code and words), for an order when `orderId` is set. */
  readonly notice: (code: number, message: string, orderId: string | null) => void;
}

/**
 * What TWS calls back (IB's EWrapper, as NautilusTrader names it): each IBApi event of the current connection goes to
 * the part that owns it (the account feed, the order book, the queries waiting for a list, market data, the contract
 * cache, the server time); what a part makes of it becomes a broker event, a drop for the rate-limited log, or a
 * notice. IB's errors are routed by their request id: a request's error ends that request, an order's becomes its
 * reject, the rest (id -1) a notice.
 */
export class IbWrapper {
  constructor(private readonly p: WrapperParts) {}

  /** Registers every handler on a new connection (`IbConnection`'s `attach` hook). */
  attach(on: On): void {
    const p = this.p;
    const at = (): EpochMs => p.stamp.now();
    on<[unknown]>(EventName.currentTime, (seconds) => {
      const t = readServerTime(seconds);
      if (isDrop(t)) return p.drops.drop(t);
      p.time.heard(t);
    });
    on<[Error, number, number]>(EventName.error, (err, code, reqId) => this.onError(err instanceof Error ? err.message : String(err), Number(code), reqId));
    on<[unknown, IbContract | undefined, unknown, unknown]>(EventName.position, (acct, c, pos, avgCost) => {
      if (acct !== p.account) return;
      this.take(p.feed.onPosition(acct, p.cache.read(c, 'position'), pos, avgCost, at()));
    });
    on<[]>(EventName.positionEnd, () => p.queries.positionsEnd());
    on<[string, unknown, unknown]>(EventName.updateAccountValue, (key, value, currency) => p.feed.onAccountValue(key, value, currency));
    on<[number, IbContract | undefined, Execution | undefined]>(EventName.execDetails, (reqId, c, x) => {
      if (x?.acctNumber !== undefined && x.acctNumber !== p.account) {
        p.feed.foreignExecution(x.execId);
        return;
      }
      const req = reqId === -1 ? undefined : p.requests.get(reqId);
      if (reqId !== -1 && req === undefined) return; // an answer to a request no longer waited for
      this.take(p.feed.onExecution(c, c?.secType === SecType.BAG ? null : p.cache.read(c, 'execDetails'), x, req, at()));
    });
    on<[number]>(EventName.execDetailsEnd, (reqId) => p.queries.executionsEnd(reqId));
    on<[IbCommissionReport | undefined]>(EventName.commissionReport, (cr) => this.take(p.feed.onCommission(cr, at())));
    on<[number, unknown, unknown, unknown, unknown, number, number, number, number]>(EventName.orderStatus, (id, status, filled, remaining, avg, permId, _parentId, _lastFill, clientId) => {
      const r = p.orders.onOrderStatus({ orderId: id, status, filled, remaining, avgFillPrice: avg, permId, clientId }, p.queries.openOrdersRound, at());
      if (r === null) return;
      if (isDrop(r)) p.drops.drop(r);
      else p.emit(r);
    });
    on<[number, IbContract, IbOrder, OrderState]>(EventName.openOrder, (id, c, o, s) => p.orders.onOpenOrder(id, c, o, s, p.queries.openOrdersRound));
    on<[]>(EventName.openOrderEnd, () => p.queries.openOrdersEnd());
    on<[IbContract, IbOrder, OrderState]>(EventName.completedOrder, (_c, o, s) => {
      const ev = p.orders.onCompletedOrder(o, s, at());
      if (ev) p.emit(ev);
    });
    on<[number, ContractDetails]>(EventName.contractDetails, (reqId, d) => {
      p.cache.learn(d);
      const req = p.requests.get(reqId);
      if (req?.kind === 'details') req.results.push(d);
    });
    on<[number]>(EventName.contractDetailsEnd, (reqId) => p.queries.detailsEnd(reqId));
    on<[number, number, number]>(EventName.tickPrice, (reqId, field, value) => p.market.onTickPrice(reqId, field, value));
    on<[number, number, number | undefined, number | undefined, number | undefined, number | undefined, number | undefined, number | undefined, number | undefined, number | undefined, number | undefined]>(
      EventName.tickOptionComputation,
      (reqId, ...rest) => p.market.onOptionComputation(reqId, rest[9]),
    );
    on<[number, number, string]>(EventName.tickString, (reqId, field, value) => p.market.onTickString(reqId, field, value));
    on<[number]>(EventName.tickSnapshotEnd, (reqId) => p.market.finish(reqId, 'quote'));
  }

  /** Passes an account message's outcome on: its event, and its drop or warning to the rate-limited log. */
  private take(o: Outcome): void {
    if (o === null) return;
    if (o.drop) this.p.drops.drop(o.drop);
    if (o.event) this.p.emit(o.event);
  }

  private onError(message: string, code: number, reqId: number | undefined): void {
    const p = this.p;
    const id = typeof reqId === 'number' && Number.isSafeInteger(reqId) ? reqId : -1;
    if (id === -1) {
      if (code !== IbCode.CONNECT_FAIL) p.notice(code, message, null);
      return;
    }
    const req = p.requests.get(id);
    if (req) {
      this.onRequestError(id, req, code, message);
      return;
    }
    const r = p.orders.onOrderError(String(id), code, message, p.stamp.now());
    if (r === null || 'notice' in r) {
      p.notice(code, message, String(id));
      return;
    }
    if (r.event) p.emit(r.event);
  }

  private onRequestError(id: number, req: Req, code: number, message: string): void {
    // Warnings about data (delayed data shown, farm notices) do not end a request.
    if (code >= 2100 && code < 2200) return;
    if (code === 10167 && req.kind !== 'details' && req.kind !== 'executions') return;
    if (req.kind === 'quote' || req.kind === 'underlying') {
      this.p.market.onError(id, req, code, message);
      return;
    }
    this.p.requests.take(id);
    if (req.kind === 'details') {
      req.done.reject(
        code === IbCode.NO_SECURITY_DEFINITION
          ? new LegguardError('NOT_FOUND', `IB has no contract for ${req.what} (200: ${message})`)
          : new LegguardError('BROKER_REJECTED', `contract details for ${req.what}: IB ${code}: ${message}`, { code }),
      );
      return;
    }
    req.done.reject(new LegguardError('BROKER_REJECTED', `executions: IB ${code}: ${message}`, { code }));
  }
}
