import {
  EventName,
  IBApi,
  OrderAction as IbAction,
  SecType,
  type CommissionReport as IbCommissionReport,
  type Contract as IbContract,
  type ContractDetails,
  type Execution,
  type Order as IbOrder,
  type OrderState,
} from '@stoqey/ib';
import { contractKey, describeContract, INDEX_SYMBOLS, type Contract } from '../../core/contract.js';
import { LegguardError } from '../../core/errors.js';
import type { BrokerEvent, ExecutionReport, OrderStatus, PositionReport } from '../../core/events.js';
import { BrokerOrderId, ExecId, OrderRef, type AccountId, type ContractKey } from '../../core/ids.js';
import type { OrderAction, OrderLeg, OrderRequest } from '../../core/order.js';
import { EpochMs, Price, Qty } from '../../core/quantity.js';
import type { BrokerPort, BrokerSnapshot, DividendInfo, OpenOrderReport, PlaceAck, Quote, UnderlyingInfo } from '../../ports/broker.js';
import type { Clock, TimerHandle } from '../../ports/clock.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { IbCode, isOrderReject, NO_MARKET_DATA } from './ib-codes.js';
import { fromIbContract, parseDividendTick, termsFromUnderlying, toIbContract, underlyingContract, type OptionTerms } from './ib-contracts.js';
import { buildIbOrder, checkOrder } from './ib-order.js';
import { formatIbUtc, parseIbTime } from './ib-time.js';
import { PriorityPacer } from '../../lib/priority-pacer.js';

export interface IbBrokerOptions {
  readonly host: string;
  /** TWS 7497 (paper) / 7496 (live); IB Gateway 4002 (paper) / 4001 (live). */
  readonly port: number;
  /** Fixed: TWS binds orders to the client id that placed them, and a restarted guard must see its own orders. */
  readonly clientId: number;
  readonly account: AccountId;
  readonly clock: Clock;
  /**
   * The clock that stamps events and snapshots, when it differs from the one that runs timers: a guard drilling
   * against the sim gateway in scenario time (`legguard run --clock broker`) stamps in scenario time while its
   * timeouts and reconnect backoff stay in real time. Default: `clock`.
   */
  readonly eventClock?: Clock;
  readonly name?: string;
  /** Outgoing messages per second; IB's limit is about 50. Default 40. */
  readonly maxMessagesPerSecond?: number;
  readonly backoff?: BackoffOptions;
  /** `connect()` gives up (and stops retrying) when no connection worked for this long. Default 30 s. */
  readonly connectTimeoutMs?: number;
  /** One attempt fails when TWS accepts the socket but does not complete the API start within this. Default 10 s. */
  readonly handshakeTimeoutMs?: number;
  /** A snapshot, contract details or quote request fails after this long. Default 15 s. */
  readonly requestTimeoutMs?: number;
  /** `underlying()` waits this long for the dividend tick once it has a price. Default 2 s. */
  readonly dividendWaitMs?: number;
  /** The zone TWS writes times in when it names none (its login's zone). Default America/New_York. */
  readonly twsTimeZone?: string;
  /** IB market data type: 1 live (default), 2 frozen, 3 delayed, 4 delayed-frozen. */
  readonly marketDataType?: 1 | 2 | 3 | 4;
  /** Underlyings whose options are European and cash-settled, beyond SPX, XSP, NDX, RUT ... */
  readonly indexSymbols?: readonly string[];
  readonly log?: (line: string) => void;
}

type Phase = 'idle' | 'connecting' | 'ready' | 'link-down' | 'stopped';

interface Conn {
  readonly api: IBApi;
  gotId: boolean;
  accounts: string[] | null;
  handshakeTimer: TimerHandle | null;
  /** CURRENT_TIME messages heard on this connection (a lockstep gateway numbers the ones it writes the same way). */
  times: number;
}

interface OwnOrder {
  ref: OrderRef | null;
  status: OrderStatus | null;
  filled: number;
  remaining: number;
  terminal: boolean;
  reject: { code: number; reason: string } | null;
  cancelReason: string | null;
}

interface Waiter<T> {
  resolve(v: T): void;
  reject(e: unknown): void;
}

type Req =
  | { kind: 'quote'; contract: Contract; bid: number | null; ask: number | null; last: number | null; close: number | null; und: number | null; done: Waiter<Quote | null>; timer: TimerHandle }
  | { kind: 'underlying'; symbol: string; index: boolean; price: number | null; dividends: DividendInfo[] | null; done: Waiter<UnderlyingInfo>; timer: TimerHandle; settle: TimerHandle | null }
  | { kind: 'details'; what: string; results: ContractDetails[]; done: Waiter<ContractDetails[]>; timer: TimerHandle }
  | { kind: 'executions'; since: number | null; rows: ExecutionReport[]; done: Waiter<ExecutionReport[]>; timer: TimerHandle };

interface PositionsRound {
  readonly seen: Map<ContractKey, PositionReport>;
  readonly waiters: Waiter<PositionReport[]>[];
  timer: TimerHandle | null;
}

interface OpenOrdersRound {
  readonly orders: Map<string, { contract: IbContract; order: IbOrder; state: OrderState }>;
  readonly statuses: Map<string, { status: string; filled: number; remaining: number }>;
  readonly waiters: Waiter<OpenOrderReport[]>[];
  timer: TimerHandle | null;
}

/** Data requests go after orders and cancels in the pacer's queue. */
const DATA_PRIORITY = 10;
/** Cancels go first: a cancel that waits behind new orders can be a double order. */
const CANCEL_PRIORITY = -1;
const MAX_REMEMBERED_EXECS = 100_000;
/** The sim gateway's lockstep report (its `LEGGUARD_LOCKSTEP_IDLE`); no TWS message has this id. */
const LOCKSTEP_IDLE_MSG = 9001;

/** The part of IBApi's internal controller the lockstep report goes through, behind every queued API call. */
interface IbController {
  schedule(fn: () => void): void;
  sendMsg(...tokens: unknown[]): void;
}

/**
 * Interactive Brokers behind the broker port, on @stoqey/ib's low-level `IBApi` events (not `IBApiNext`, which drops
 * positions that go to zero and gives up on a 1100). It owns the connection: a fixed client id, reconnect with
 * backoff on the injected clock, and after every (re)connect a `connection` event so the engine reconciles (it asks
 * for `snapshot({ executionsSince })`). IB's codes become events: 1100 `disconnected`, 1101/1102 `connected` (data
 * lost or kept), order rejects an `order-status` of `rejected` with the code, everything else a `notice`. Outgoing
 * messages are paced below IB's limit, orders closing the most dangerous positions first.
 *
 * @example
 *   const ib = new IbBroker({ host: '127.0.0.1', port: 7497, clientId: 17, account: AccountId.parse('DU1234567'), clock });
 *   ib.subscribe((e) => engine.onBrokerEvent(e));
 *   await ib.connect();
 */
export class IbBroker implements BrokerPort {
  readonly name: string;
  readonly account: AccountId;
  private readonly clock: Clock;
  private readonly stamp: Clock;
  private readonly log: (line: string) => void;
  private readonly pacer: PriorityPacer;
  private readonly backoff: Backoff;
  private readonly listeners = new Set<(e: BrokerEvent) => void>();
  private readonly timeListeners = new Set<(t: EpochMs) => void>();
  private timeWaiters = 0;

  private phase: Phase = 'idle';
  private conn: Conn | null = null;
  private everConnected = false;
  private lastError: string | null = null;
  private reconnectTimer: TimerHandle | null = null;
  private firstConnect: (Waiter<void> & { deadline: number }) | null = null;

  private nextOrderId = 1;
  /**
   * Request ids live far above order ids: TWS reports errors for both by the same number, and a contract details
   * request must never be taken for an order (or the reverse).
   */
  private nextReqId = 1_500_000_000;
  private readonly requests = new Map<number, Req>();
  private positionsRound: PositionsRound | null = null;
  private openOrdersRound: OpenOrdersRound | null = null;
  private readonly orders = new Map<string, OwnOrder>();
  private readonly byRef = new Map<string, string>();
  private readonly seenExecs = new Set<string>();
  private readonly seenCommissions = new Set<string>();
  private readonly conIds = new Map<ContractKey, number>();
  private readonly byConId = new Map<number, Contract>();
  private readonly terms = new Map<string, OptionTerms>();
  private readonly indexSymbols: Set<string>;
  private readonly accountValues = new Map<string, string>();
  private readonly warned = new Set<string>();
  /**
   * The last quantity passed on per contract. TWS answers every reqPositions (each snapshot asks) with the whole
   * list again, on the same stream as live updates; passed on as events, each echo would be a report of a level as
   * it was when sent, queued behind whatever the engine is doing, and a reconciliation that reads the broker afresh
   * can overtake it (a short put reported -2 again after the assignment had made it 0). Only changes go on; the
   * snapshot keeps every report. Cleared at each (re)connect, so the first report of each contract goes on.
   */
  private readonly lastPosition = new Map<ContractKey, number>();

  constructor(private readonly opts: IbBrokerOptions) {
    this.name = opts.name ?? 'ib';
    this.account = opts.account;
    this.clock = opts.clock;
    this.stamp = opts.eventClock ?? opts.clock;
    this.log = opts.log ?? (() => undefined);
    this.pacer = new PriorityPacer(opts.clock, opts.maxMessagesPerSecond ?? 40);
    this.backoff = new Backoff(opts.backoff);
    this.indexSymbols = new Set([...INDEX_SYMBOLS, ...(opts.indexSymbols ?? []).map((s) => s.toUpperCase())]);
    if (!Number.isInteger(opts.clientId) || opts.clientId < 0) {
      throw new LegguardError('INVALID_INPUT', `IB client id must be a whole number >= 0; got ${opts.clientId}`);
    }
    if (!Number.isInteger(opts.port) || opts.port <= 0 || opts.port > 65535) {
      throw new LegguardError('INVALID_INPUT', `IB port must be 1-65535; got ${opts.port}`);
    }
  }

  // ---------------------------------------------------------------- connection

  connect(): Promise<void> {
    if (this.phase === 'ready') return Promise.resolve();
    if (this.firstConnect) return new Promise((resolve, reject) => this.chainFirst({ resolve, reject }));
    return new Promise<void>((resolve, reject) => {
      this.firstConnect = { resolve, reject, deadline: this.clock.now() + (this.opts.connectTimeoutMs ?? 30_000) };
      if (this.phase === 'stopped') this.phase = 'idle';
      this.attempt();
    });
  }

  async disconnect(): Promise<void> {
    const wasReady = this.phase === 'ready' || this.phase === 'link-down';
    this.phase = 'stopped';
    this.reconnectTimer?.cancel();
    this.reconnectTimer = null;
    const conn = this.conn;
    this.conn = null;
    if (conn) this.teardown(conn);
    this.failOutstanding(new LegguardError('BROKER_DISCONNECTED', `${this.name}: disconnected by request`));
    if (this.firstConnect) {
      this.firstConnect.reject(new LegguardError('BROKER_DISCONNECTED', `${this.name}: disconnected before the connection was made`));
      this.firstConnect = null;
    }
    if (wasReady) this.emitConnection('disconnected', false, 'disconnected by request');
    await Promise.resolve();
  }

  isConnected(): boolean {
    return this.phase === 'ready';
  }

  subscribe(listener: (event: BrokerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every time TWS states (CURRENT_TIME, asked for or not), as it arrives. Returns the unsubscribe function. */
  onServerTime(listener: (t: EpochMs) => void): () => void {
    this.timeListeners.add(listener);
    return () => this.timeListeners.delete(listener);
  }

  /**
   * True while something sent to TWS is still unanswered, messages wait in the pacer, or a connection is being made:
   * a lockstep drill's guard is not idle then.
   */
  get busy(): boolean {
    return (
      this.phase === 'connecting' ||
      this.requests.size > 0 ||
      this.positionsRound !== null ||
      this.openOrdersRound !== null ||
      this.pacer.pending > 0 ||
      this.timeWaiters > 0
    );
  }

  /**
   * Tells a sim gateway in lockstep mode (`legguard sim-gateway --lockstep`) that this client has handled everything
   * it heard, up to the CURRENT_TIME messages counted on this connection, and must be woken at `deadline`. Not an IB
   * message: only the sim gateway knows it. Goes behind everything already sent (IBApi's own queue keeps the order).
   * False when there is no connection to send it on.
   */
  sendLockstepIdle(deadline: EpochMs | null): boolean {
    const conn = this.conn;
    if (!conn || (this.phase !== 'ready' && this.phase !== 'link-down')) return false;
    const controller = (conn.api as unknown as { controller?: IbController }).controller;
    if (!controller) throw new LegguardError('INTERNAL', 'this @stoqey/ib version has no controller to send the lockstep report through');
    const times = conn.times;
    controller.schedule(() => controller.sendMsg(LOCKSTEP_IDLE_MSG, 1, times, deadline ?? -1));
    return true;
  }

  /** Account values TWS reported (reqAccountUpdates): `NetLiquidation/USD` -> `123456.78`. */
  accountValue(key: string, currency = 'USD'): string | null {
    return this.accountValues.get(`${key}/${currency}`) ?? this.accountValues.get(`${key}/`) ?? null;
  }

  private chainFirst(w: Waiter<void>): void {
    const first = this.firstConnect!;
    this.firstConnect = {
      deadline: first.deadline,
      resolve: () => {
        first.resolve();
        w.resolve();
      },
      reject: (e) => {
        first.reject(e);
        w.reject(e);
      },
    };
  }

  private where(): string {
    return `${this.opts.host}:${this.opts.port}`;
  }

  private attempt(): void {
    if (this.phase === 'stopped') return;
    this.reconnectTimer = null;
    this.phase = 'connecting';
    // A fresh IBApi per attempt: no listener or queued command of a dead connection survives into the next.
    const api = new IBApi({ host: this.opts.host, port: this.opts.port, maxReqPerSec: 1000 });
    const conn: Conn = { api, gotId: false, accounts: null, handshakeTimer: null, times: 0 };
    this.conn = conn;
    this.wire(conn);
    conn.handshakeTimer = this.clock.setTimer(EpochMs.unsafe(this.clock.now() + (this.opts.handshakeTimeoutMs ?? 10_000)), () => {
      if (this.conn !== conn || this.phase !== 'connecting') return;
      this.lastError = `TWS at ${this.where()} accepted the connection but did not start the API within ${(this.opts.handshakeTimeoutMs ?? 10_000) / 1000} s`;
      this.down(conn, this.lastError);
    });
    this.log(`connecting to TWS at ${this.where()} as client ${this.opts.clientId}`);
    api.connect(this.opts.clientId);
    noDelay(api);
  }

  private teardown(conn: Conn): void {
    conn.handshakeTimer?.cancel();
    conn.api.removeAllListeners();
    // A swallowing listener: a late socket error on a dead connection must not become an unhandled 'error'.
    conn.api.on(EventName.error, () => undefined);
    conn.api.disconnect();
  }

  /** The connection `conn` is gone (closed, failed, timed out). */
  private down(conn: Conn, reason: string): void {
    if (this.conn !== conn) return;
    const wasReady = this.phase === 'ready';
    this.conn = null;
    this.teardown(conn);
    this.failOutstanding(new LegguardError('BROKER_DISCONNECTED', `${this.name}: connection to TWS at ${this.where()} lost: ${reason}`));
    if (wasReady) this.emitConnection('disconnected', false, reason);
    if (this.phase === 'stopped') return;
    this.phase = 'idle';
    const first = this.firstConnect;
    if (first && this.clock.now() >= first.deadline) {
      this.phase = 'stopped';
      this.firstConnect = null;
      first.reject(
        new LegguardError('BROKER_DISCONNECTED', `cannot connect to TWS/IB Gateway at ${this.where()} as client ${this.opts.clientId}: ${this.lastError ?? reason}`, {
          host: this.opts.host,
          port: this.opts.port,
        }),
      );
      return;
    }
    const wait = this.backoff.next();
    this.log(`TWS connection down (${reason}); reconnecting in ${wait} ms`);
    this.reconnectTimer = this.clock.setTimer(EpochMs.unsafe(this.clock.now() + wait), () => this.attempt());
  }

  /** A problem that retrying cannot fix (the account is not this login's): stop and say so. */
  private fatal(conn: Conn, error: LegguardError): void {
    this.log(`fatal: ${error.message}`);
    const wasReady = this.phase === 'ready' || this.phase === 'link-down';
    this.phase = 'stopped';
    this.conn = null;
    this.teardown(conn);
    this.failOutstanding(error);
    if (wasReady) this.emitConnection('disconnected', false, error.message);
    if (this.firstConnect) {
      this.firstConnect.reject(error);
      this.firstConnect = null;
    }
  }

  private maybeReady(conn: Conn): void {
    if (this.conn !== conn || this.phase !== 'connecting' || !conn.gotId || conn.accounts === null) return;
    if (!conn.accounts.includes(this.account)) {
      this.fatal(
        conn,
        new LegguardError(
          'INVALID_INPUT',
          `account ${this.account} is not managed by the login at ${this.where()} (it manages ${conn.accounts.join(', ') || 'no account'})`,
        ),
      );
      return;
    }
    conn.handshakeTimer?.cancel();
    conn.handshakeTimer = null;
    this.phase = 'ready';
    this.backoff.reset();
    this.lastError = null;
    const reconnect = this.everConnected;
    this.everConnected = true;
    this.lastPosition.clear();
    this.log(`connected to TWS at ${this.where()} as client ${this.opts.clientId} (server version ${conn.api.serverVersion})`);
    this.startSubscriptions(conn, reconnect);
    this.emitConnection('connected', reconnect, reconnect ? 'reconnected: events while disconnected were not received' : null);
    const first = this.firstConnect;
    this.firstConnect = null;
    first?.resolve();
  }

  /** Positions and account updates stream from now on; after a reconnect, finished orders are fetched too. */
  private startSubscriptions(conn: Conn, reconnect: boolean): void {
    const t = this.opts.marketDataType ?? 1;
    if (t !== 1) void this.send(DATA_PRIORITY, (api) => api.reqMarketDataType(t)).catch((e: unknown) => this.log(`reqMarketDataType: ${String(e)}`));
    this.requestPositions().catch((e: unknown) => this.log(`position subscription: ${e instanceof Error ? e.message : String(e)}`));
    void this.send(DATA_PRIORITY, (api) => api.reqAccountUpdates(true, this.account)).catch(() => undefined);
    // Orders that finished while the guard could not hear (cancelled, rejected): only completed orders tell.
    if (reconnect) void this.send(DATA_PRIORITY, (api) => api.reqCompletedOrders(false)).catch(() => undefined);
    void conn;
  }

  private emitConnection(state: 'connected' | 'disconnected', dataLost: boolean, reason: string | null): void {
    const t = this.stamp.now();
    this.emit({ kind: 'connection', state, dataLost, reason, tsEvent: t, tsInit: t });
  }

  private emit(e: BrokerEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        // A listener's failure is the listener's; the connection and the other listeners go on.
        this.log(`broker event listener failed on ${e.kind}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  private notice(code: number, message: string, orderId: string | null): void {
    const t = this.stamp.now();
    this.emit({ kind: 'notice', code, message, orderId: orderId === null ? null : BrokerOrderId.unsafe(orderId), tsEvent: t, tsInit: t });
  }

  private failOutstanding(error: LegguardError): void {
    this.pacer.rejectAll(error);
    for (const [id, r] of this.requests) {
      r.timer.cancel();
      if (r.kind === 'underlying') r.settle?.cancel();
      r.done.reject(error);
      this.requests.delete(id);
    }
    const pr = this.positionsRound;
    this.positionsRound = null;
    pr?.timer?.cancel();
    for (const w of pr?.waiters ?? []) w.reject(error);
    const or = this.openOrdersRound;
    this.openOrdersRound = null;
    or?.timer?.cancel();
    for (const w of or?.waiters ?? []) w.reject(error);
  }

  private requireReady(what: string): IBApi {
    if (this.phase === 'ready' && this.conn) return this.conn.api;
    const why = this.phase === 'link-down' ? 'TWS has lost its connection to IB (1100)' : 'not connected to TWS';
    throw new LegguardError('BROKER_DISCONNECTED', `${this.name}: ${why} (${what})`);
  }

  /** Sends through the pacer; the message goes only if the connection is still up when its turn comes. */
  private send(priority: number, fn: (api: IBApi) => void): Promise<void> {
    return this.pacer.submit(priority, () => fn(this.requireReady('send')));
  }

  // ---------------------------------------------------------------- events from TWS

  private wire(conn: Conn): void {
    // IBApi's typed overloads, one per event, do not admit a generic registration; its emitter does.
    const emitter = conn.api as unknown as { on(event: string, fn: (...args: unknown[]) => void): unknown };
    const on = <A extends unknown[]>(name: EventName, fn: (...args: A) => void): void => {
      emitter.on(name, (...args: unknown[]) => {
        if (this.conn !== conn) return;
        try {
          fn(...(args as A));
        } catch (e) {
          // An exception here would unwind into @stoqey/ib's socket handler and take the process down.
          this.log(`handling ${name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        }
      });
    };
    on<[]>(EventName.disconnected, () => this.down(conn, this.lastError ?? 'the connection closed'));
    on<[number]>(EventName.currentTime, (seconds) => {
      conn.times++;
      if (!Number.isSafeInteger(seconds) || seconds <= 0) return;
      const t = EpochMs.unsafe(seconds * 1000);
      for (const l of [...this.timeListeners]) l(t);
    });
    on<[number]>(EventName.nextValidId, (id) => {
      this.nextOrderId = Math.max(this.nextOrderId, id);
      conn.gotId = true;
      this.maybeReady(conn);
    });
    on<[string]>(EventName.managedAccounts, (list) => {
      conn.accounts = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
      this.maybeReady(conn);
    });
    on<[string, number]>(EventName.info, (message, code) => this.onInfo(conn, message, code));
    on<[Error, number, number]>(EventName.error, (err, code, reqId) => this.onError(err instanceof Error ? err.message : String(err), code, reqId));
    on<[string, IbContract, number, number | undefined]>(EventName.position, (acct, c, pos, avgCost) => this.onPosition(acct, c, pos, avgCost));
    on<[]>(EventName.positionEnd, () => this.onPositionEnd());
    on<[string, string, string, string]>(EventName.updateAccountValue, (key, value, currency) => this.accountValues.set(`${key}/${currency}`, value));
    on<[number, IbContract, Execution]>(EventName.execDetails, (reqId, c, x) => this.onExecution(reqId, c, x));
    on<[number]>(EventName.execDetailsEnd, (reqId) => this.finishRequest(reqId, 'executions'));
    on<[IbCommissionReport]>(EventName.commissionReport, (cr) => this.onCommission(cr));
    on<[number, string, number, number, number, number, number, number, number]>(
      EventName.orderStatus,
      (id, status, filled, remaining, avg, permId, _parentId, _lastFill, clientId) => this.onOrderStatus(id, status, filled, remaining, avg, permId, clientId),
    );
    on<[number, IbContract, IbOrder, OrderState]>(EventName.openOrder, (id, c, o, s) => this.onOpenOrder(id, c, o, s));
    on<[]>(EventName.openOrderEnd, () => this.onOpenOrderEnd());
    on<[IbContract, IbOrder, OrderState]>(EventName.completedOrder, (c, o, s) => this.onCompletedOrder(c, o, s));
    on<[number, ContractDetails]>(EventName.contractDetails, (reqId, d) => this.onContractDetails(reqId, d));
    on<[number]>(EventName.contractDetailsEnd, (reqId) => this.finishRequest(reqId, 'details'));
    on<[number, number, number]>(EventName.tickPrice, (reqId, field, value) => this.onTickPrice(reqId, field, value));
    on<[number, number, number | undefined, number | undefined, number | undefined, number | undefined, number | undefined, number | undefined, number | undefined, number | undefined, number | undefined]>(
      EventName.tickOptionComputation,
      (reqId, ...rest) => this.onOptionComputation(reqId, rest[9]),
    );
    on<[number, number, string]>(EventName.tickString, (reqId, field, value) => this.onTickString(reqId, field, value));
    on<[number]>(EventName.tickSnapshotEnd, (reqId) => this.finishRequest(reqId, 'quote'));
  }

  private onInfo(conn: Conn, message: string, code: number): void {
    switch (code) {
      case IbCode.CONNECTIVITY_LOST:
        if (this.phase === 'ready') {
          this.phase = 'link-down';
          this.emitConnection('disconnected', false, `IB ${code}: ${message}`);
        }
        return;
      case IbCode.RESTORED_DATA_LOST:
      case IbCode.RESTORED_DATA_MAINTAINED: {
        if (this.phase !== 'link-down' && this.phase !== 'ready') return;
        const lost = code === IbCode.RESTORED_DATA_LOST;
        this.phase = 'ready';
        // Data lost: TWS dropped every subscription; make them again before telling the engine to reconcile.
        if (lost) {
          this.lastPosition.clear();
          this.startSubscriptions(conn, true);
        }
        this.emitConnection('connected', lost, `IB ${code}: ${message}`);
        return;
      }
      case IbCode.CLIENT_ID_IN_USE:
        this.lastError = `client id ${this.opts.clientId} is already in use at ${this.where()} (IB 326): another program, or a previous connection TWS has not yet released`;
        this.log(this.lastError);
        return;
      default:
        this.notice(code, message, null);
    }
  }

  private onError(message: string, code: number, reqId: number | undefined): void {
    const id = reqId ?? -1;
    if (id === -1) {
      if (code === IbCode.CONNECT_FAIL) {
        this.lastError = message;
        return;
      }
      this.notice(code, message, null);
      return;
    }
    const req = this.requests.get(id);
    if (req) {
      this.onRequestError(id, req, code, message);
      return;
    }
    const own = this.orders.get(String(id));
    if (own) {
      this.onOrderError(String(id), own, code, message);
      return;
    }
    this.notice(code, message, String(id));
  }

  private onRequestError(id: number, req: Req, code: number, message: string): void {
    // Warnings about data (delayed data shown, farm notices) do not end a request.
    if (code >= 2100 && code < 2200) return;
    if (code === 10167 && req.kind !== 'details' && req.kind !== 'executions') return;
    this.requests.delete(id);
    req.timer.cancel();
    switch (req.kind) {
      case 'quote':
        if (NO_MARKET_DATA.has(code)) {
          this.log(`no market data for ${describeContract(req.contract)} (IB ${code}: ${message})`);
          req.done.resolve(null);
        } else if (code === IbCode.NO_SECURITY_DEFINITION) {
          req.done.reject(new LegguardError('NOT_FOUND', `IB knows no contract ${describeContract(req.contract)} (200: ${message})`));
        } else req.done.reject(new LegguardError('BROKER_REJECTED', `quote for ${describeContract(req.contract)}: IB ${code}: ${message}`, { code }));
        return;
      case 'underlying':
        req.settle?.cancel();
        if (code === IbCode.NO_SECURITY_DEFINITION) {
          req.done.reject(new LegguardError('NOT_FOUND', `IB knows no underlying ${req.symbol} (200: ${message})`));
          return;
        }
        if (NO_MARKET_DATA.has(code)) {
          req.done.resolve({ symbol: req.symbol, price: null, dividends: req.dividends ?? [] });
          return;
        }
        req.done.reject(new LegguardError('BROKER_REJECTED', `market data for ${req.symbol}: IB ${code}: ${message}`, { code }));
        return;
      case 'details':
        req.done.reject(
          code === IbCode.NO_SECURITY_DEFINITION
            ? new LegguardError('NOT_FOUND', `IB has no contract for ${req.what} (200: ${message})`)
            : new LegguardError('BROKER_REJECTED', `contract details for ${req.what}: IB ${code}: ${message}`, { code }),
        );
        return;
      case 'executions':
        req.done.reject(new LegguardError('BROKER_REJECTED', `executions: IB ${code}: ${message}`, { code }));
        return;
    }
  }

  private onOrderError(orderId: string, own: OwnOrder, code: number, message: string): void {
    if (code === IbCode.ORDER_CANCELLED) {
      own.cancelReason = message;
      return;
    }
    if (!isOrderReject(code)) {
      this.notice(code, message, orderId);
      return;
    }
    own.reject = { code, reason: message };
    if (own.terminal) return;
    own.terminal = true;
    own.status = 'rejected';
    const t = this.stamp.now();
    this.emit({
      kind: 'order-status',
      orderId: BrokerOrderId.unsafe(orderId),
      orderRef: own.ref,
      status: 'rejected',
      filledQty: Qty.unsafe(own.filled),
      remainingQty: Qty.zero,
      avgFillPrice: null,
      reason: message,
      code,
      tsEvent: t,
      tsInit: t,
    });
  }

  private toContract(c: IbContract, what: string): Contract | null {
    let contract: Contract | null;
    try {
      contract = fromIbContract(c, (s) => this.termsOf(s));
    } catch (e) {
      this.warnOnce(`bad:${c.symbol}:${c.secType}:${c.lastTradeDateOrContractMonth}`, `${what}: ${e instanceof Error ? e.message : String(e)}`);
      return null;
    }
    if (!contract) {
      this.warnOnce(`unsupported:${c.secType}:${c.symbol}`, `${what} in ${c.secType ?? '?'} ${c.symbol ?? '?'} ignored: legguard guards stock and options`);
      return null;
    }
    if (c.conId !== undefined && c.conId > 0) {
      this.conIds.set(contractKey(contract), c.conId);
      this.byConId.set(c.conId, contract);
    }
    return contract;
  }

  private termsOf(symbol: string): OptionTerms | null {
    const t = this.terms.get(symbol);
    if (t) return t;
    return this.indexSymbols.has(symbol) ? { style: 'european', settlement: 'cash' } : null;
  }

  private warnOnce(key: string, text: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log(text);
    this.notice(0, text, null);
  }

  private onPosition(acct: string, c: IbContract, pos: number, avgCost: number | undefined): void {
    if (acct !== this.account) return;
    const contract = this.toContract(c, 'position');
    if (!contract) return;
    const t = this.stamp.now();
    const report: PositionReport = {
      kind: 'position',
      account: this.account,
      contract,
      qty: Qty.unsafe(Math.round(pos)),
      avgCost: avgCost === undefined || !Number.isFinite(avgCost) ? null : avgCost,
      tsEvent: t,
      tsInit: t,
    };
    const key = contractKey(contract);
    this.positionsRound?.seen.set(key, report);
    if (this.lastPosition.get(key) === report.qty) return;
    this.lastPosition.set(key, report.qty);
    this.emit(report);
  }

  private onPositionEnd(): void {
    const round = this.positionsRound;
    if (!round) return;
    this.positionsRound = null;
    round.timer?.cancel();
    const list = [...round.seen.values()].filter((p) => p.qty !== 0).map((p) => ({ ...p, reconciled: true }));
    for (const w of round.waiters) w.resolve(list);
  }

  private ownerId(clientId: number | undefined, orderId: number | undefined, permId: number | undefined): string | null {
    if (orderId !== undefined && orderId > 0) {
      return clientId === undefined || clientId === this.opts.clientId ? String(orderId) : `c${clientId}-${orderId}`;
    }
    return permId !== undefined && permId > 0 ? `perm-${permId}` : null;
  }

  private orderRec(id: string): OwnOrder {
    let r = this.orders.get(id);
    if (!r) {
      r = { ref: null, status: null, filled: 0, remaining: 0, terminal: false, reject: null, cancelReason: null };
      this.orders.set(id, r);
    }
    return r;
  }

  private onExecution(reqId: number, c: IbContract, x: Execution): void {
    if (c.secType === SecType.BAG) return; // the combo's own summary; its legs come as executions of their own
    if (x.acctNumber !== undefined && x.acctNumber !== this.account) return;
    const contract = this.toContract(c, 'execution');
    if (!contract || x.execId === undefined || !ExecId.is(x.execId)) return;
    const shares = Number(x.shares);
    if (!Number.isSafeInteger(shares) || shares <= 0) {
      this.warnOnce(`frac:${x.execId}`, `execution ${x.execId} of ${shares} ${describeContract(contract)} ignored: not a whole quantity`);
      return;
    }
    let at: EpochMs;
    try {
      at = parseIbTime(x.time ?? '', this.opts.twsTimeZone);
    } catch {
      at = this.stamp.now();
    }
    const own = x.orderId !== undefined && x.orderId > 0 && (x.clientId === undefined || x.clientId === this.opts.clientId);
    const report: ExecutionReport = {
      kind: 'execution',
      account: this.account,
      execId: ExecId.unsafe(x.execId),
      orderId: own ? BrokerOrderId.unsafe(String(x.orderId)) : null,
      orderRef: x.orderRef !== undefined && OrderRef.is(x.orderRef) ? x.orderRef : null,
      contract,
      side: x.side === 'SLD' || x.side === 'SELL' ? 'SELL' : 'BUY',
      qty: Qty.unsafe(shares),
      price: Price.unsafe(Number(x.price)),
      liquidation: Number(x.liquidation ?? 0) !== 0,
      tsEvent: at,
      tsInit: this.stamp.now(),
    };
    if (reqId !== -1) {
      const req = this.requests.get(reqId);
      if (req?.kind === 'executions') req.rows.push({ ...report, reconciled: true });
      return;
    }
    if (this.seenExecs.has(report.execId)) return;
    this.remember(this.seenExecs, report.execId);
    this.emit(report);
  }

  private remember(set: Set<string>, id: string): void {
    set.add(id);
    if (set.size > MAX_REMEMBERED_EXECS) {
      const oldest = set.values().next().value;
      if (oldest !== undefined) set.delete(oldest);
    }
  }

  private onCommission(cr: IbCommissionReport): void {
    if (cr.execId === undefined || !ExecId.is(cr.execId) || cr.commission === undefined || !Number.isFinite(cr.commission)) return;
    if (this.seenCommissions.has(cr.execId)) return;
    this.remember(this.seenCommissions, cr.execId);
    const t = this.stamp.now();
    this.emit({ kind: 'commission', execId: ExecId.unsafe(cr.execId), commission: cr.commission, currency: cr.currency ?? 'USD', tsEvent: t, tsInit: t });
  }

  private onOrderStatus(orderId: number, status: string, filled: number, remaining: number, avg: number, permId: number | undefined, clientId: number | undefined): void {
    const id = this.ownerId(clientId, orderId, permId);
    if (id === null) return;
    const f = Math.round(Number(filled) || 0);
    const rem = Math.round(Number(remaining) || 0);
    this.openOrdersRound?.statuses.set(id, { status, filled: f, remaining: rem });
    const own = this.orderRec(id);
    let mapped = mapStatus(status, f);
    if (mapped === null || own.terminal) return;
    if (mapped === 'cancelled' && own.reject) mapped = 'rejected';
    if (own.status === mapped && own.filled === f && own.remaining === rem) return; // TWS repeats itself
    own.status = mapped;
    own.filled = f;
    own.remaining = rem;
    if (mapped === 'filled' || mapped === 'cancelled' || mapped === 'rejected') own.terminal = true;
    const t = this.stamp.now();
    this.emit({
      kind: 'order-status',
      orderId: BrokerOrderId.unsafe(id),
      orderRef: own.ref,
      status: mapped,
      filledQty: Qty.unsafe(f),
      remainingQty: Qty.unsafe(mapped === 'filled' || mapped === 'cancelled' || mapped === 'rejected' ? 0 : rem),
      avgFillPrice: f > 0 && Number.isFinite(avg) && avg !== 0 ? Price.unsafe(avg) : null,
      reason: mapped === 'rejected' ? (own.reject?.reason ?? `IB order status ${status}`) : mapped === 'cancelled' ? (own.cancelReason ?? 'cancelled') : null,
      code: mapped === 'rejected' ? (own.reject?.code ?? null) : mapped === 'cancelled' ? IbCode.ORDER_CANCELLED : null,
      tsEvent: t,
      tsInit: t,
    });
  }

  private onOpenOrder(orderId: number, c: IbContract, o: IbOrder, s: OrderState): void {
    const id = this.ownerId(o.clientId, orderId, o.permId);
    if (id === null) return;
    const own = this.orderRec(id);
    if (own.ref === null && o.orderRef !== undefined && OrderRef.is(o.orderRef)) {
      own.ref = o.orderRef;
      this.byRef.set(o.orderRef, id);
    }
    this.openOrdersRound?.orders.set(id, { contract: c, order: o, state: s });
  }

  private onOpenOrderEnd(): void {
    const round = this.openOrdersRound;
    if (!round) return;
    this.openOrdersRound = null;
    round.timer?.cancel();
    void this.buildOpenOrders(round).then(
      (list) => {
        for (const w of round.waiters) w.resolve(list);
      },
      (e: unknown) => {
        for (const w of round.waiters) w.reject(e);
      },
    );
  }

  /** A completed order that finished while the guard could not hear: its final status, marked reconciled. */
  private onCompletedOrder(c: IbContract, o: IbOrder, s: OrderState): void {
    if (o.orderRef === undefined || !OrderRef.is(o.orderRef)) return;
    const id = this.byRef.get(o.orderRef);
    if (id === undefined) return;
    const own = this.orders.get(id);
    if (!own || own.terminal) return;
    const filled = Math.round(Number(o.filledQuantity ?? 0));
    const mapped = mapStatus(String(s.status), filled);
    if (mapped !== 'filled' && mapped !== 'cancelled' && mapped !== 'rejected') return;
    own.terminal = true;
    own.status = mapped;
    own.filled = filled;
    const t = this.stamp.now();
    this.emit({
      kind: 'order-status',
      orderId: BrokerOrderId.unsafe(id),
      orderRef: own.ref,
      status: mapped,
      filledQty: Qty.unsafe(filled),
      remainingQty: Qty.zero,
      avgFillPrice: null,
      reason: s.completedStatus ?? null,
      code: mapped === 'cancelled' ? IbCode.ORDER_CANCELLED : null,
      tsEvent: t,
      tsInit: t,
      reconciled: true,
    });
    void c;
  }

  private onContractDetails(reqId: number, d: ContractDetails): void {
    const t = termsFromUnderlying(d.underSecType);
    if (t && d.contract.symbol) this.terms.set(d.contract.symbol.toUpperCase(), t);
    this.toContract(d.contract, 'contract details');
    const req = this.requests.get(reqId);
    if (req?.kind === 'details') req.results.push(d);
  }

  private onTickPrice(reqId: number, field: number, value: number): void {
    const req = this.requests.get(reqId);
    if (!req || (req.kind !== 'quote' && req.kind !== 'underlying')) return;
    const v = Number.isFinite(value) && value > 0 ? value : null;
    if (req.kind === 'quote') {
      if (field === 1 || field === 66) req.bid = Number.isFinite(value) && value >= 0 ? value : null;
      else if (field === 2 || field === 67) req.ask = v;
      else if (field === 4 || field === 68) req.last = v;
      else if (field === 9 || field === 75) req.close = v;
      return;
    }
    if (v === null) return;
    if (field === 4 || field === 68 || req.price === null) req.price = v;
    this.maybeUnderlyingDone(reqId, req);
  }

  private onOptionComputation(reqId: number, undPrice: number | undefined): void {
    const req = this.requests.get(reqId);
    if (req?.kind === 'quote' && undPrice !== undefined && Number.isFinite(undPrice) && undPrice > 0) req.und = undPrice;
  }

  private onTickString(reqId: number, field: number, value: string): void {
    const req = this.requests.get(reqId);
    if (req?.kind !== 'underlying' || field !== 59) return;
    req.dividends = parseDividendTick(value);
    this.maybeUnderlyingDone(reqId, req);
  }

  private maybeUnderlyingDone(reqId: number, req: Extract<Req, { kind: 'underlying' }>): void {
    if (req.price === null) return;
    if (req.index || req.dividends !== null) {
      this.finishRequest(reqId, 'underlying');
      return;
    }
    // A price but no dividend tick yet: give it a moment (IB sends tick 59 a little after the first prices).
    req.settle ??= this.clock.setTimer(EpochMs.unsafe(this.clock.now() + (this.opts.dividendWaitMs ?? 2000)), () => this.finishRequest(reqId, 'underlying'));
  }

  private finishRequest(reqId: number, kind: Req['kind']): void {
    const req = this.requests.get(reqId);
    if (!req || req.kind !== kind) return;
    this.requests.delete(reqId);
    req.timer.cancel();
    switch (req.kind) {
      case 'quote': {
        const last = req.last ?? req.close;
        if (req.bid === null && req.ask === null && last === null) {
          req.done.resolve(null);
          return;
        }
        req.done.resolve({
          contract: req.contract,
          bid: req.bid === null ? null : Price.unsafe(req.bid),
          ask: req.ask === null ? null : Price.unsafe(req.ask),
          last: last === null ? null : Price.unsafe(last),
          underlying: req.und === null ? null : Price.unsafe(req.und),
          at: this.stamp.now(),
        });
        return;
      }
      case 'underlying':
        req.settle?.cancel();
        void this.send(DATA_PRIORITY, (api) => api.cancelMktData(reqId)).catch(() => undefined);
        req.done.resolve({ symbol: req.symbol, price: req.price === null ? null : Price.unsafe(req.price), dividends: req.dividends ?? [] });
        return;
      case 'details':
        req.done.resolve(req.results);
        return;
      case 'executions': {
        const since = req.since;
        req.done.resolve(req.rows.filter((x) => since === null || x.tsEvent >= since));
        return;
      }
    }
  }

  // ---------------------------------------------------------------- requests

  private request<T>(make: (id: number, done: Waiter<T>, timer: TimerHandle) => Req, what: string, priority: number, fire: (api: IBApi, id: number) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const id = this.nextReqId++;
      const timeoutMs = this.opts.requestTimeoutMs ?? 15_000;
      const timer = this.clock.setTimer(EpochMs.unsafe(this.clock.now() + timeoutMs), () => {
        const r = this.requests.get(id);
        if (!r) return;
        if (r.kind === 'quote' || r.kind === 'underlying') {
          // No snapshot end (or no dividend tick) in time: answer with what arrived.
          this.finishRequest(id, r.kind);
          return;
        }
        this.requests.delete(id);
        reject(new LegguardError('BROKER_TIMEOUT', `${this.name}: TWS did not answer ${what} within ${timeoutMs / 1000} s`, { request: what, timeoutMs }));
      });
      this.requests.set(id, make(id, { resolve, reject }, timer));
      this.send(priority, (api) => fire(api, id)).catch((e: unknown) => {
        this.requests.delete(id);
        timer.cancel();
        reject(e instanceof Error ? e : new LegguardError('INTERNAL', String(e)));
      });
    });
  }

  private requestPositions(): Promise<PositionReport[]> {
    return this.joinRound<PositionReport[], PositionsRound>(
      { get: () => this.positionsRound, set: (r) => (this.positionsRound = r) },
      (w) => ({ seen: new Map(), waiters: [w], timer: null }),
      'reqPositions',
      (api) => api.reqPositions(),
    );
  }

  private requestOpenOrders(): Promise<OpenOrderReport[]> {
    return this.joinRound<OpenOrderReport[], OpenOrdersRound>(
      { get: () => this.openOrdersRound, set: (r) => (this.openOrdersRound = r) },
      (w) => ({ orders: new Map(), statuses: new Map(), waiters: [w], timer: null }),
      'reqAllOpenOrders',
      (api) => api.reqAllOpenOrders(),
    );
  }

  /**
   * A request TWS answers with a list and an end marker (positions, open orders): callers while one is under way join
   * it; it fails for all of them when the end does not come in time or the request cannot be sent.
   */
  private joinRound<T, R extends { readonly waiters: Waiter<T>[]; timer: TimerHandle | null }>(
    slot: { get(): R | null; set(r: R | null): void },
    make: (first: Waiter<T>) => R,
    what: string,
    fire: (api: IBApi) => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const current = slot.get();
      if (current) {
        current.waiters.push({ resolve, reject });
        return;
      }
      const round = make({ resolve, reject });
      slot.set(round);
      const timeoutMs = this.opts.requestTimeoutMs ?? 15_000;
      round.timer = this.clock.setTimer(EpochMs.unsafe(this.clock.now() + timeoutMs), () => {
        if (slot.get() !== round) return;
        slot.set(null);
        for (const w of round.waiters) w.reject(new LegguardError('BROKER_TIMEOUT', `${this.name}: TWS did not finish ${what} within ${timeoutMs / 1000} s`, { request: what, timeoutMs }));
      });
      this.send(DATA_PRIORITY, fire).catch((e: unknown) => {
        if (slot.get() === round) slot.set(null);
        round.timer?.cancel();
        for (const w of round.waiters) w.reject(e);
      });
    });
  }

  private async buildOpenOrders(round: OpenOrdersRound): Promise<OpenOrderReport[]> {
    const out: OpenOrderReport[] = [];
    for (const [id, { contract, order, state }] of round.orders) {
      const st = round.statuses.get(id);
      const statusText = st?.status ?? String(state.status);
      const filled = st?.filled ?? Math.round(Number(order.filledQuantity ?? 0));
      const status = mapStatus(statusText, filled);
      if (status === null || status === 'filled' || status === 'cancelled' || status === 'rejected') continue;
      const total = Math.round(Number(order.totalQuantity ?? 0));
      const action: OrderAction = order.action === IbAction.SELL ? 'SELL' : 'BUY';
      let legs: OrderLeg[];
      let limit = order.lmtPrice !== undefined && Number.isFinite(order.lmtPrice) ? order.lmtPrice : null;
      if (contract.secType === SecType.BAG) {
        const resolved: OrderLeg[] = [];
        for (const l of contract.comboLegs ?? []) {
          const c = l.conId !== undefined ? await this.contractForConId(l.conId) : null;
          if (!c) {
            this.warnOnce(`combo:${id}`, `open order ${id}: combo leg conId ${l.conId ?? '?'} could not be resolved; the order is left out of the snapshot`);
            break;
          }
          const legAction: OrderAction = l.action === IbAction.SELL ? 'SELL' : 'BUY';
          // A sold combo is the same combo bought with its legs reversed, at the negated price.
          resolved.push({ contract: c, action: action === 'SELL' ? (legAction === 'BUY' ? 'SELL' : 'BUY') : legAction, ratio: l.ratio ?? 1 });
        }
        if (resolved.length !== (contract.comboLegs ?? []).length || resolved.length === 0) continue;
        legs = resolved;
        if (action === 'SELL' && limit !== null) limit = -limit;
      } else {
        const c = this.toContract(contract, 'open order');
        if (!c) continue;
        legs = [{ contract: c, action, ratio: 1 }];
      }
      const ref = order.orderRef !== undefined && OrderRef.is(order.orderRef) ? order.orderRef : null;
      out.push({
        orderId: BrokerOrderId.unsafe(id),
        orderRef: ref,
        account: this.account,
        legs,
        quantity: Qty.unsafe(total),
        limitPrice: limit === null ? null : Price.unsafe(limit),
        status,
        filledQty: Qty.unsafe(filled),
        remainingQty: Qty.unsafe(st?.remaining ?? Math.max(0, total - filled)),
      });
    }
    return out;
  }

  private async contractForConId(conId: number): Promise<Contract | null> {
    const known = this.byConId.get(conId);
    if (known) return known;
    try {
      await this.contractDetails({ conId, exchange: 'SMART' }, `conId ${conId}`, DATA_PRIORITY);
    } catch {
      return null;
    }
    return this.byConId.get(conId) ?? null;
  }

  private contractDetails(c: IbContract, what: string, priority: number): Promise<ContractDetails[]> {
    return this.request<ContractDetails[]>(
      (_id, done, timer) => ({ kind: 'details', what, results: [], done, timer }),
      `contract details for ${what}`,
      priority,
      (api, id) => api.reqContractDetails(id, c),
    );
  }

  private requestExecutions(since: EpochMs | null): Promise<ExecutionReport[]> {
    // IB filters by whole seconds; legguard's own filter then keeps exactly what it asked for.
    const floor = since === null ? null : Math.floor(since / 1000) * 1000;
    return this.request<ExecutionReport[]>(
      (_id, done, timer) => ({ kind: 'executions', since: floor, rows: [], done, timer }),
      'reqExecutions',
      DATA_PRIORITY,
      (api, id) => api.reqExecutions(id, { acctCode: this.account, ...(floor !== null ? { time: formatIbUtc(floor) } : {}) }),
    );
  }

  /** The conIds of a combo's legs: from what TWS already reported, else from contract details. */
  private async conIdsFor(req: OrderRequest): Promise<Map<ContractKey, number>> {
    const out = new Map<ContractKey, number>();
    if (req.legs.length < 2) {
      const key = contractKey(req.legs[0]!.contract);
      const known = this.conIds.get(key);
      if (known !== undefined) out.set(key, known);
      return out;
    }
    for (const leg of req.legs) {
      const key = contractKey(leg.contract);
      let conId = this.conIds.get(key);
      if (conId === undefined) {
        const details = await this.contractDetails(toIbContract(leg.contract), describeContract(leg.contract), req.tier);
        conId = this.conIds.get(key) ?? details[0]?.contract.conId;
        if (conId === undefined) throw new LegguardError('BROKER_REJECTED', `IB returned no conId for ${describeContract(leg.contract)}`);
        this.conIds.set(key, conId);
      }
      out.set(key, conId);
    }
    return out;
  }

  // ---------------------------------------------------------------- broker port commands

  async snapshot(opts: { executionsSince: EpochMs | null }): Promise<BrokerSnapshot> {
    this.requireReady('snapshot');
    const [positions, openOrders, executions] = await Promise.all([
      this.requestPositions(),
      this.requestOpenOrders(),
      this.requestExecutions(opts.executionsSince),
    ]);
    return { account: this.account, at: this.stamp.now(), positions, openOrders, executions };
  }

  async placeOrder(order: OrderRequest): Promise<PlaceAck> {
    checkOrder(order, this.account);
    this.requireReady('placeOrder');
    const conIds = await this.conIdsFor(order);
    const { contract, order: ibOrder } = buildIbOrder(order, conIds);
    let placed = -1;
    await this.send(order.tier, (api) => {
      // The id is taken when the message goes: IB wants each new order id above every earlier one.
      placed = this.nextOrderId++;
      const own = this.orderRec(String(placed));
      own.ref = order.ref;
      own.remaining = order.quantity;
      this.byRef.set(order.ref, String(placed));
      api.placeOrder(placed, contract, { ...ibOrder, orderId: placed });
    });
    this.log(`placed order ${placed} ${order.ref} (tier ${order.tier})`);
    return { orderId: BrokerOrderId.unsafe(String(placed)) };
  }

  async cancelOrder(orderId: BrokerOrderId): Promise<void> {
    if (!/^\d+$/.test(orderId)) {
      throw new LegguardError('INVALID_INPUT', `${this.name}: order ${orderId} was not placed by this client (client ${this.opts.clientId}); IB only lets its own client cancel it`);
    }
    this.requireReady('cancelOrder');
    const id = Number(orderId);
    await this.send(CANCEL_PRIORITY, (api) => api.cancelOrder(id));
  }

  /**
   * The broker's own time, to the second (IB's reqCurrentTime): TWS's clock, or the scenario time of the sim gateway.
   * `legguard run --clock broker` sets its clock from it.
   */
  async currentTime(): Promise<EpochMs> {
    const api = this.requireReady('currentTime');
    const timeoutMs = this.opts.requestTimeoutMs ?? 15_000;
    this.timeWaiters++;
    return new Promise<EpochMs>((resolve, reject) => {
      const onTime = (seconds: number): void => {
        timer.cancel();
        resolve(EpochMs.unsafe(seconds * 1000));
      };
      const timer = this.clock.setTimer(EpochMs.unsafe(this.clock.now() + timeoutMs), () => {
        api.off(EventName.currentTime, onTime);
        reject(new LegguardError('BROKER_TIMEOUT', `${this.name}: TWS did not answer the current time within ${timeoutMs / 1000} s`, { request: 'reqCurrentTime', timeoutMs }));
      });
      api.once(EventName.currentTime, onTime);
      this.send(DATA_PRIORITY, (a) => a.reqCurrentTime()).catch((e: unknown) => {
        timer.cancel();
        api.off(EventName.currentTime, onTime);
        reject(e instanceof Error ? e : new LegguardError('INTERNAL', String(e)));
      });
    }).finally(() => {
      this.timeWaiters--;
    });
  }

  async quote(contract: Contract): Promise<Quote | null> {
    this.requireReady('quote');
    const conId = this.conIds.get(contractKey(contract));
    return this.request<Quote | null>(
      (_id, done, timer) => ({ kind: 'quote', contract, bid: null, ask: null, last: null, close: null, und: null, done, timer }),
      `a quote for ${describeContract(contract)}`,
      DATA_PRIORITY,
      (api, id) => api.reqMktData(id, toIbContract(contract, conId), '', true, false),
    );
  }

  async underlying(symbol: string): Promise<UnderlyingInfo> {
    this.requireReady('underlying');
    const sym = symbol.toUpperCase();
    const index = this.terms.get(sym)?.settlement === 'cash' || this.indexSymbols.has(sym);
    return this.request<UnderlyingInfo>(
      (_id, done, timer) => ({ kind: 'underlying', symbol: sym, index, price: null, dividends: null, done, timer, settle: null }),
      `market data for ${sym}`,
      DATA_PRIORITY,
      // Generic tick 456 (IB dividends) streams only: a snapshot refuses generic ticks.
      (api, id) => api.reqMktData(id, underlyingContract(sym, index), index ? '' : '456', false, false),
    );
  }
}

/** IB's order status in legguard's words; null for states that change nothing (PendingCancel, Unknown). */
export function mapStatus(status: string, filled: number): OrderStatus | null {
  switch (status) {
    case 'PendingSubmit':
    case 'ApiPending':
    case 'PreSubmitted':
      return filled > 0 ? 'partially-filled' : 'pending';
    case 'Submitted':
      return filled > 0 ? 'partially-filled' : 'working';
    case 'Filled':
      return 'filled';
    case 'Cancelled':
    case 'ApiCancelled':
      return 'cancelled';
    case 'Inactive':
      return 'rejected';
    default:
      return null;
  }
}

/**
 * Turns Nagle's algorithm off on IBApi's socket (it leaves it on and offers no option): a closing order written right
 * after the quote requests that priced it otherwise waits for their acknowledgement, which a receiver that delays
 * its ACKs holds back for up to 40 ms. IBApi keeps the socket in `controller.socket.client`; when a later version
 * moves it, this does nothing (and latency is what it was).
 */
function noDelay(api: IBApi): void {
  const socket = (api as unknown as { controller?: { socket?: { client?: { setNoDelay?: (on: boolean) => unknown } } } }).controller?.socket?.client;
  socket?.setNoDelay?.(true);
}
