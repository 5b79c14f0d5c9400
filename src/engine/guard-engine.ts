import { Book, type Holding } from '../core/book.js';
import { contractKey, type Contract } from '../core/contract.js';
import type { Quote } from '../ports/broker.js';
import { LegguardError } from '../core/errors.js';
import type { BrokerEvent } from '../core/events.js';
import type { AccountId, ContractKey, StrategyId } from '../core/ids.js';
import { EpochMs, Qty } from '../core/quantity.js';
import type { StrategyDefinition } from '../core/strategy.js';
import type { Rule } from '../core/rules/rule.js';
import { timeExitRule } from '../core/rules/time-exit.js';
import type { Alert } from '../ports/alerts.js';
import { LinkWatch } from './link-watch.js';
import { NO_RISK_INPUTS, riskRules } from './risk-rules.js';
import type { Clock, TimerHandle } from '../ports/clock.js';
import type { TradingStateRecord } from '../ports/store.js';
import type { TradingState } from '../core/gate.js';
import { tradingStateChange } from './trading-state-change.js';
import { Closer } from './closer.js';
import type { GuardConfig } from './guard-config.js';
import { OrderTracker, isOpenStatus } from './order-tracker.js';
import { PendingAdopter } from './pending-adopter.js';
import { SerialQueue } from './serial-queue.js';
import { RulePasses } from './rule-passes.js';
import { RuleTriggers } from './rule-triggers.js';
import { UnderlyingRefresh } from './underlying-refresh.js';
import { mergeDividends } from '../core/dividends.js';
import { BreakHandler } from './break-handler.js';
import { NormalExit } from './normal-exit.js';
import { ChangeDetector } from './change-detector.js';
import { NewPositions } from './new-positions.js';
import { ReconciliationStep } from './reconciliation-step.js';
import { MarketData } from './market-data.js';
import { StrategyRegistry } from './strategy-registry.js';
import { BrokerEvents } from './broker-events.js';
import { armIntervals } from './engine-intervals.js';
import { StepIsolation, stopsTheGuard } from './step-isolation.js';
import { GroupCommit, type EngineBatch } from './group-commit.js';
import { IncidentCosts } from './incident-costs.js';
import type { GuardEngineDeps } from './guard-engine-deps.js';
import {
  journalEntry,
  makeAlert,
  moveStrategy,
  strategyRecord,
  type CrashPoint,
  type EngineContext,
  type EngineHost,
  type LogLevel,
  type StrategyRuntime,
} from './engine-host.js';

export type { ClosingState, CrashPoint, LogLevel, Logger, StrategyRuntime } from './engine-host.js';
import type { TimelineEntry, TimelineListener } from './timeline.js';

export type { GuardEngineDeps } from './guard-engine-deps.js';

/** How far before the execution cursor a restarted guard looks for executions it already journaled. */
const KNOWN_EXECUTIONS_LOOKBACK_MS = 86_400_000;

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
  /** What the engine decides while draining its queue, written in one transaction (group-commit.ts). */
  readonly group: GroupCommit;
  private readonly closer: Closer;
  private readonly adopter: PendingAdopter;
  private readonly breaks: BreakHandler;
  private readonly exits: NormalExit;
  private readonly detector: ChangeDetector;
  private readonly newPositions: NewPositions;
  private readonly reconciliation: ReconciliationStep;
  private readonly registry: StrategyRegistry;
  private readonly events: BrokerEvents;
  private readonly link: LinkWatch;
  private readonly isolation: StepIsolation;
  private readonly listeners: TimelineListener[] = [];
  /** What each incident costs (incident-costs.ts). */
  readonly costs: IncidentCosts;
  private readonly timers: TimerHandle[] = [];
  private readonly rules: readonly Rule[];
  private readonly passes: RulePasses;
  private readonly triggers: RuleTriggers;
  private readonly refresh: UnderlyingRefresh;
  private unsubscribe: (() => void) | null = null;
  private running = false;
  private fatal: unknown = null;
  private trading: TradingState = 'ACTIVE';

  constructor(readonly deps: GuardEngineDeps) {
    this.group = new GroupCommit(
      (batch) => {
        const epoch = this.deps.epoch;
        return this.deps.store.commit({ account: this.account, ...batch, ...(epoch === undefined ? {} : { epoch }) });
      },
      (batch, e) =>
        this.log('error', `a store batch was given up after failing on its own: ${e instanceof Error ? e.message : String(e)}; its orders are not sent`, {
          orders: (batch.orders ?? []).map((o) => o.request.ref),
        }),
    );
    this.queue = new SerialQueue(
      (e) => this.onStepError(e),
      async () => {
        this.market.endBurst();
        await this.group.flush();
      },
    );
    this.market = new MarketData(
      deps.broker,
      (level, message) => this.log(level, message),
      (symbol) => this.triggers.changed(symbol),
    );
    // The early-assignment rules price with the dividends stated (config, scenario) and those the broker announced.
    const inputs = deps.riskInputs ?? NO_RISK_INPUTS;
    const withBroker = { ...inputs, dividends: (symbol: string) => mergeDividends(inputs.dividends(symbol), this.market.dividendsOf(symbol)) };
    this.rules = deps.rules ?? [...(deps.config.timeExitDte === null ? [] : [timeExitRule(deps.config.timeExitDte)]), ...riskRules(deps.config, withBroker)];
    this.triggers = new RuleTriggers({
      clock: deps.clock,
      gapMs: deps.config.ruleTriggerMs,
      isRunning: () => this.running && this.rules.length > 0,
      fire: (symbols) => void this.requestPass(this.strategiesOn(symbols)),
    });
    this.refresh = new UnderlyingRefresh({
      symbols: () => (this.events.connected ? this.guardedSymbols() : []),
      fetch: (symbol) => this.market.fetchUnderlying(symbol),
      apply: (u) => this.queue.push(() => this.market.applyUnderlying(u)),
    });
    this.costs = new IncidentCosts({
      quote: (c) => this.market.quotes.get(contractKey(c)) ?? null,
      holdings: (id) => this.book.holdings(id),
      journal: (type, key, data, strategyId, incidentId) => journalEntry(this, type, key, data, strategyId, incidentId),
      commit: (batch) => this.commit(batch),
      fetchQuotes: (contracts) => this.market.quotesFor(contracts, this.clock.now()),
      enqueue: (step) => (this.running ? this.enqueue(step) : Promise.resolve()),
      now: () => this.clock.now(),
      log: (level, message) => this.log(level, message),
    });
    this.isolation = new StepIsolation({
      log: (level, message, fields) => this.log(level, message, fields),
      makeAlert: (severity, key, title, text, strategyId, incidentId, facts) => makeAlert(this, severity, key, title, text, strategyId, incidentId, facts),
      commit: (batch) => this.commit(batch),
      raise: (alerts) => this.raise(alerts),
      incidentOf: (id) => this.strategies.get(id)?.incidentId ?? null,
    });
    const host = this.host();
    this.closer = new Closer(host);
    this.adopter = new PendingAdopter({ ...host, book: this.book, brokerPositions: this.brokerPositions });
    const ctx: EngineContext = {
      ...host,
      book: this.book,
      strategies: this.strategies,
      quotes: this.market.quotes,
      underlyingPrices: this.market.underlyingPrices,
      journal: (type, key, data, strategyId, incidentId) => journalEntry(this, type, key, data, strategyId ?? null, incidentId ?? null),
      makeAlert: (severity, key, title, text, strategyId, incidentId, facts) => makeAlert(this, severity, key, title, text, strategyId, incidentId, facts ?? {}),
      move: (rt, t, reason) => moveStrategy(this, rt, t, reason),
      record: (rt) => strategyRecord(this.book, rt),
      brokerPositions: this.brokerPositions,
      refreshUnderlying: (symbol) => this.market.refreshUnderlying(symbol),
      prefetchQuotes: (contracts) => void this.market.prefetch(contracts, this.clock.now()),
      isRunning: () => this.running,
    };
    this.link = new LinkWatch(ctx);
    this.breaks = new BreakHandler(ctx, this.closer);
    this.exits = new NormalExit(ctx, this.closer, this.rules);
    this.passes = new RulePasses(
      {
        strategyIds: () => this.strategies.keys(),
        // A slice still queued when the engine stops decides nothing.
        evaluate: (ids) => (this.running ? this.exits.evaluateRules(ids) : Promise.resolve()),
        enqueueRule: (step) => this.queue.push(step, 'rule'),
      },
      deps.ruleSlice,
    );
    this.registry = new StrategyRegistry(ctx, deps.store);
    this.newPositions = new NewPositions(ctx, { add: (def) => this.registry.add(def), adoptPending: () => this.adopter.adoptPending() });
    this.detector = new ChangeDetector(ctx, this.breaks, (outside, executions) => this.newPositions.afterDetection(outside, executions));
    this.reconciliation = new ReconciliationStep(ctx, {
      broker: deps.broker,
      store: deps.store,
      brokerPositions: this.brokerPositions,
      closer: this.closer,
      detector: this.detector,
      adopter: this.adopter,
      orderFromStore: (ref) => this.events.orderFromStore(ref),
    });
    this.events = new BrokerEvents(ctx, {
      store: deps.store,
      brokerPositions: this.brokerPositions,
      closer: this.closer,
      detector: this.detector,
      reconciliation: () => this.reconciliation,
      market: this.market,
      link: this.link,
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
    this.costs.observe(entry);
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
    // The cost of each incident still being handled, as the journal kept it (a close that ended is in its note).
    await this.costs.restore(
      this.deps.store,
      this.account,
      loaded.strategies.flatMap((r) => {
        const incidentId = this.strategies.get(r.definition.id)?.incidentId ?? null;
        return incidentId !== null && r.state !== 'CLOSED' && r.state !== 'OPEN' && r.state !== 'PENDING' ? [{ incidentId, strategyId: r.definition.id }] : [];
      }),
    );
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
    this.events.connected = this.deps.broker.isConnected();
    await this.queue.push(() => this.reconciliation.reconcileNow('start'));
    await this.queue.push(() => this.closer.resumeAll('start'));
    this.armIntervals();
    // Prices and broker dividends come in the background; a change among them asks for a pass on its symbol.
    if (this.rules.length > 0) void this.refresh.start();
    await this.evaluateRules();
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.timers) t.cancel();
    this.timers.length = 0;
    this.detector.stop();
    this.newPositions.stop();
    this.triggers.stop();
    this.reconciliation.stop();
    this.closer.stop();
    this.link.stop();
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.queue.idle();
  }

  /** Resolves when every queued step (events, timers that fired, commits, rule slices) is done, and the refresh of
   * underlyings under way has ended. */
  async idle(): Promise<void> {
    for (;;) {
      await this.queue.idle();
      const r = this.refresh.pending;
      if (r) await r;
      else if (this.costs.busy) await this.costs.settled();
      else if (this.queue.size === 0) return;
    }
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
    if (stopsTheGuard(e)) {
      // Crash-only: a broken invariant outside every strategy's isolated part stops the guard; a restart reconciles.
      const first = this.fatal === null;
      this.fatal ??= e;
      this.running = false;
      if (first) this.deps.onFatal?.(e);
    }
  }

  /** The first periodic runs are offset from the round interval: broker events (and scenario scripts) tend to fall
   * on whole seconds, and a periodic reconciliation landing on the same instant would find a change before its live
   * event. */
  private armIntervals(): void {
    armIntervals(
      { clock: this.clock, isRunning: () => this.running, enqueue: (step) => this.queue.push(step) },
      this.timers,
      [
        {
          everyMs: this.config.reconcileIntervalMs,
          phaseMs: 1_237,
          run: async () => {
            if (this.deps.watchStore) {
              // The registry compares the store with what the guard holds: what this guard decided must be in it.
              await this.group.flush();
              await this.registry.sync();
            }
            await this.reconciliation.reconcileNow('interval');
          },
        },
        // The pass itself runs in slices in the rule lane (rule-passes.ts): this step only asks for it.
        ...(this.rules.length > 0 ? [{ everyMs: this.config.ruleIntervalMs, phaseMs: 0, run: () => this.requestPass('all') }] : []),
        ...(this.rules.length > 0
          ? [
              {
                everyMs: this.config.underlyingRefreshMs,
                phaseMs: 2_311,
                run: () => {
                  void this.refresh.start();
                  return Promise.resolve();
                },
              },
            ]
          : []),
      ],
    );
  }

  /**
   * A rule pass over every strategy, in slices behind any broker event (rule-passes.ts); resolves when it has ended.
   * The interval and start-up ask for one; so can a caller (the bench).
   */
  evaluateRules(): Promise<void> {
    if (this.rules.length === 0) return Promise.resolve();
    return this.passes.request('all');
  }

  private requestPass(scope: 'all' | readonly StrategyId[]): Promise<void> {
    if (scope !== 'all' && scope.length === 0) return Promise.resolve();
    void this.passes.request(scope);
    return Promise.resolve();
  }

  /** OPEN strategies with a leg on one of `symbols`, in the engine's order. */
  private strategiesOn(symbols: ReadonlySet<string>): StrategyId[] {
    const out: StrategyId[] = [];
    for (const rt of this.strategies.values()) {
      if (rt.state === 'OPEN' && rt.def.legs.some((l) => symbols.has(l.contract.symbol))) out.push(rt.def.id);
    }
    return out;
  }

  /** The underlyings of every strategy the rules may look at (OPEN, or PENDING until its legs are found), sorted. */
  private guardedSymbols(): string[] {
    const out = new Set<string>();
    for (const rt of this.strategies.values()) {
      if (rt.state === 'OPEN' || rt.state === 'PENDING') for (const l of rt.def.legs) out.add(l.contract.symbol);
    }
    return [...out].sort();
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

  // ---------------------------------------------------------------- store and alerts

  /** Group commit: held until the queue drains or something is about to go to the broker (group-commit.ts). */
  private commit(batch: EngineBatch): Promise<void> {
    return this.group.add(batch);
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
      isConnected: () => this.events.connected,
      tradingState: () => this.trading,
      brokerQty: (key) => this.brokerQty(key),
      priceOf: (c) => this.market.priceOf(c),
      quotesFor: (cs) => this.market.quotesFor(cs, this.clock.now()),
      applyOwnExecution: (id, contract, qty) => this.book.apply(id, contract, qty),
      commit: (batch) => this.commit(batch),
      writeAhead: () => this.group.flush(),
      isUnwritten: (ref) => this.group.isUnwritten(ref),
      emit: (entry) => this.emit(entry),
      raise: (alerts) => this.raise(alerts),
      costs: this.costs,
      log: (level, message, fields) => this.log(level, message, fields),
      enqueue: (step) => this.enqueue(step),
      isolated: (id, what, step) => this.isolation.run(id, what, step),
      crashPoint: (point: CrashPoint) => {
        const hook = this.deps.crashPoint;
        if (hook) this.group.afterFlush(() => hook(point));
      },
    };
  }

  /** Hands committed alerts to the alerts port and the timeline, once the group commit holding them is written. */
  private raise(alerts: readonly Alert[]): void {
    if (alerts.length === 0) return;
    this.group.afterFlush(() => {
      for (const a of alerts) {
        this.emit({ kind: 'alert', at: a.at, alert: a });
        this.deps.alerts.raise(a);
      }
    });
  }

  // ---------------------------------------------------------------- broker events

  private onBrokerEvent(e: BrokerEvent): void {
    const perf = this.clock.perf();
    void this.queue.push(() => this.handle(e, perf));
  }

  /** Handles one broker event (broker-events.ts); `perf` is the real time it reached the guard. */
  handle(e: BrokerEvent, perf: number): Promise<void> {
    return this.events.handle(e, perf);
  }

  private brokerQty(key: ContractKey): Qty {
    return this.brokerPositions.get(key)?.qty ?? Qty.zero;
  }

  get isConnected(): boolean {
    return this.events.connected;
  }

  /** Reconciles with the broker now (start, reconnect and the interval do it on their own; the bench calls it). */
  reconcileNow(reason: string): Promise<void> {
    return this.reconciliation.reconcileNow(reason);
  }

  // ---------------------------------------------------------------- views

  /** The last quote the guard has for a contract (streamed or asked for a plan), or null. */
  quoteOf(c: Contract): Quote | null {
    return this.market.quotes.get(contractKey(c)) ?? null;
  }

  /** The underlying's last price the guard saw, or null. */
  underlyingPrice(symbol: string): number | null {
    return this.market.underlyingPrices.get(symbol) ?? null;
  }

  holdingsOf(id: StrategyId): readonly Holding[] {
    return this.book.holdings(id);
  }

  openOrderCount(): number {
    let n = 0;
    for (const o of this.tracker.all()) if (isOpenStatus(o.status)) n++;
    return n;
  }

}
