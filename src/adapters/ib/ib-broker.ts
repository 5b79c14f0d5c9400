import type { IBApi } from '@stoqey/ib';
import type { Contract } from '../../core/contract.js';
import { LegguardError } from '../../core/errors.js';
import type { BrokerEvent } from '../../core/events.js';
import { BrokerOrderId, type AccountId } from '../../core/ids.js';
import type { OrderRequest } from '../../core/order.js';
import type { EpochMs } from '../../core/quantity.js';
import type { BrokerPort, BrokerSnapshot, ExerciseAck, ExerciseRequest, PlaceAck, Quote, UnderlyingInfo } from '../../ports/broker.js';
import type { Clock } from '../../ports/clock.js';
import { DropLog } from './drop-log.js';
import { AccountFeed } from './ib-account.js';
import { IbConnection, type BackoffOptions } from './ib-connection.js';
import { ContractCache } from './ib-contract-cache.js';
import { IbExercises } from './ib-exercise.js';
import { DATA_PRIORITY, MarketData } from './ib-market-data.js';
import { buildIbOrder, checkOrder } from './ib-order.js';
import { OrderBook } from './ib-order-book.js';
import { IbQueries } from './ib-queries.js';
import { Requests } from './ib-requests.js';
import { ServerTime } from './ib-server-time.js';
import { IbWrapper } from './ib-wrapper.js';

export interface IbBrokerOptions {
  readonly host: string;
  /** TWS 7497 (paper) / 7496 (live); IB Gateway 4002 (paper) / 4001 (live). */
  readonly port: number;
  /** Fixed: TWS binds orders to the client id that placed them, and a restarted guard must see its own orders. */
  readonly clientId: number;
  readonly account: AccountId;
  /** Real time: timeouts, reconnect waits, pacing. */
  readonly clock: Clock;
  /**
   * The clock that stamps events and snapshots, when it differs from the one that runs timers: a guard drilling
   * against the sim gateway in scenario time (`legguard run --clock lockstep`) stamps in scenario time while its
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
  /** Repeats of the same dropped-message warning are held back this long (real ms). Default 60 s. */
  readonly dropWarningEveryMs?: number;
  readonly log?: (line: string) => void;
  /**
   * Read only (`legguard risk --config`): placeOrder, cancelOrder and exerciseOptions refuse (BROKER_REJECTED) before
   * anything is sent. Default false.
   */
  readonly readOnly?: boolean;
  /** The API client of each connection attempt (ib-connection.ts); tests only. Default IBApi over TCP. */
  readonly createApi?: () => IBApi;
}

/** Cancels go first: a cancel that waits behind new orders can be a double order. */
const CANCEL_PRIORITY = -1;

/**
 * Interactive Brokers behind the broker port, on @stoqey/ib's low-level `IBApi` events (not `IBApiNext`, which drops
 * positions that go to zero and gives up on a 1100). In parts, as NautilusTrader's IB adapter is: the connection,
 * its backoff and its pacer (`ib-connection`, with what it reaches inside IBApi for in `ib-socket`), requests and
 * their waiters (`ib-requests`, the lists in `ib-queries`), the callbacks TWS makes routed to their parts
 * (`ib-wrapper`), validation of every message TWS sends (`ib-translate`, with the rate-limited `DropLog` for what
 * fails it), the account stream (`ib-account`), orders (`ib-order`, `ib-order-book`), market data
 * (`ib-market-data`), the server time (`ib-server-time`) and the contract cache (`ib-contract-cache`). This class
 * wires them and implements the port. After every (re)connect a `connection` event goes out so the engine reconciles; IB's
 * codes become events: 1100 `disconnected`, 1101/1102 `connected` (data lost or kept), order rejects an
 * `order-status` of `rejected`, everything else a `notice`.
 *
 * @example
 *   const ib = new IbBroker({ host: '127.0.0.1', port: 7497, clientId: 17, account: AccountId.parse('DU1234567'), clock });
 *   ib.subscribe((e) => engine.onBrokerEvent(e));
 *   await ib.connect();
 */
export class IbBroker implements BrokerPort {
  readonly name: string;
  readonly account: AccountId;
  private readonly stamp: Clock;
  private readonly log: (line: string) => void;
  private readonly listeners = new Set<(e: BrokerEvent) => void>();
  private readonly conn: IbConnection;
  private readonly requests: Requests;
  private readonly drops: DropLog;
  private readonly cache: ContractCache;
  private readonly feed: AccountFeed;
  private readonly orders: OrderBook;
  private readonly market: MarketData;
  private readonly queries: IbQueries;
  private readonly time: ServerTime;
  private readonly wrapper: IbWrapper;
  private readonly exercises: IbExercises;

  constructor(private readonly opts: IbBrokerOptions) {
    if (!Number.isInteger(opts.clientId) || opts.clientId < 0) {
      throw new LegguardError('INVALID_INPUT', `IB client id must be a whole number >= 0; got ${opts.clientId}`);
    }
    if (!Number.isInteger(opts.port) || opts.port <= 0 || opts.port > 65535) {
      throw new LegguardError('INVALID_INPUT', `IB port must be 1-65535; got ${opts.port}`);
    }
    this.name = opts.name ?? 'ib';
    this.account = opts.account;
    this.stamp = opts.eventClock ?? opts.clock;
    this.log = opts.log ?? (() => undefined);
    this.drops = new DropLog(() => opts.clock.perf(), (line) => this.warn(line), opts.dropWarningEveryMs);
    this.requests = new Requests(opts.clock, opts.requestTimeoutMs ?? 15_000, this.name);
    this.cache = new ContractCache(opts.indexSymbols ?? [], (d) => this.drops.drop(d), (line) => this.warn(line));
    this.feed = new AccountFeed(opts.account, opts.clientId, opts.twsTimeZone);
    this.orders = new OrderBook(opts.clientId, opts.account);
    this.conn = new IbConnection(
      {
        host: opts.host,
        port: opts.port,
        clientId: opts.clientId,
        account: opts.account,
        clock: opts.clock,
        name: this.name,
        maxMessagesPerSecond: opts.maxMessagesPerSecond ?? 40,
        backoff: opts.backoff,
        connectTimeoutMs: opts.connectTimeoutMs ?? 30_000,
        handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 10_000,
        log: this.log,
        createApi: opts.createApi,
      },
      {
        attach: (on) => this.wrapper.attach(on),
        ready: (reconnect) => {
          this.feed.resetChanges();
          this.startSubscriptions(reconnect);
          this.emitConnection('connected', reconnect, reconnect ? 'reconnected: events while disconnected were not received' : null);
        },
        lost: (error, wasReady, reason) => {
          this.failOutstanding(error);
          this.time.lost(error);
          if (wasReady) this.emitConnection('disconnected', false, reason);
        },
        linkDown: (reason) => this.emitConnection('disconnected', false, reason),
        linkRestored: (dataLost, reason) => {
          // Data lost: TWS dropped every subscription; make them again before telling the engine to reconcile.
          if (dataLost) {
            this.feed.resetChanges();
            this.startSubscriptions(true);
          }
          this.emitConnection('connected', dataLost, reason);
        },
        notice: (code, message) => this.notice(code, message, null),
      },
    );
    this.queries = new IbQueries({ account: opts.account, conn: this.conn, requests: this.requests, feed: this.feed, orders: this.orders, cache: this.cache, warn: (l) => this.warn(l) });
    this.exercises = new IbExercises({ account: opts.account, conn: this.conn, conIdOf: (c) => this.cache.conIdOf(c), log: this.log });
    this.market = new MarketData({
      conn: this.conn,
      requests: this.requests,
      cache: this.cache,
      stamp: this.stamp,
      timers: opts.clock,
      dividendWaitMs: opts.dividendWaitMs ?? 2000,
      log: this.log,
    });
    this.time = new ServerTime({ conn: this.conn, clock: opts.clock, timeoutMs: opts.requestTimeoutMs ?? 15_000, name: this.name });
    this.wrapper = new IbWrapper({
      account: opts.account,
      stamp: this.stamp,
      drops: this.drops,
      requests: this.requests,
      cache: this.cache,
      feed: this.feed,
      orders: this.orders,
      queries: this.queries,
      market: this.market,
      time: this.time,
      emit: (e) => this.emit(e),
      notice: (code, message, orderId) => this.notice(code, message, orderId),
    });
  }

  // ---------------------------------------------------------------- port: connection and events

  connect(): Promise<void> {
    return this.conn.connect();
  }

  async disconnect(): Promise<void> {
    this.conn.disconnect();
    await Promise.resolve();
  }

  isConnected(): boolean {
    return this.conn.isReady;
  }

  subscribe(listener: (event: BrokerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every time TWS states (CURRENT_TIME, asked for or not), as it arrives. Returns the unsubscribe function. */
  onServerTime(listener: (t: EpochMs) => void): () => void {
    return this.time.listen(listener);
  }

  /**
   * True while something sent to TWS is still unanswered, messages wait in the pacer, or a connection is being made:
   * a lockstep drill's guard is not idle then.
   */
  get busy(): boolean {
    return this.conn.busy || this.requests.size > 0 || this.queries.busy || this.time.busy;
  }

  /** See `IbConnection.sendLockstepIdle`: the lockstep drill's report that this client has caught up. */
  sendLockstepIdle(deadline: EpochMs | null): boolean {
    return this.conn.sendLockstepIdle(deadline);
  }

  /** Account values TWS reported (reqAccountUpdates): `NetLiquidation/USD` -> `123456.78`. */
  accountValue(key: string, currency = 'USD'): string | null {
    return this.feed.accountValue(key, currency);
  }

  /** Messages from TWS dropped so far because they failed validation. */
  get droppedMessages(): number {
    return this.drops.count;
  }

  // ---------------------------------------------------------------- port: commands

  async snapshot(opts: { executionsSince: EpochMs | null }): Promise<BrokerSnapshot> {
    this.conn.requireReady('snapshot');
    const q = this.queries;
    const [positions, openOrders, executions] = await Promise.all([q.positions(), q.openOrders(), q.executions(opts.executionsSince)]);
    return { account: this.account, at: this.stamp.now(), positions, openOrders, executions };
  }

  async placeOrder(order: OrderRequest): Promise<PlaceAck> {
    this.refuseIfReadOnly('placeOrder');
    checkOrder(order, this.account);
    this.conn.requireReady('placeOrder');
    const conIds = await this.queries.conIdsFor(order);
    const { contract, order: ibOrder } = buildIbOrder(order, conIds);
    let placed = -1;
    await this.conn.send(order.tier, (api) => {
      // The id is taken when the message goes: IB wants each new order id above every earlier one.
      placed = this.conn.takeOrderId();
      this.orders.placed(placed, order.ref, order.quantity);
      api.placeOrder(placed, contract, { ...ibOrder, orderId: placed });
    });
    this.log(`placed order ${placed} ${order.ref} (tier ${order.tier})`);
    return { orderId: BrokerOrderId.unsafe(String(placed)) };
  }

  async cancelOrder(orderId: BrokerOrderId): Promise<void> {
    this.refuseIfReadOnly('cancelOrder');
    if (!/^\d+$/.test(orderId)) {
      throw new LegguardError('INVALID_INPUT', `${this.name}: order ${orderId} was not placed by this client (client ${this.opts.clientId}); IB only lets its own client cancel it`);
    }
    this.conn.requireReady('cancelOrder');
    const id = Number(orderId);
    await this.conn.send(CANCEL_PRIORITY, (api) => api.cancelOrder(id));
  }

  /** IB's exerciseOptions (ib-exercise.ts). */
  async exerciseOptions(request: ExerciseRequest): Promise<ExerciseAck> {
    this.refuseIfReadOnly('exerciseOptions');
    return this.exercises.exercise(request);
  }

  private refuseIfReadOnly(what: string): void {
    if (this.opts.readOnly === true) {
      throw new LegguardError('BROKER_REJECTED', `${this.name}: ${what} refused: this connection is read-only (client ${this.opts.clientId})`);
    }
  }

  /**
   * The broker's own time, to the second (IB's reqCurrentTime): TWS's clock, or the scenario time of the sim gateway.
   * `legguard run --clock broker|lockstep` sets its clock from it.
   */
  currentTime(): Promise<EpochMs> {
    return this.time.currentTime();
  }

  quote(contract: Contract): Promise<Quote | null> {
    return this.market.quote(contract);
  }

  underlying(symbol: string): Promise<UnderlyingInfo> {
    return this.market.underlying(symbol);
  }

  // ---------------------------------------------------------------- requests

  /** Positions and account updates stream from now on; after a reconnect, finished orders are fetched too. */
  private startSubscriptions(reconnect: boolean): void {
    const t = this.opts.marketDataType ?? 1;
    if (t !== 1) void this.conn.send(DATA_PRIORITY, (api) => api.reqMarketDataType(t)).catch((e: unknown) => this.log(`reqMarketDataType: ${String(e)}`));
    this.queries.positions().catch((e: unknown) => this.log(`position subscription: ${e instanceof Error ? e.message : String(e)}`));
    void this.conn.send(DATA_PRIORITY, (api) => api.reqAccountUpdates(true, this.account)).catch(() => undefined);
    // Orders that finished while the guard could not hear (cancelled, rejected): only completed orders tell.
    if (reconnect) void this.conn.send(DATA_PRIORITY, (api) => api.reqCompletedOrders(false)).catch(() => undefined);
  }

  // ---------------------------------------------------------------- out

  private failOutstanding(error: LegguardError): void {
    this.requests.failAll(error);
    this.queries.failRounds(error);
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
    this.emit({ kind: 'notice', code, message: message.slice(0, 2000), orderId: orderId === null ? null : BrokerOrderId.unsafe(orderId), tsEvent: t, tsInit: t });
  }

  /** Said in the log and journaled (as a notice): something from TWS was not used. */
  private warn(line: string): void {
    this.log(line);
    this.notice(0, line, null);
  }
}
