import { EventName, IBApi } from '@stoqey/ib';
import { LegguardError } from '../../core/errors.js';
import type { AccountId } from '../../core/ids.js';
import { EpochMs } from '../../core/quantity.js';
import type { Clock, TimerHandle } from '../../ports/clock.js';
import { Backoff, type BackoffPolicy } from '../../lib/backoff.js';
import { PriorityPacer } from '../../lib/priority-pacer.js';
import { IbCode } from './ib-codes.js';
import { containDecoding, controllerOf, socketOf } from './ib-socket.js';
import { isDrop, readId } from './ib-translate.js';

/**
 * The reconnect waits, each field defaulting: `initialMs` 1 s (the first wait after a lost connection), `factor` 2,
 * `maxMs` 30 s (TWS's nightly restart takes a minute or two). Back to the start after a connection that worked.
 */
export type BackoffOptions = Partial<BackoffPolicy>;

const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1000, factor: 2, maxMs: 30_000 };

export type Phase = 'idle' | 'connecting' | 'ready' | 'link-down' | 'stopped';

/** Registers a handler for one IBApi event of the current connection; exceptions in it are caught and logged. */
export type On = <A extends unknown[]>(name: EventName, fn: (...args: A) => void) => void;

/** What the connection tells the adapter that owns it. */
export interface ConnectionHooks {
  /** A new connection's IBApi: register the adapter's handlers on it (only the current connection's are heard). */
  attach(on: On): void;
  /** Handshake done, account checked: subscriptions go now. `reconnect`: events while away were not heard. */
  ready(reconnect: boolean): void;
  /** The connection is gone (closed, failed, stopped): fail what waits on it; `wasReady`: tell the engine why. */
  lost(error: LegguardError, wasReady: boolean, reason: string): void;
  /** TWS lost its link to IB (1100): the socket stays, nothing can be done. */
  linkDown(reason: string): void;
  /** TWS's link is back (1101/1102); `dataLost`: every subscription is gone and must be made again. */
  linkRestored(dataLost: boolean, reason: string): void;
  /** A dropped message or a notice worth the journal. */
  notice(code: number, message: string): void;
}

export interface IbConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly clientId: number;
  readonly account: AccountId;
  /** Real time: timeouts, reconnect waits, pacing. */
  readonly clock: Clock;
  readonly name: string;
  readonly maxMessagesPerSecond: number;
  readonly backoff?: BackoffOptions | undefined;
  readonly connectTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly log: (line: string) => void;
  /**
   * Makes the API client of each attempt; default IBApi on a TCP socket to `host:port`. A test hands a fake transport
   * here to count what would be written to the socket.
   */
  readonly createApi?: (() => IBApi) | undefined;
}

interface Conn {
  readonly api: IBApi;
  gotId: boolean;
  accounts: string[] | null;
  handshakeTimer: TimerHandle | null;
  /** CURRENT_TIME messages heard on this connection (a lockstep gateway numbers the ones it writes the same way). */
  times: number;
}

interface Waiter<T> {
  resolve(v: T): void;
  reject(e: unknown): void;
}

/**
 * IBApi's words for a known message whose fields did not match its layout. An unknown id (`on undefined`) is only a
 * notice: its fields are left over because no layout was known, not because they were wrong.
 */
const UNPARSEABLE = /^(?:Decoding error|Underrun error) on (?!undefined:)\w+: /;

/** The sim gateway's lockstep report (its `LEGGUARD_LOCKSTEP_IDLE`); no TWS message has this id. */
const LOCKSTEP_IDLE_MSG = 9001;

/**
 * The connection to TWS as a state machine: idle -> connecting -> ready <-> link-down, back to idle when the socket
 * goes (then a reconnect after a growing wait), stopped by request or by a problem retrying cannot fix (the account
 * is not this login's). A fresh IBApi per attempt, so nothing of a dead connection survives into the next. Owns the
 * one pacer every outgoing message goes through (IB's limit is per connection) and the order ids TWS hands out.
 *
 * Frames TWS sends are untrusted: an exception thrown while IBApi decodes them (a negative list count, an impossible
 * field) would unwind into the socket's handler and take the process down. It is caught where the bytes arrive; the
 * connection is dropped and made again, and the reconnect's reconciliation restores what was missed.
 */
export class IbConnection {
  readonly pacer: PriorityPacer;
  private readonly backoff: Backoff;
  private phaseNow: Phase = 'idle';
  private conn: Conn | null = null;
  private everConnected = false;
  private lastError: string | null = null;
  private reconnectTimer: TimerHandle | null = null;
  private firstConnect: (Waiter<void> & { deadline: number }) | null = null;
  private nextOrderId = 1;

  constructor(
    private readonly opts: IbConnectionOptions,
    private readonly hooks: ConnectionHooks,
  ) {
    this.pacer = new PriorityPacer(opts.clock, opts.maxMessagesPerSecond);
    const b = opts.backoff;
    this.backoff = new Backoff(
      { initialMs: b?.initialMs ?? DEFAULT_BACKOFF.initialMs, factor: b?.factor ?? DEFAULT_BACKOFF.factor, maxMs: b?.maxMs ?? DEFAULT_BACKOFF.maxMs },
      'reconnect backoff',
    );
  }

  get phase(): Phase {
    return this.phaseNow;
  }

  get isReady(): boolean {
    return this.phaseNow === 'ready';
  }

  /** Connecting, or messages waiting for their turn in the pacer. */
  get busy(): boolean {
    return this.phaseNow === 'connecting' || this.pacer.pending > 0;
  }

  where(): string {
    return `${this.opts.host}:${this.opts.port}`;
  }

  connect(): Promise<void> {
    if (this.phaseNow === 'ready') return Promise.resolve();
    if (this.firstConnect) return new Promise((resolve, reject) => this.chainFirst({ resolve, reject }));
    return new Promise<void>((resolve, reject) => {
      this.firstConnect = { resolve, reject, deadline: this.opts.clock.now() + this.opts.connectTimeoutMs };
      if (this.phaseNow === 'stopped') this.phaseNow = 'idle';
      this.attempt();
    });
  }

  disconnect(): void {
    const wasReady = this.phaseNow === 'ready' || this.phaseNow === 'link-down';
    this.phaseNow = 'stopped';
    this.reconnectTimer?.cancel();
    this.reconnectTimer = null;
    const conn = this.conn;
    this.conn = null;
    if (conn) this.teardown(conn);
    this.pacer.rejectAll(new LegguardError('BROKER_DISCONNECTED', `${this.opts.name}: disconnected by request`));
    this.hooks.lost(new LegguardError('BROKER_DISCONNECTED', `${this.opts.name}: disconnected by request`), wasReady, 'disconnected by request');
    if (this.firstConnect) {
      this.firstConnect.reject(new LegguardError('BROKER_DISCONNECTED', `${this.opts.name}: disconnected before the connection was made`));
      this.firstConnect = null;
    }
  }

  /** The current connection's API when ready; BROKER_DISCONNECTED naming `what` otherwise. */
  requireReady(what: string): IBApi {
    if (this.phaseNow === 'ready' && this.conn) return this.conn.api;
    const why = this.phaseNow === 'link-down' ? 'TWS has lost its connection to IB (1100)' : 'not connected to TWS';
    throw new LegguardError('BROKER_DISCONNECTED', `${this.opts.name}: ${why} (${what})`);
  }

  /** Sends through the pacer; the message goes only if the connection is still up when its turn comes. */
  send(priority: number, fn: (api: IBApi) => void): Promise<void> {
    return this.pacer.submit(priority, () => fn(this.requireReady('send')));
  }

  /** The next order id: IB wants each new order's id above every earlier one. */
  takeOrderId(): number {
    return this.nextOrderId++;
  }

  /**
   * Tells a sim gateway in lockstep mode (`legguard sim-gateway --lockstep`) that this client has handled everything
   * it heard, up to the CURRENT_TIME messages counted on this connection, and must be woken at `deadline`. Not an IB
   * message: only the sim gateway knows it. Goes behind everything already sent (IBApi's own queue keeps the order).
   * False when there is no connection to send it on.
   */
  sendLockstepIdle(deadline: EpochMs | null): boolean {
    const conn = this.conn;
    if (!conn || (this.phaseNow !== 'ready' && this.phaseNow !== 'link-down')) return false;
    const controller = controllerOf(conn.api);
    if (!controller) throw new LegguardError('INTERNAL', 'this @stoqey/ib version has no controller to send the lockstep report through');
    const times = conn.times;
    controller.schedule(() => controller.sendMsg(LOCKSTEP_IDLE_MSG, 1, times, deadline ?? -1));
    return true;
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

  private attempt(): void {
    if (this.phaseNow === 'stopped') return;
    this.reconnectTimer = null;
    this.phaseNow = 'connecting';
    const api = this.opts.createApi?.() ?? new IBApi({ host: this.opts.host, port: this.opts.port, maxReqPerSec: 1000 });
    const conn: Conn = { api, gotId: false, accounts: null, handshakeTimer: null, times: 0 };
    this.conn = conn;
    this.wire(conn);
    const handshakeMs = this.opts.handshakeTimeoutMs;
    conn.handshakeTimer = this.opts.clock.setTimer(EpochMs.unsafe(this.opts.clock.now() + handshakeMs), () => {
      if (this.conn !== conn || this.phaseNow !== 'connecting') return;
      this.lastError = `TWS at ${this.where()} accepted the connection but did not start the API within ${handshakeMs / 1000} s`;
      this.down(conn, this.lastError);
    });
    this.opts.log(`connecting to TWS at ${this.where()} as client ${this.opts.clientId}`);
    api.connect(this.opts.clientId);
    const socket = socketOf(api);
    socket?.setNoDelay?.(true);
    if (!containDecoding(socket, (e) => this.undecodable(conn, e))) {
      this.opts.log('warning: cannot reach IBApi\'s socket (a newer @stoqey/ib?): a frame it cannot decode would stop the process');
    }
  }

  /** IBApi threw decoding what TWS sent: drop this connection (its decoder state is lost) and make a new one. */
  private undecodable(conn: Conn, e: unknown): void {
    const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    const reason = `TWS sent data the API client could not decode (${why}); reconnecting`;
    this.opts.log(reason);
    this.hooks.notice(0, reason);
    this.lastError = reason;
    this.down(conn, reason);
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
    const wasReady = this.phaseNow === 'ready' || this.phaseNow === 'link-down';
    this.conn = null;
    this.teardown(conn);
    const error = new LegguardError('BROKER_DISCONNECTED', `${this.opts.name}: connection to TWS at ${this.where()} lost: ${reason}`);
    this.pacer.rejectAll(error);
    this.hooks.lost(error, wasReady, reason);
    if (this.phaseNow === 'stopped') return;
    this.phaseNow = 'idle';
    const first = this.firstConnect;
    if (first && this.opts.clock.now() >= first.deadline) {
      this.phaseNow = 'stopped';
      this.firstConnect = null;
      first.reject(
        new LegguardError(
          'BROKER_DISCONNECTED',
          `cannot connect to TWS/IB Gateway at ${this.where()} as client ${this.opts.clientId}: ${this.lastError ?? reason}`,
          { host: this.opts.host, port: this.opts.port },
        ),
      );
      return;
    }
    const wait = this.backoff.next();
    this.opts.log(`TWS connection down (${reason}); reconnecting in ${wait} ms`);
    this.reconnectTimer = this.opts.clock.setTimer(EpochMs.unsafe(this.opts.clock.now() + wait), () => this.attempt());
  }

  /** A problem that retrying cannot fix (the account is not this login's): stop and say so. */
  private fatal(conn: Conn, error: LegguardError): void {
    this.opts.log(`fatal: ${error.message}`);
    const wasReady = this.phaseNow === 'ready' || this.phaseNow === 'link-down';
    this.phaseNow = 'stopped';
    this.conn = null;
    this.teardown(conn);
    this.pacer.rejectAll(error);
    this.hooks.lost(error, wasReady, error.message);
    if (this.firstConnect) {
      this.firstConnect.reject(error);
      this.firstConnect = null;
    }
  }

  private maybeReady(conn: Conn): void {
    if (this.conn !== conn || this.phaseNow !== 'connecting' || !conn.gotId || conn.accounts === null) return;
    if (!conn.accounts.includes(this.opts.account)) {
      this.fatal(
        conn,
        new LegguardError('INVALID_INPUT', `account ${this.opts.account} is not managed by the login at ${this.where()} (it manages ${conn.accounts.join(', ') || 'no account'})`),
      );
      return;
    }
    conn.handshakeTimer?.cancel();
    conn.handshakeTimer = null;
    this.phaseNow = 'ready';
    this.backoff.reset();
    this.lastError = null;
    const reconnect = this.everConnected;
    this.everConnected = true;
    this.opts.log(`connected to TWS at ${this.where()} as client ${this.opts.clientId} (server version ${conn.api.serverVersion})`);
    this.hooks.ready(reconnect);
    const first = this.firstConnect;
    this.firstConnect = null;
    first?.resolve();
  }

  private wire(conn: Conn): void {
    // IBApi's typed overloads, one per event, do not admit a generic registration; its emitter does.
    const emitter = conn.api as unknown as { on(event: string, fn: (...args: unknown[]) => void): unknown };
    const on: On = <A extends unknown[]>(name: EventName, fn: (...args: A) => void): void => {
      emitter.on(name, (...args: unknown[]) => {
        if (this.conn !== conn) return;
        try {
          fn(...(args as A));
        } catch (e) {
          // An exception here would unwind into @stoqey/ib's socket handler and take the process down.
          this.opts.log(`handling ${name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        }
      });
    };
    on<[]>(EventName.disconnected, () => this.down(conn, this.lastError ?? 'the connection closed'));
    on<[unknown]>(EventName.nextValidId, (id) => {
      const n = readId(id, 'nextValidId', 'orderId');
      if (isDrop(n)) {
        this.hooks.notice(0, `dropped a nextValidId message from TWS: ${n.field} ${n.why}`);
        return;
      }
      this.nextOrderId = Math.max(this.nextOrderId, n);
      conn.gotId = true;
      this.maybeReady(conn);
    });
    on<[unknown]>(EventName.managedAccounts, (list) => {
      conn.accounts = (typeof list === 'string' ? list : '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      this.maybeReady(conn);
    });
    on<[]>(EventName.currentTime, () => {
      conn.times++;
    });
    on<[string, number]>(EventName.info, (message, code) => this.onInfo(String(message), Number(code)));
    on<[Error, number, number]>(EventName.error, (err, code, reqId) => {
      const message = err instanceof Error ? err.message : String(err);
      if ((reqId ?? -1) === -1 && code === IbCode.CONNECT_FAIL) this.lastError = message;
      // A message with more or fewer fields than its layout: IBApi says so, then (too many) passes on what it read
      // anyway, fields perhaps shifted. The stream and TWS disagree on the layout: drop the connection before the
      // message's event goes out (it follows this error in the same turn, to a connection no longer listened to).
      if (UNPARSEABLE.test(message)) this.undecodable(conn, new LegguardError('PROTOCOL_ERROR', message.slice(0, 300)));
    });
    this.hooks.attach(on);
  }

  private onInfo(message: string, code: number): void {
    switch (code) {
      case IbCode.CONNECTIVITY_LOST:
        if (this.phaseNow === 'ready') {
          this.phaseNow = 'link-down';
          this.hooks.linkDown(`IB ${code}: ${message}`);
        }
        return;
      case IbCode.RESTORED_DATA_LOST:
      case IbCode.RESTORED_DATA_MAINTAINED:
        if (this.phaseNow !== 'link-down' && this.phaseNow !== 'ready') return;
        this.phaseNow = 'ready';
        this.hooks.linkRestored(code === IbCode.RESTORED_DATA_LOST, `IB ${code}: ${message}`);
        return;
      case IbCode.CLIENT_ID_IN_USE:
        this.lastError = `client id ${this.opts.clientId} is already in use at ${this.where()} (IB 326): another program, or a previous connection TWS has not yet released`;
        this.opts.log(this.lastError);
        return;
      default:
        this.hooks.notice(code, message);
    }
  }
}
