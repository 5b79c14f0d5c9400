import { createServer, type Server, type Socket } from 'node:net';
import { contractKey, type Contract } from '../../core/contract.js';
import { LegguardError } from '../../core/errors.js';
import type { BrokerEvent, PositionReport } from '../../core/events.js';
import { EpochMs } from '../../core/quantity.js';
import type { Clock } from '../../ports/clock.js';
import { formatIbHourMinute } from '../ib/ib-time.js';
import type { ClientRequest } from './client-requests.js';
import { ClientSession, type SessionHost } from './client-session.js';
import { ContractDirectory } from './contract-directory.js';
import { managedAccounts, type GatewayBackend } from './gateway-backend.js';
import { ExerciseDesk } from './exercise-desk.js';
import { MarketDesk } from './market-desk.js';
import { TWS_TEXT, TwsCode } from './message-ids.js';
import { NightlyReset, type ResetWindow } from './nightly-reset.js';
import { OrderDesk } from './order-desk.js';
import { checkShapeOptions, type ShapeOptions } from './outgoing-shaper.js';
import { Msg } from './server-messages.js';

export interface TwsGatewayOptions {
  readonly backend: GatewayBackend;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: an ephemeral port (see `port` after `start`). */
  readonly port?: number;
  /**
   * TWS's "Master API client ID": the client that sees every order and execution, including those of other clients
   * and of trades made outside the API. `'all'` (the default) lets every client see everything.
   */
  readonly masterClientId?: number | 'all';
  /** One line per notable thing (connections, protocol errors, faults). Default: nothing. */
  readonly log?: (line: string) => void;
  /**
   * Called for every frame written to or read from a client, with the message id and `clock.perf()` (real,
   * monotonic ms): the wire benchmark's stopwatch. Keep it cheap; it runs on the socket path.
   */
  readonly trace?: (dir: 'in' | 'out', msgId: number, perf: number, clientId: number | null) => void;
}

/** What a lockstep drill (`Lockstep`) hears from the gateway: idle reports, frames written, sessions gone. */
export interface LockstepHooks {
  idle(session: ClientSession, seq: number, deadline: number | null): void;
  written(session: ClientSession, msgId: number): void;
  closed(session: ClientSession): void;
}

export interface SessionInfo {
  readonly id: number;
  readonly clientId: number | null;
  readonly remote: string;
  readonly ready: boolean;
}

/**
 * A TWS API server at server version 193, bridging any TWS API client to a legguard broker (the simulator): the
 * handshake and START_API, positions, account and portfolio updates, executions and commission reports, orders
 * (BAG combos included) with open/completed order reports, contract details, market data with IB's dividend tick,
 * current time, and IB's error codes. Faults on demand: dropped connections, 1100/1101/1102 and other notices,
 * delayed, duplicated or reordered messages, garbage bytes, and a nightly reset window.
 *
 * @example
 *   const gw = new TwsGateway({ backend: { broker: sim, clock, resolve: sim.resolve } });
 *   const { port } = await gw.start();
 *   // point any TWS API client at 127.0.0.1:port
 *   gw.notice(1100); gw.notice(1102); gw.dropConnections();
 */
export class TwsGateway implements SessionHost {
  readonly clock: Clock;
  readonly directory = new ContractDirectory();
  private readonly orders: OrderDesk;
  private readonly market: MarketDesk;
  private readonly exercises: ExerciseDesk;
  private server: Server | null = null;
  private readonly sessions = new Set<ClientSession>();
  private nextSessionId = 1;
  private unsubscribe: (() => void) | null = null;
  private readonly errorListeners = new Set<(e: LegguardError, session: SessionInfo | null) => void>();
  private readonly positions = new Map<string, PositionReport>();
  /** 1100 in force for everyone (a backend disconnect, a reset window in notice mode, an injected notice). */
  private linkDown = false;
  private refusing = false;
  private shapeOpts: ShapeOptions | null = null;
  private reset: NightlyReset | null = null;
  private readonly log: (line: string) => void;
  private boundPort = 0;
  private lockstep: LockstepHooks | null = null;

  readonly trace: SessionHost['trace'];

  constructor(private readonly opts: TwsGatewayOptions) {
    this.clock = opts.backend.clock;
    const t = opts.trace;
    this.trace = t ? (dir, msgId, perf, session) => t(dir, msgId, perf, session.clientId) : undefined;
    this.log = opts.log ?? (() => undefined);
    this.orders = new OrderDesk(opts.backend, this.directory, (owner) => this.recipients(owner), this.log);
    this.market = new MarketDesk(opts.backend, this.directory);
    this.exercises = new ExerciseDesk(opts.backend, this.directory, this.log);
  }

  get port(): number {
    return this.boundPort;
  }

  get host(): string {
    return this.opts.host ?? '127.0.0.1';
  }

  private get broker(): GatewayBackend['broker'] {
    return this.opts.backend.broker;
  }

  /** The accounts of this login, as REQ_MANAGED_ACCTS lists them. */
  private get accounts(): readonly string[] {
    return managedAccounts(this.opts.backend);
  }

  async start(): Promise<{ host: string; port: number }> {
    if (this.server) throw new LegguardError('INVALID_INPUT', 'the gateway is already started');
    this.unsubscribe = this.broker.subscribe((ev) => this.onBrokerEvent(ev));
    // The gateway is the backend's one client: a simulator delivers events only to a connected client.
    if (!this.broker.isConnected()) await this.broker.connect();
    const server = createServer((socket) => this.onConnection(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => reject(new LegguardError('INVALID_INPUT', `cannot listen on ${this.host}:${this.opts.port ?? 0}: ${e.message}`));
      server.once('error', onError);
      server.listen(this.opts.port ?? 0, this.host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    const addr = server.address();
    this.boundPort = typeof addr === 'object' && addr ? addr.port : 0;
    this.log(`sim gateway listening on ${this.host}:${this.boundPort} (server version 193, account${this.accounts.length > 1 ? 's' : ''} ${this.accounts.join(', ')})`);
    return { host: this.host, port: this.boundPort };
  }

  async stop(): Promise<void> {
    this.reset?.stop();
    this.reset = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const s of [...this.sessions]) s.drop();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Protocol errors from any client (or null for the listener itself). Returns the unsubscribe function. */
  onProtocolError(fn: (e: LegguardError, session: SessionInfo | null) => void): () => void {
    this.errorListeners.add(fn);
    return () => this.errorListeners.delete(fn);
  }

  sessionsInfo(): SessionInfo[] {
    return [...this.sessions].map((s) => info(s));
  }

  // ---- faults -------------------------------------------------------------------------------------------------

  /** Closes every client connection at once, as a crashed or restarting TWS does. */
  dropConnections(): void {
    this.log(`fault: dropping ${this.sessions.size} connection(s)`);
    for (const s of [...this.sessions]) s.drop();
  }

  /**
   * Sends a connection notice to every client. 1100 takes the link down (messages are held), 1102 restores it and
   * sends what was held, 1101 restores it having lost the held messages and every subscription. Other codes (2110,
   * 2104 ...) are just sent.
   */
  notice(code: number, message: string = TWS_TEXT[code] ?? `notice ${code}`): void {
    this.log(`fault: notice ${code} ${message}`);
    if (code === TwsCode.CONNECTIVITY_LOST) {
      this.linkDown = true;
      for (const s of this.readySessions()) s.linkDown(code, message);
      return;
    }
    if (code === TwsCode.RESTORED_DATA_LOST || code === TwsCode.RESTORED_DATA_MAINTAINED) {
      this.linkDown = false;
      for (const s of this.readySessions()) s.linkRestored(code === TwsCode.RESTORED_DATA_LOST, code, message);
      return;
    }
    for (const s of this.readySessions()) s.error(-1, code, message);
  }

  /** Shapes what every client receives from now on (and clients that connect later); null switches it off. */
  shapeOutgoing(opts: ShapeOptions | null): void {
    if (opts) checkShapeOptions(opts);
    this.shapeOpts = opts;
    for (const s of this.sessions) s.shape(opts);
  }

  /** Writes raw bytes to every connected client, past framing: for client robustness drills. */
  sendGarbage(bytes: Buffer): void {
    for (const s of this.sessions) s.sendRaw(bytes);
  }

  /** While on, new connections are closed as soon as they open (IB Gateway restarting). */
  refuseConnections(on: boolean): void {
    this.refusing = on;
  }

  /** Whether new connections are refused now (a reset window, or `refuseConnections`). */
  get isRefusing(): boolean {
    return this.refusing;
  }

  /** Hands lockstep reports to `hooks` (one lockstep per gateway); null turns lockstep off. */
  attachLockstep(hooks: LockstepHooks | null): void {
    this.lockstep = hooks;
  }

  /** Runs IB's nightly reset as a drill, every day at the window's New York time; null stops it. */
  setNightlyReset(window: ResetWindow | null): void {
    this.reset?.stop();
    this.reset = null;
    if (!window) return;
    this.reset = new NightlyReset(this.clock, window, {
      enter: () => {
        this.log(`nightly reset window begins (${window.mode})`);
        if (window.mode === 'drop') {
          this.refusing = true;
          this.dropConnections();
        } else this.notice(TwsCode.CONNECTIVITY_LOST);
      },
      exit: () => {
        this.log('nightly reset window ends');
        if (window.mode === 'drop') this.refusing = false;
        else this.notice(window.restore ?? TwsCode.RESTORED_DATA_MAINTAINED);
      },
    });
    this.reset.start();
  }

  // ---- SessionHost ----------------------------------------------------------------------------------------------

  protocolError(session: ClientSession, error: LegguardError): void {
    this.log(`protocol error (${session.remote}, client ${session.clientId ?? '-'}): ${error.message}`);
    for (const fn of this.errorListeners) fn(error, info(session));
  }

  written(session: ClientSession, msgId: number): void {
    this.lockstep?.written(session, msgId);
  }

  closed(session: ClientSession): void {
    this.sessions.delete(session);
    this.lockstep?.closed(session);
    this.log(`client ${session.clientId ?? '-'} (${session.remote}) disconnected`);
  }

  async handle(session: ClientSession, req: ClientRequest): Promise<void> {
    try {
      await this.dispatch(session, req);
    } catch (e) {
      // A backend failure answers the one request; the connection and the gateway go on.
      const id = 'reqId' in req ? req.reqId : req.kind === 'place-order' ? req.order.orderId : -1;
      const why = e instanceof Error ? e.message : String(e);
      this.log(`request ${req.kind} from client ${session.clientId ?? '-'} failed: ${why}`);
      const code = LegguardError.is(e, 'BROKER_DISCONNECTED') ? TwsCode.NOT_CONNECTED : TwsCode.ERROR_VALIDATING_REQUEST;
      session.error(id, code, `Error processing ${req.kind}: ${why}`);
    }
  }

  private async dispatch(s: ClientSession, req: ClientRequest): Promise<void> {
    switch (req.kind) {
      case 'start-api':
        this.startApi(s, req.clientId);
        return;
      case 'req-ids':
        s.send(Msg.nextValidId(this.orders.registry.nextValidId(s.clientId ?? 0)));
        return;
      case 'req-managed-accounts':
        s.send(Msg.managedAccounts(this.accounts));
        return;
      case 'req-current-time':
        s.send(Msg.currentTime(Math.floor(this.clock.now() / 1000)));
        return;
      case 'req-market-data-type':
        if (req.type < 1 || req.type > 4) {
          s.error(-1, TwsCode.ERROR_VALIDATING_REQUEST, `Error validating request: market data type ${req.type} (1-4)`);
          return;
        }
        s.marketDataType = req.type;
        return;
      case 'req-positions':
        s.positionsSubscribed = true;
        await this.sendPositions(s);
        return;
      case 'cancel-positions':
        s.positionsSubscribed = false;
        return;
      case 'req-account-updates':
        await this.accountUpdates(s, req.subscribe, req.account);
        return;
      case 'req-executions':
        await this.orders.executions(s, req.reqId, req.filter);
        return;
      case 'req-open-orders':
        await this.orders.openOrders(s, req.scope);
        return;
      case 'req-completed-orders':
        this.orders.completedOrders(s, req.apiOnly);
        return;
      case 'place-order':
        await this.orders.place(s, req.order);
        return;
      case 'cancel-order':
        await this.orders.cancel(s, req.orderId);
        return;
      case 'exercise-options':
        await this.exercises.exercise(s, req);
        return;
      case 'req-global-cancel':
        await this.orders.cancelAll(s);
        return;
      case 'req-contract-details':
        this.market.contractDetails(s, req.reqId, req.contract);
        return;
      case 'req-mkt-data':
        await this.market.marketData(s, req);
        return;
      case 'cancel-mkt-data':
        this.market.cancel(s, req.reqId);
        return;
      case 'lockstep-idle':
        if (!this.lockstep) {
          s.error(-1, TwsCode.ERROR_VALIDATING_REQUEST, 'Error validating request: lockstep is off (start legguard sim-gateway with --lockstep)');
          return;
        }
        this.lockstep.idle(s, req.seq, req.deadline);
        return;
      case 'unimplemented':
        s.error(-1, TwsCode.ERROR_VALIDATING_REQUEST, `Error validating request: ${req.name} (message id ${req.msgId}) is not supported by the legguard sim gateway`);
        return;
    }
  }

  private startApi(s: ClientSession, clientId: number): void {
    const taken = [...this.sessions].some((o) => o !== s && o.ready && o.clientId === clientId);
    if (taken) {
      s.error(-1, TwsCode.CLIENT_ID_IN_USE, 'Unable to connect as the client id is already in use. Retry with a unique client id.');
      this.log(`refused client id ${clientId} from ${s.remote}: already in use`);
      s.end();
      return;
    }
    s.markReady(clientId);
    this.log(`client ${clientId} (${s.remote}) started the API`);
    s.send(Msg.nextValidId(this.orders.registry.nextValidId(clientId)));
    s.send(Msg.managedAccounts(this.accounts));
    for (const code of [TwsCode.MARKET_DATA_FARM_OK, TwsCode.HMDS_FARM_OK, TwsCode.SECDEF_FARM_OK]) s.error(-1, code, TWS_TEXT[code]!);
    if (this.linkDown) s.linkDown(TwsCode.CONNECTIVITY_LOST, TWS_TEXT[TwsCode.CONNECTIVITY_LOST]!);
  }

  private async sendPositions(s: ClientSession): Promise<void> {
    const snap = await this.broker.snapshot({ executionsSince: EpochMs.unsafe(this.clock.now()) });
    const listed = new Set<string>();
    for (const p of snap.positions) {
      if (p.qty === 0) continue;
      listed.add(positionKey(p));
      s.send(Msg.position(p.account, this.directory.report(p.contract), p.qty, p.avgCost ?? 0));
    }
    // As TWS lists a position closed during the day with quantity 0: a client that subscribes after the change (or
    // while its event is still on the way) learns that the position is gone.
    for (const [key, p] of this.positions) {
      if (!listed.has(key)) s.send(Msg.position(p.account, this.directory.report(p.contract), 0, 0));
    }
    s.send(Msg.positionEnd());
  }

  private async accountUpdates(s: ClientSession, subscribe: boolean, account: string): Promise<void> {
    if (!subscribe) {
      s.accountSubscription = null;
      return;
    }
    const accounts = this.accounts;
    if (account === '' && accounts.length > 1) {
      s.error(-1, TwsCode.ERROR_VALIDATING_REQUEST, `Error validating request: this login manages several accounts (${accounts.join(', ')}): name one`);
      return;
    }
    const acct = account === '' ? accounts[0]! : account;
    if (!accounts.includes(acct)) {
      s.error(-1, TwsCode.ERROR_VALIDATING_REQUEST, `Error validating request: account ${acct} is not managed by this login (${accounts.join(', ')})`);
      return;
    }
    s.accountSubscription = acct;
    s.send(Msg.accountValue('AccountCode', acct, '', acct));
    s.send(Msg.accountValue('AccountType', 'INDIVIDUAL', '', acct));
    s.send(Msg.accountValue('AccountReady', 'true', '', acct));
    s.send(Msg.accountValue('Currency', 'USD', 'USD', acct));
    const snap = await this.broker.snapshot({ executionsSince: EpochMs.unsafe(this.clock.now()) });
    for (const p of snap.positions) {
      this.positions.set(positionKey(p), p);
      if (p.account !== acct || p.qty === 0) continue;
      await this.market.refreshMark(p.contract);
      s.send(this.portfolioMessage(p));
    }
    s.send(Msg.accountUpdateTime(formatIbHourMinute(this.clock.now())));
    s.send(Msg.accountDownloadEnd(acct));
  }

  private portfolioMessage(p: PositionReport): ReturnType<typeof Msg.portfolioValue> {
    const mult = multiplierOf(p.contract);
    const mark = this.market.markOf(p.contract);
    const avgCost = p.avgCost ?? 0;
    const price = mark ?? (mult > 0 ? avgCost / mult : 0);
    const value = p.qty * price * mult;
    return Msg.portfolioValue(
      this.directory.report(p.contract),
      p.qty,
      {
        marketPrice: Number(price.toFixed(6)),
        marketValue: Number(value.toFixed(2)),
        averageCost: avgCost,
        unrealizedPnl: Number((value - p.qty * avgCost).toFixed(2)),
        realizedPnl: 0,
      },
      p.account,
    );
  }

  // ---- backend events -------------------------------------------------------------------------------------------

  private onBrokerEvent(ev: BrokerEvent): void {
    try {
      switch (ev.kind) {
        case 'position':
          this.positions.set(positionKey(ev), ev);
          for (const s of this.readySessions()) {
            if (s.positionsSubscribed) s.send(Msg.position(ev.account, this.directory.report(ev.contract), ev.qty, ev.avgCost ?? 0));
            if (s.accountSubscription === ev.account) s.send(this.portfolioMessage(ev));
          }
          return;
        case 'execution':
          this.orders.onExecution(ev);
          return;
        case 'commission':
          this.orders.onCommission(ev);
          return;
        case 'order-status':
          this.orders.onOrderStatus(ev);
          return;
        case 'quote':
          this.market.onQuote(ev, this.readySessions());
          return;
        case 'connection':
          if (ev.state === 'disconnected') this.notice(TwsCode.CONNECTIVITY_LOST);
          else if (this.linkDown) this.notice(ev.dataLost ? TwsCode.RESTORED_DATA_LOST : TwsCode.RESTORED_DATA_MAINTAINED);
          return;
        case 'notice': {
          const exercise = ev.orderId ? this.exercises.requestOf(ev.orderId) : undefined;
          if (exercise) {
            for (const s of this.readySessions()) if (s.clientId === exercise.clientId) s.error(exercise.reqId, ev.code, ev.message);
            return;
          }
          const order = ev.orderId ? this.orders.registry.byBackendId(ev.orderId) : undefined;
          const targets = order ? this.recipients(order.orderId > 0 ? order.clientId : null) : this.readySessions();
          for (const s of targets) s.error(order && order.orderId > 0 ? order.orderId : -1, ev.code, ev.message);
          return;
        }
      }
    } catch (e) {
      // One bad event must not take the gateway down; it is logged and reported as a protocol-level problem.
      const err = LegguardError.is(e) ? e : new LegguardError('INTERNAL', `handling backend ${ev.kind} event: ${String(e)}`, {}, { cause: e });
      this.log(`backend event ${ev.kind} failed: ${err.message}`);
      for (const fn of this.errorListeners) fn(err, null);
    }
  }

  private onConnection(socket: Socket): void {
    if (this.refusing) {
      this.log(`refused a connection from ${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'} (reset window)`);
      socket.destroy();
      return;
    }
    const s = new ClientSession(socket, this, this.nextSessionId++);
    if (this.shapeOpts) s.shape(this.shapeOpts);
    this.sessions.add(s);
    this.log(`connection from ${s.remote}`);
  }

  private readySessions(): ClientSession[] {
    return [...this.sessions].filter((s) => s.ready);
  }

  /** The order's own client plus the master client(s); for an order no client placed, the masters only. */
  private recipients(ownerClientId: number | null): ClientSession[] {
    const master = this.opts.masterClientId ?? 'all';
    return this.readySessions().filter((s) => master === 'all' || s.clientId === master || (ownerClientId !== null && s.clientId === ownerClientId));
  }
}

function info(s: ClientSession): SessionInfo {
  return { id: s.id, clientId: s.clientId, remote: s.remote, ready: s.ready };
}

/** Positions are per account and contract: two accounts of one login may hold the same contract. */
function positionKey(p: { readonly account: string; readonly contract: Contract }): string {
  return `${p.account} ${contractKey(p.contract)}`;
}

function multiplierOf(c: Contract): number {
  return c.secType === 'OPT' ? c.multiplier : 1;
}
