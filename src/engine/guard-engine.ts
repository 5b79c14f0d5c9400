import { Book, type Holding } from '../core/book.js';
import { contractKey, type Contract } from '../core/contract.js';
import { LegguardError } from '../core/errors.js';
import type { BrokerEvent, ExecutionReport, OrderStatusReport, PositionReport } from '../core/events.js';
import type { AccountId, ContractKey, IncidentId, OrderRef, StrategyId } from '../core/ids.js';
import { isLegguardRef, legEffect, parseOrderRef } from '../core/order.js';
import { EpochMs, Qty } from '../core/quantity.js';
import type { StrategyDefinition } from '../core/strategy.js';
import type { StrategyTransition } from '../core/strategy-state.js';
import type { Rule } from '../core/rules/rule.js';
import { timeExitRule } from '../core/rules/time-exit.js';
import type { Alert, AlertsPort, Severity } from '../ports/alerts.js';
import type { BrokerPort } from '../ports/broker.js';
import type { Clock, TimerHandle } from '../ports/clock.js';
import type { JournalEntry, StateChange, StoreBatch, StorePort, StrategyRecord, TradingStateRecord } from '../ports/store.js';
import type { TradingState } from '../core/gate.js';
import { tradingStateChange } from './trading-state-change.js';
import { Closer } from './closer.js';
import type { GuardConfig } from './guard-config.js';
import { OrderTracker, isOpenStatus, type TrackedOrder } from './order-tracker.js';
import { PendingAdopter } from './pending-adopter.js';
import { SerialQueue } from './serial-queue.js';
import { BreakHandler } from './break-handler.js';
import { NormalExit } from './normal-exit.js';
import { ChangeDetector } from './change-detector.js';
import { ReconciliationStep } from './reconciliation-step.js';
import { MarketData } from './market-data.js';
import { StrategyRegistry } from './strategy-registry.js';
import {
  journalEntry,
  makeAlert,
  moveStrategy,
  strategyRecord,
  type CrashPoint,
  type EngineContext,
  type EngineHost,
  type LogLevel,
  type Logger,
  type StrategyRuntime,
} from './engine-host.js';

export type { ClosingState, CrashPoint, LogLevel, Logger, StrategyRuntime } from './engine-host.js';
import type { TimelineEntry, TimelineListener } from './timeline.js';

/** How far before the execution cursor a restarted guard looks for executions it already journaled. */
const KNOWN_EXECUTIONS_LOOKBACK_MS = 86_400_000;

export interface GuardEngineDeps {
  readonly account: AccountId;
  readonly broker: BrokerPort;
  readonly store: StorePort;
  readonly alerts: AlertsPort;
  readonly clock: Clock;
  readonly config: GuardConfig;
  readonly log?: Logger;
  /** Rules for open strategies; the time exit from `config.timeExitDte` when not given. */
  readonly rules?: readonly Rule[];
  /** Called when a broken invariant stops the engine (crash-only: the caller exits; a restart reconciles). */
  readonly onFatal?: (e: unknown) => void;
  /**
   * Fault injection for crash drills: called at the moments a crash matters most. Only the drills' entry point
   * (test/support/legguard-drill.mjs) sets it; production code never does.
   */
  readonly crashPoint?: (point: CrashPoint) => void;
  /** Pick up strategies added to (or removed from) the store by the CLI while running, at every reconciliation. */
  readonly watchStore?: boolean;
}

/**
 * The guard. Broker events go through one serial queue: a position report is compared with the book; what the book
 * cannot explain goes to the detector; a change that breaks a strategy marks it BROKEN, is decided by policy,
 * committed to the store with its planned orders (write-ahead), alerted, and closed by the `Closer`, whose every
 * order passes the pre-trade gate. A reconciliation (at start, on every reconnect, on an interval) turns a broker
 * snapshot into the same events, so a change missed while disconnected is handled exactly like a live one.
 */
export class GuardEngine {
  readonly book = new Book();
  readonly tracker = new OrderTracker();
  readonly strategies = new Map<StrategyId, StrategyRuntime>();
  /** The broker's last reported net position per contract. */
  readonly brokerPositions = new Map<ContractKey, { contract: Contract; qty: Qty; at: EpochMs }>();
  private readonly market: MarketData;

  private readonly queue: SerialQueue;
  private readonly closer: Closer;
  private readonly adopter: PendingAdopter;
  private readonly breaks: BreakHandler;
  private readonly exits: NormalExit;
  private readonly detector: ChangeDetector;
  private readonly reconciliation: ReconciliationStep;
  private readonly registry: StrategyRegistry;
  private readonly listeners: TimelineListener[] = [];
  private readonly timers: TimerHandle[] = [];
  private readonly rules: readonly Rule[];
  private unsubscribe: (() => void) | null = null;
  private connected = false;
  private running = false;
  private fatal: unknown = null;
  private trading: TradingState = 'ACTIVE';
  /** Alert keys of isolated step failures raised by this process: each is raised once. */
  private readonly isolatedFailures = new Set<string>();

  constructor(readonly deps: GuardEngineDeps) {
    this.queue = new SerialQueue((e) => this.onStepError(e));
    this.market = new MarketData(deps.broker, (level, message) => this.log(level, message));
    this.rules = deps.rules ?? (deps.config.timeExitDte === null ? [] : [timeExitRule(deps.config.timeExitDte)]);
    const host = this.host();
    this.closer = new Closer(host);
    this.adopter = new PendingAdopter({ ...host, book: this.book, brokerPositions: this.brokerPositions });
    const ctx: EngineContext = {
      ...host,
      book: this.book,
      strategies: this.strategies,
      quotes: this.market.quotes,
      underlyingPrices: this.market.underlyingPrices,
      journal: (type, key, data, strategyId, incidentId) => this.journal(type, key, data, strategyId ?? null, incidentId ?? null),
      makeAlert: (severity, key, title, text, strategyId, incidentId, facts) => this.makeAlert(severity, key, title, text, strategyId, incidentId, facts ?? {}),
      move: (rt, t, reason) => this.move(rt, t, reason),
      record: (rt) => this.record(rt),
      isolated: (id, what, step) => this.isolated(id, what, step),
      brokerPositions: this.brokerPositions,
      refreshUnderlying: (symbol) => this.market.refreshUnderlying(symbol),
      isRunning: () => this.running,
    };
    this.breaks = new BreakHandler(ctx, this.closer);
    this.exits = new NormalExit(ctx, this.closer, this.rules);
    this.detector = new ChangeDetector(ctx, this.breaks);
    this.registry = new StrategyRegistry(ctx, deps.store);
    this.reconciliation = new ReconciliationStep(ctx, {
      broker: deps.broker,
      store: deps.store,
      brokerPositions: this.brokerPositions,
      closer: this.closer,
      detector: this.detector,
      adopter: this.adopter,
      orderFromStore: (ref) => this.orderFromStore(ref),
    });
  }

  get config(): GuardConfig {
    return this.deps.config;
  }

  get clock(): Clock {
    return this.deps.clock;
  }

  get account(): AccountId {
    return this.deps.account;
  }

  onTimeline(fn: TimelineListener): () => void {
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  emit(entry: TimelineEntry): void {
    for (const l of this.listeners) l(entry);
  }

  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    this.deps.log?.(level, message, fields);
  }

  /** The first error that stopped the engine (a broken invariant), or null. */
  get failure(): unknown {
    return this.fatal;
  }

  // ---------------------------------------------------------------- life cycle

  /**
   * Crash-only start-up: load what the store knows, connect, reconcile with the broker before anything else, then
   * resume every strategy that was BROKEN or EMERGENCY_CLOSING, then arm the rule and reconciliation timers.
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const loaded = await this.deps.store.load(this.account);
    this.reconciliation.cursor = loaded.cursor;
    this.trading = (await this.deps.store.tradingState(this.account)).state;
    if (this.trading !== 'ACTIVE') this.emit({ kind: 'note', at: this.clock.now(), strategyId: null, text: `trading is ${this.trading} (set in the store)` });
    for (const r of loaded.strategies) this.registry.adopt(r);
    for (const h of loaded.outside) this.book.set(null, h.contract, h.qty);
    for (const o of loaded.openOrders) {
      this.tracker.add(OrderTracker.fromRecord(o, this.clock.now()));
    }
    // The first snapshot hands back executions from the cursor on (inclusive): those this store journaled before the
    // restart (own fills already in the holdings, foreign ones already shown to the detector) must not count again.
    // Journal times are the guard's clock, execution times the broker's: look a day further back than the cursor.
    const since = loaded.cursor.lastExecutionAt === null ? 0 : Math.max(0, loaded.cursor.lastExecutionAt - KNOWN_EXECUTIONS_LOOKBACK_MS);
    this.tracker.markSeen(await this.deps.store.recentExecIds(this.account, EpochMs.unsafe(since)));
    this.unsubscribe = this.deps.broker.subscribe((e) => this.onBrokerEvent(e));
    if (!this.deps.broker.isConnected()) await this.deps.broker.connect();
    this.connected = this.deps.broker.isConnected();
    await this.queue.push(() => this.reconciliation.reconcileNow('start'));
    await this.queue.push(() => this.closer.resumeAll('start'));
    this.armIntervals();
    await this.queue.push(() => this.exits.evaluateRules());
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.timers) t.cancel();
    this.timers.length = 0;
    this.detector.stop();
    this.reconciliation.stop();
    this.closer.stop();
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.queue.idle();
  }

  /** Resolves when every queued step (events, timers that fired, commits) is done. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** True while a step is queued or running. */
  get busy(): boolean {
    return this.queue.size > 0;
  }

  /** Runs `step` on the engine's serial queue. */
  enqueue(step: () => Promise<void> | void): Promise<void> {
    return this.queue.push(step);
  }

  private onStepError(e: unknown): void {
    this.log('error', `engine step failed: ${e instanceof Error ? e.message : String(e)}`, {
      code: LegguardError.is(e) ? e.code : 'INTERNAL',
    });
    if (LegguardError.is(e, 'INVARIANT_BROKEN') || LegguardError.is(e, 'INVALID_TRANSITION') || !LegguardError.is(e)) {
      // Crash-only: a broken invariant stops the guard; a restart reconciles from the store and the broker.
      const first = this.fatal === null;
      this.fatal ??= e;
      this.running = false;
      if (first) this.deps.onFatal?.(e);
    }
  }

  /**
   * Runs one strategy's part of a step. A failure there (a bug, a record the code did not expect) is that strategy's
   * alone: it is logged and raised as a critical alert naming the strategy and the error, once per distinct error,
   * and the step goes on with the other strategies, which stay guarded.
   */
  private async isolated(id: StrategyId, what: string, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const code = LegguardError.is(err) ? err.code : 'INTERNAL';
      this.log('error', `${id}: ${what} failed: ${message}`, { strategyId: id, step: what, code });
      const key = `step-failed:${id}:${what}:${message}`;
      if (this.isolatedFailures.has(key)) return;
      this.isolatedFailures.add(key);
      const alert = this.makeAlert(
        'critical',
        key,
        `GUARD ERROR: ${id}`,
        `${id}: the guard's ${what} step failed (${code}: ${message}). Nothing more is done for ${id} in this step; a person must check it. The other strategies are still guarded.`,
        id,
        this.strategies.get(id)?.incidentId ?? null,
        { strategyId: id, step: what, code, error: message },
      );
      try {
        await this.commit({ alerts: [alert] });
      } catch (e) {
        this.log('error', `could not store the alert for ${id}: ${e instanceof Error ? e.message : String(e)}`);
      }
      this.raise([alert]);
    }
  }

  private armIntervals(): void {
    // The first run is offset from the round interval: broker events (and scenario scripts) tend to fall on whole
    // seconds, and a periodic reconciliation landing on the same instant would find a change before its live event.
    // A run still waiting in the queue when the next is due absorbs it: when a pass takes longer than its interval
    // (a slow broker, 40 messages a second, or a drill's clock at x7200 where a minute is 8 ms) queued passes would
    // otherwise grow without end, and every broker event and order behind them would wait longer and longer.
    const every = (ms: number, fn: () => Promise<void>, phaseMs: number): void => {
      let next = this.clock.now() + ms + phaseMs;
      let queued = false;
      const slot = this.timers.length;
      const arm = (): void => {
        const at = EpochMs.unsafe(next);
        next += ms;
        this.timers[slot] = this.clock.setTimer(at, () => {
          if (!this.running) return;
          if (!queued) {
            queued = true;
            void this.queue.push(async () => {
              queued = false;
              await fn();
            });
          }
          arm();
        });
      };
      arm();
    };
    every(
      this.config.reconcileIntervalMs,
      async () => {
        if (this.deps.watchStore) await this.registry.sync();
        await this.reconciliation.reconcileNow('interval');
      },
      1_237,
    );
    if (this.rules.length > 0) every(this.config.ruleIntervalMs, () => this.exits.evaluateRules(), 0);
  }

  // ---------------------------------------------------------------- trading state

  /** The account's trading state, as the gate is given it: HALTED holds every order, REDUCING and ACTIVE send closes. */
  get tradingState(): TradingState {
    return this.trading;
  }

  /**
   * Takes the trading state the operator set (`legguard halt` / `reduce-only` / `resume`, read from the store):
   * journaled and alerted (a warning on HALTED, info otherwise). HALTED asks the broker to cancel every working order
   * and holds every planned one (the sender); leaving HALTED sends what was held. The same state again does nothing.
   */
  setTradingState(set: TradingStateRecord): Promise<void> {
    return this.queue.push(async () => {
      const from = this.trading;
      if (set.state === from) return;
      this.trading = set.state;
      const change = tradingStateChange(this.account, from, set, this.clock.now());
      await this.commit({ journal: [change.journal], alerts: [change.alert] });
      this.emit({ kind: 'note', at: change.alert.at, strategyId: null, text: change.text });
      this.log(set.state === 'HALTED' ? 'warn' : 'info', change.text);
      this.raise([change.alert]);
      if (set.state === 'HALTED') {
        for (const id of this.strategies.keys()) this.closer.cancelWorking(id, 'trading HALTED');
      } else if (from === 'HALTED') {
        await this.closer.resumeAll(`trading ${set.state}`);
      }
    });
  }

  // ---------------------------------------------------------------- strategies

  /**
   * Guards a new strategy: it waits PENDING, holding nothing, until a reconciliation finds every leg at the broker
   * (then it holds them and is OPEN); a leg the broker does not show is reported, never detected.
   */
  async addStrategy(def: StrategyDefinition): Promise<void> {
    await this.queue.push(() => this.registry.add(def));
  }

  private record(rt: StrategyRuntime): StrategyRecord {
    return strategyRecord(this.book, rt);
  }

  /** Moves a strategy through its state machine, returning the state change to commit. */
  private move(rt: StrategyRuntime, t: StrategyTransition, reason: string): StateChange | null {
    return moveStrategy(this, rt, t, reason);
  }

  // ---------------------------------------------------------------- store and alerts

  private async commit(batch: Omit<StoreBatch, 'account'>): Promise<void> {
    await this.deps.store.commit({ account: this.account, ...batch });
  }

  private journal(type: JournalEntry['type'], key: string, data: unknown, strategyId: StrategyId | null = null, incidentId: IncidentId | null = null): JournalEntry {
    return journalEntry(this, type, key, data, strategyId, incidentId);
  }

  private makeAlert(
    severity: Severity,
    key: string,
    title: string,
    text: string,
    strategyId: StrategyId | null,
    incidentId: IncidentId | null,
    facts: Record<string, string | number | boolean | null> = {},
  ): Alert {
    return makeAlert(this, severity, key, title, text, strategyId, incidentId, facts);
  }

  /**
   * The narrow view the closer and the pending adopter have of the engine (engine-host.ts). The gate's trading state
   * is the operator's (setTradingState).
   */
  private host(): EngineHost {
    return {
      clock: this.deps.clock,
      config: this.deps.config,
      account: this.deps.account,
      broker: this.deps.broker,
      book: this.book,
      tracker: this.tracker,
      strategies: this.strategies,
      isConnected: () => this.connected,
      tradingState: () => this.trading,
      brokerQty: (key) => this.brokerQty(key),
      priceOf: (c) => this.market.priceOf(c),
      quotesFor: (cs) => this.market.quotesFor(cs),
      applyOwnExecution: (id, contract, qty) => this.book.apply(id, contract, qty),
      commit: (batch) => this.commit(batch),
      emit: (entry) => this.emit(entry),
      raise: (alerts) => this.raise(alerts),
      log: (level, message, fields) => this.log(level, message, fields),
      enqueue: (step) => this.enqueue(step),
      crashPoint: (point: CrashPoint) => this.deps.crashPoint?.(point),
    };
  }

  /** Hands committed alerts to the alerts port and the timeline. */
  private raise(alerts: readonly Alert[]): void {
    for (const a of alerts) {
      this.emit({ kind: 'alert', at: a.at, alert: a });
      this.deps.alerts.raise(a);
    }
  }

  // ---------------------------------------------------------------- broker events

  private onBrokerEvent(e: BrokerEvent): void {
    const perf = this.clock.perf();
    void this.queue.push(() => this.handle(e, perf));
  }

  /** Handles one broker event; `perf` is the real time it reached the guard. */
  async handle(e: BrokerEvent, perf: number): Promise<void> {
    if (e.kind === 'position') {
      const known = this.brokerPositions.get(contractKey(e.contract));
      // A report older than what a reconciliation already saw (it waited in the queue behind the snapshot) would
      // put back a position that is gone: skip it.
      if (known && e.tsEvent < known.at) return;
      if (known?.qty !== e.qty) this.emit({ kind: 'broker-event', at: this.clock.now(), event: e });
    } else if (e.kind !== 'quote') {
      this.emit({ kind: 'broker-event', at: this.clock.now(), event: e });
    }
    switch (e.kind) {
      case 'position': {
        this.notePosition(e);
        await this.detector.examine([contractKey(e.contract)], perf);
        return;
      }
      case 'execution':
        await this.onExecution(e, perf);
        return;
      case 'order-status':
        await this.onOrderStatus(e);
        return;
      case 'connection':
        await this.onConnection(e.state, e.dataLost, e.reason);
        return;
      case 'quote':
        this.market.onQuote(e);
        return;
      case 'commission':
      case 'notice':
        await this.commit({ journal: [this.journal('broker-event', `${e.kind}:${e.kind === 'commission' ? e.execId : `${e.code}:${e.tsEvent}`}`, e)] });
        if (e.kind === 'notice') await this.closer.onNotice(e);
        return;
    }
  }

  private notePosition(e: PositionReport): void {
    this.brokerPositions.set(contractKey(e.contract), { contract: e.contract, qty: e.qty, at: e.tsEvent });
  }

  private brokerQty(key: ContractKey): Qty {
    return this.brokerPositions.get(key)?.qty ?? Qty.zero;
  }

  private async onExecution(e: ExecutionReport, perf: number): Promise<void> {
    if (!this.tracker.firstSight(e.execId)) return;
    const key = contractKey(e.contract);
    const own = isLegguardRef(e.orderRef) ? (this.tracker.get(e.orderRef!) ?? (await this.orderFromStore(e.orderRef!))) : undefined;
    if (own) {
      await this.closer.applyOwnFill(own, e);
    } else {
      if (isLegguardRef(e.orderRef)) {
        this.log('warn', `execution ${e.execId} carries legguard ref ${e.orderRef} that neither this guard nor its store knows`);
      }
      this.detector.addForeign(e);
      await this.commit({ journal: [this.journal('broker-event', `exec:${e.execId}`, e)] });
    }
    await this.detector.examine([key], perf);
  }

  /**
   * An order the store has but the tracker does not: one that ended (filled, say) before a restart, whose last
   * executions arrive only now. Loaded so the fill is applied as the guard's own, never taken for a manual trade.
   */
  private async orderFromStore(ref: OrderRef): Promise<TrackedOrder | undefined> {
    const parsed = parseOrderRef(ref);
    if (!parsed || !this.strategies.has(parsed.strategyId as StrategyId)) return undefined;
    const rows = await this.deps.store.orders({ account: this.account, strategyId: parsed.strategyId as StrategyId });
    const row = rows.find((r) => r.request.ref === ref);
    if (!row) return undefined;
    const o = OrderTracker.fromRecord(row, this.clock.now());
    // Its earlier fills are in the book already: count them as applied, so only the new execution moves it.
    for (const leg of o.request.legs) o.legFilled.set(contractKey(leg.contract), legEffect(leg, o.filledUnits));
    this.tracker.add(o);
    return o;
  }

  private async onOrderStatus(e: OrderStatusReport): Promise<void> {
    const o = this.tracker.byOrderId(e.orderId) ?? (e.orderRef ? this.tracker.get(e.orderRef) : undefined);
    if (!o) {
      if (isLegguardRef(e.orderRef)) this.log('warn', `status for unknown legguard order ${e.orderRef}`);
      return;
    }
    await this.closer.onStatus(o, e);
  }

  private async onConnection(state: 'connected' | 'disconnected', dataLost: boolean, reason: string | null): Promise<void> {
    const at = this.clock.now();
    if (state === 'disconnected') {
      this.connected = false;
      this.emit({ kind: 'note', at, strategyId: null, text: `broker disconnected${reason ? `: ${reason}` : ''}` });
      await this.commit({ journal: [this.journal('note', `conn:${at}:down`, { state, reason })] });
      return;
    }
    const was = this.connected;
    this.connected = true;
    this.emit({ kind: 'note', at, strategyId: null, text: `broker connected${dataLost ? ' (data lost)' : ''}` });
    if (!was || dataLost) {
      await this.reconciliation.reconcileNow('reconnect');
      await this.closer.resumeAll('reconnect');
    }
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Reconciles with the broker now (start, reconnect and the interval do it on their own; the bench calls it). */
  reconcileNow(reason: string): Promise<void> {
    return this.reconciliation.reconcileNow(reason);
  }

  // ---------------------------------------------------------------- views

  holdingsOf(id: StrategyId): readonly Holding[] {
    return this.book.holdings(id);
  }

  openOrderCount(): number {
    let n = 0;
    for (const o of this.tracker.all()) if (isOpenStatus(o.status)) n++;
    return n;
  }

}
