import { Book, type Holding } from '../core/book.js';
import { contractKey, describeContract, isOption, type Contract } from '../core/contract.js';
import type { Decision } from '../core/decision.js';
import { joinReasons, type BreakCause, type Detection } from '../core/detection.js';
import { detect } from '../core/detector.js';
import { LegguardError } from '../core/errors.js';
import type { TradingState } from '../core/gate.js';
import type { BrokerEvent, ExecutionReport, OrderStatusReport, PositionReport } from '../core/events.js';
import type { AccountId, ContractKey, IncidentId, OrderRef, StrategyId } from '../core/ids.js';
import { isLegguardRef, legEffect, parseOrderRef } from '../core/order.js';
import { reconcile } from '../core/reconcile.js';
import { EpochMs, Qty, type Price } from '../core/quantity.js';
import type { BreakPolicy, BrokenInfo, StrategyDefinition } from '../core/strategy.js';
import { transition, type StrategyState, type StrategyTransition } from '../core/strategy-state.js';
import { evaluateRules, type Rule } from '../core/rules/rule.js';
import { expiryClose } from '../core/calendar.js';
import { nakedShorts } from '../core/naked-shorts.js';
import { plannedAssignment, type PlanCompleted } from '../core/planned-assignment.js';
import { timeExitRule } from '../core/rules/time-exit.js';
import type { Alert, AlertsPort, Severity } from '../ports/alerts.js';
import type { BrokerPort, BrokerSnapshot, Quote } from '../ports/broker.js';
import type { Clock, TimerHandle } from '../ports/clock.js';
import type { Cursor, JournalEntry, OrderRecord, StateChange, StoreBatch, StorePort, StrategyRecord, TradingStateRecord } from '../ports/store.js';
import { Closer } from './closer.js';
import { policyFor, type GuardConfig } from './guard-config.js';
import { CAUSE_TITLE, describeHoldings, incidentIdFor, legFacts, primaryDetection, signed } from './incident.js';
import { OrderTracker, isOpenStatus, type TrackedOrder } from './order-tracker.js';
import { planMessages } from './plan-completed.js';
import { PendingAdopter } from './pending-adopter.js';
import { SerialQueue } from './serial-queue.js';
import type { TimelineEntry, TimelineListener } from './timeline.js';
import { tradingStateChange } from './trading-state-change.js';

/** How far before the execution cursor a restarted guard looks for executions it already journaled. */
const KNOWN_EXECUTIONS_LOOKBACK_MS = 86_400_000;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

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

/** Where a crash drill may stop the guard: after the write-ahead commit, after an order went out, after a fill. */
export type CrashPoint = 'decision-committed' | 'order-sent' | 'fill-applied';

/** One guarded strategy at run time. */
export interface StrategyRuntime {
  readonly def: StrategyDefinition;
  state: StrategyState;
  broken: BrokenInfo | null;
  /** The incident being handled; null while nothing is wrong. */
  incidentId: IncidentId | null;
  closing: ClosingState | null;
  updatedAt: EpochMs;
}

export interface ClosingState {
  readonly purpose: 'emergency' | 'normal';
  readonly mode: 'close' | 'hedge';
  /** The incident (or `exit-<time>` for an ordinary exit) the orders' refs are derived from. */
  readonly incidentKey: string;
  /** Plan revisions so far; each re-plan after a reject or a price step makes new, deterministic refs. */
  revision: number;
  rejects: number;
  walkStep: number;
  /** Real time (perf) at which the broker event that started this close reached the guard; null once reported. */
  latencyFrom: { perf: number; brokerAt: EpochMs; detectedAt: EpochMs; cause: string } | null;
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
  readonly quotes = new Map<ContractKey, Quote>();
  readonly underlyingPrices = new Map<string, number>();

  private readonly queue: SerialQueue;
  private readonly closer: Closer;
  private readonly adopter: PendingAdopter;
  private readonly listeners: TimelineListener[] = [];
  private readonly pending = new Map<ContractKey, EpochMs>();
  private readonly foreign = new Map<ContractKey, ExecutionReport[]>();
  private readonly recheckTimers = new Map<number, TimerHandle>();
  private readonly timers: TimerHandle[] = [];
  private readonly rules: readonly Rule[];
  private unsubscribe: (() => void) | null = null;
  private cursor: Cursor = { lastExecutionAt: null, lastExecId: null, lastReconciledAt: null };
  private connected = false;
  private lastRecordedReconcile = Number.NEGATIVE_INFINITY;
  private reconcileRetry: TimerHandle | null = null;
  private reconcileRetries = 0;
  private running = false;
  private fatal: unknown = null;
  private trading: TradingState = 'ACTIVE';

  constructor(readonly deps: GuardEngineDeps) {
    this.queue = new SerialQueue((e) => this.onStepError(e));
    this.rules = deps.rules ?? (deps.config.timeExitDte === null ? [] : [timeExitRule(deps.config.timeExitDte)]);
    this.closer = new Closer(this);
    this.adopter = new PendingAdopter(this);
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
    this.cursor = loaded.cursor;
    this.trading = (await this.deps.store.tradingState(this.account)).state;
    if (this.trading !== 'ACTIVE') this.emit({ kind: 'note', at: this.clock.now(), strategyId: null, text: `trading is ${this.trading} (set in the store)` });
    for (const r of loaded.strategies) this.adopt(r);
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
    await this.queue.push(() => this.reconcileNow('start'));
    await this.queue.push(() => this.closer.resumeAll('start'));
    this.armIntervals();
    await this.queue.push(() => this.evaluateRules());
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.timers) t.cancel();
    this.timers.length = 0;
    for (const t of this.recheckTimers.values()) t.cancel();
    this.recheckTimers.clear();
    this.reconcileRetry?.cancel();
    this.reconcileRetry = null;
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
        if (this.deps.watchStore) await this.syncStrategies();
        await this.reconcileNow('interval');
      },
      1_237,
    );
    if (this.rules.length > 0) every(this.config.ruleIntervalMs, () => this.evaluateRules(), 0);
  }

  // ---------------------------------------------------------------- trading state

  /** The account's trading state, as the gate is given it: HALTED holds every order, REDUCING and ACTIVE send closes. */
  get tradingState(): TradingState {
    return this.trading;
  }

  /**
   * Takes the trading state the operator set (`legguard halt` / `reduce-only` / `resume`, read from the store):
   * journaled and alerted (a warning on HALTED, info otherwise). HALTED asks the broker to cancel every working order
   * and holds every planned one (the closer's send); leaving HALTED sends what was held. The same state again does
   * nothing.
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

  private adopt(r: StrategyRecord): void {
    const id = r.definition.id;
    this.book.addStrategy(id, r.definition.createdAt);
    for (const h of r.holdings) this.book.set(id, h.contract, h.qty);
    this.strategies.set(id, {
      def: r.definition,
      state: r.state,
      broken: r.broken,
      incidentId: r.broken?.incidentId ?? null,
      closing: null,
      updatedAt: r.updatedAt,
    });
  }

  /**
   * Guards a new strategy: it waits PENDING, holding nothing, until a reconciliation finds every leg at the broker
   * (then it holds them and is OPEN); a leg the broker does not show is reported, never detected.
   */
  async addStrategy(def: StrategyDefinition): Promise<void> {
    await this.queue.push(async () => {
      if (this.strategies.has(def.id)) {
        throw new LegguardError('INVALID_INPUT', `strategy ${def.id} is already guarded`, { strategyId: def.id });
      }
      this.book.addStrategy(def.id, def.createdAt);
      const now = this.clock.now();
      const rt: StrategyRuntime = { def, state: 'PENDING', broken: null, incidentId: null, closing: null, updatedAt: now };
      this.strategies.set(def.id, rt);
      await this.commit({
        strategies: [this.record(rt)],
        stateChanges: [{ strategyId: def.id, from: null, to: 'PENDING', at: now, reason: 'guarded', incidentId: null }],
      });
      this.emit({ kind: 'state', at: now, strategyId: def.id, from: null, to: 'PENDING', reason: 'guarded' });
    });
  }

  /**
   * Strategies added to the store by `legguard strategies add` while the guard runs are adopted (PENDING until the
   * reconciliation that follows finds their legs at the broker); strategies removed from it are dropped, their
   * holdings passing to the outside so the book still adds up to the broker. A strategy in an incident is never
   * dropped. A PENDING strategy replaced in the store (a typo fixed with `--replace`) waits with its new legs.
   */
  async syncStrategies(): Promise<void> {
    const records = await this.deps.store.listStrategies(this.account);
    const inStore = new Set<string>();
    for (const r of records) {
      inStore.add(r.definition.id);
      const known = this.strategies.get(r.definition.id);
      if (known?.state === 'PENDING' && r.state === 'PENDING' && JSON.stringify(known.def) !== JSON.stringify(r.definition)) {
        // It holds nothing, so nothing moves in the book but its rank.
        this.book.removeStrategy(r.definition.id);
        this.adopt(r);
        this.emit({ kind: 'note', at: this.clock.now(), strategyId: r.definition.id, text: 'replaced in the store while waiting for its legs: waits with the new ones' });
        continue;
      }
      if (!known && r.state !== 'CLOSED') {
        this.adopt(r);
        this.emit({ kind: 'note', at: this.clock.now(), strategyId: r.definition.id, text: 'now guarded (added to the store)' });
      }
    }
    for (const [id, rt] of this.strategies) {
      if (inStore.has(id) || rt.state === 'BROKEN' || rt.state === 'EMERGENCY_CLOSING' || rt.state === 'CLOSING') continue;
      for (const h of this.book.holdings(id)) {
        this.book.apply(id, h.contract, 0 - h.qty);
        this.book.apply(null, h.contract, h.qty);
      }
      this.book.removeStrategy(id);
      this.strategies.delete(id);
      this.emit({ kind: 'note', at: this.clock.now(), strategyId: id, text: 'no longer guarded (removed from the store); its positions count as outside any strategy' });
      await this.commit({ outside: this.book.holdings(null) });
    }
  }

  record(rt: StrategyRuntime): StrategyRecord {
    return {
      definition: rt.def,
      state: rt.state,
      broken: rt.broken,
      holdings: this.book.holdings(rt.def.id),
      updatedAt: rt.updatedAt,
    };
  }

  /** Moves a strategy through its state machine, returning the state change to commit. */
  move(rt: StrategyRuntime, t: StrategyTransition, reason: string): StateChange | null {
    const from = rt.state;
    const to = transition(from, t);
    if (to === from) return null;
    const at = this.clock.now();
    rt.state = to;
    rt.updatedAt = at;
    this.emit({ kind: 'state', at, strategyId: rt.def.id, from, to, reason });
    this.log(to === 'NEEDS_ATTENTION' || to === 'BROKEN' ? 'warn' : 'info', `${rt.def.id}: ${from} -> ${to}: ${reason}`);
    return { strategyId: rt.def.id, from, to, at, reason, incidentId: rt.incidentId };
  }

  // ---------------------------------------------------------------- store and alerts

  async commit(batch: Omit<StoreBatch, 'account'>): Promise<void> {
    await this.deps.store.commit({ account: this.account, ...batch });
  }

  journal(type: JournalEntry['type'], key: string, data: unknown, strategyId: StrategyId | null = null, incidentId: IncidentId | null = null): JournalEntry {
    return { key, at: this.clock.now(), type, account: this.account, strategyId, incidentId, data };
  }

  makeAlert(
    severity: Severity,
    key: string,
    title: string,
    text: string,
    strategyId: StrategyId | null,
    incidentId: IncidentId | null,
    facts: Record<string, string | number | boolean | null> = {},
  ): Alert {
    return { key, severity, incidentId, strategyId, title, text, at: this.clock.now(), facts };
  }

  /** Hands committed alerts to the alerts port and the timeline. */
  raise(alerts: readonly Alert[]): void {
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
        await this.examine([contractKey(e.contract)], perf);
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
        this.quotes.set(contractKey(e.contract), {
          contract: e.contract,
          bid: e.bid,
          ask: e.ask,
          last: e.last,
          underlying: null,
          at: e.tsEvent,
        });
        if (!isOption(e.contract)) {
          const mid = e.bid !== null && e.ask !== null ? (e.bid + e.ask) / 2 : e.last;
          if (mid !== null) this.underlyingPrices.set(e.contract.symbol, mid);
        }
        return;
      case 'commission':
      case 'notice':
        await this.commit({ journal: [this.journal('broker-event', `${e.kind}:${e.kind === 'commission' ? e.execId : `${e.code}:${e.tsEvent}`}`, e)] });
        return;
    }
  }

  private notePosition(e: PositionReport): void {
    this.brokerPositions.set(contractKey(e.contract), { contract: e.contract, qty: e.qty, at: e.tsEvent });
  }

  brokerQty(key: ContractKey): Qty {
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
      const list = this.foreign.get(key) ?? [];
      list.push(e);
      this.foreign.set(key, list);
      await this.commit({ journal: [this.journal('broker-event', `exec:${e.execId}`, e)] });
    }
    await this.examine([key], perf);
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
      await this.reconcileNow('reconnect');
      await this.closer.resumeAll('reconnect');
    }
  }

  get isConnected(): boolean {
    return this.connected;
  }

  // ---------------------------------------------------------------- detection

  /**
   * Compares the broker's positions in `keys` (and every change still pending) with the book; hands what the book
   * cannot explain to the detector; applies its detections; handles every strategy they touch.
   */
  async examine(keys: Iterable<ContractKey>, perf: number): Promise<void> {
    const now = this.clock.now();
    const candidates: { contract: Contract; brokerQty: Qty; brokerAt: EpochMs; firstSeenAt: EpochMs }[] = [];
    const seen = new Set<ContractKey>();
    const heldSymbols = new Set<string>();
    for (const key of [...keys, ...this.pending.keys()]) {
      if (seen.has(key)) continue;
      seen.add(key);
      const broker = this.brokerQty(key);
      const delta = broker - this.book.net(key);
      if (delta === 0) {
        this.pending.delete(key);
        continue;
      }
      const contract = this.brokerPositions.get(key)?.contract ?? this.book.contract(key);
      if (!contract) continue;
      const expired = isOption(contract) && now >= expiryClose(contract.expiry);
      if (!expired && this.tracker.recentlyActive(key, now, this.config.correlationWindowMs)) {
        // Our own order is working or just traded here: its executions explain the change. Look again when the
        // window closes, in case they do not.
        // Kept pending, so that the look when the window closes includes it; an order still working past its window
        // is looked at again a window later (not at once: the look would find it working and come straight back).
        const ends = this.tracker.windowEnds(key, this.config.correlationWindowMs);
        if (ends !== null) this.recheckAt(ends > now ? ends : EpochMs.unsafe(now + this.config.correlationWindowMs));
        if (!this.pending.has(key)) this.pending.set(key, now);
        heldSymbols.add(contract.symbol);
        continue;
      }
      const firstSeenAt = this.pending.get(key) ?? now;
      this.pending.set(key, firstSeenAt);
      candidates.push({ contract, brokerQty: broker, brokerAt: this.brokerPositions.get(key)?.at ?? now, firstSeenAt });
    }
    // An option and the stock it settles in are judged together: while a change of one contract of an underlying
    // waits for the guard's own executions, changes of the others wait with it. The stock of an assignment posted
    // seconds after the guard's own stock trade was held back while its option, judged alone after the pairing
    // window, was taken for a manual trade (and the shares for an unknown change nobody closed).
    const judged = candidates.filter((c) => !heldSymbols.has(c.contract.symbol));
    if (judged.length === 0) return;
    // At or after an expiry, in or out of the money decides expiration against settlement: ask the broker for the
    // underlying's price now rather than trust one seen days ago.
    const expiring = new Set<string>();
    for (const c of judged) if (isOption(c.contract) && now >= expiryClose(c.contract.expiry)) expiring.add(c.contract.symbol);
    for (const symbol of expiring) await this.refreshUnderlying(symbol);
    const foreign: ExecutionReport[] = [];
    for (const c of judged) foreign.push(...(this.foreign.get(contractKey(c.contract)) ?? []));
    const out = detect({
      book: this.book,
      changes: judged,
      foreignExecutions: foreign,
      now,
      pairingWindowMs: this.config.pairingWindowMs,
      underlyingPrice: (symbol: string) => this.underlyingPrices.get(symbol) ?? null,
    });
    if (out.recheckAt !== null) this.recheckAt(out.recheckAt);
    this.dropForeign(new Set(out.usedExecIds), now);
    if (out.detections.length === 0) return;

    const byStrategy = new Map<StrategyId, Detection[]>();
    const outside: Detection[] = [];
    for (const d of out.detections) {
      this.book.apply(d.strategyId, d.contract, d.change);
      if (d.strategyId === null) outside.push(d);
      else byStrategy.set(d.strategyId, [...(byStrategy.get(d.strategyId) ?? []), d]);
    }
    for (const c of judged) {
      const key = contractKey(c.contract);
      if (this.brokerQty(key) === this.book.net(key)) this.pending.delete(key);
    }
    if (outside.length > 0) {
      const entries = outside.map((d, i) => this.journal('detection', `det:outside:${now}:${contractKey(d.contract)}:${i}`, d));
      for (const d of outside) this.emit({ kind: 'detection', at: now, detection: d, incidentId: null });
      await this.commit({ journal: entries, outside: this.book.holdings(null) });
    }
    for (const [id, ds] of byStrategy) await this.onStrategyChanged(id, ds, perf);
  }

  /**
   * Forgets executions the detector used, and any older than the retention: an execution may arrive before its
   * position report (so it is kept until then), but one that explained nothing for a long while never will.
   */
  private dropForeign(used: ReadonlySet<string>, now: number): void {
    const keep = Math.max(60_000, 6 * this.config.correlationWindowMs);
    for (const [key, list] of this.foreign) {
      const rest = list.filter((x) => !used.has(x.execId) && now - x.tsInit < keep);
      if (rest.length === 0) this.foreign.delete(key);
      else if (rest.length !== list.length) this.foreign.set(key, rest);
    }
  }

  /**
   * A reconciliation the broker did not answer in time goes again soon: 5 s, then 10, 20 ... at most the periodic
   * interval, one retry pending at a time. Said on the timeline each time.
   */
  private retryReconcile(reason: string, why: string): void {
    const waitMs = Math.min(this.config.reconcileIntervalMs, 5_000 * 2 ** Math.min(this.reconcileRetries, 10));
    this.reconcileRetries++;
    const at = this.clock.now();
    this.emit({ kind: 'note', at, strategyId: null, text: `reconciliation (${reason}) timed out: ${why}; retrying in ${Math.round(waitMs / 1000)} s` });
    this.log('warn', `reconciliation (${reason}) timed out: ${why}; retrying in ${Math.round(waitMs / 1000)} s`);
    if (this.reconcileRetry) return;
    this.reconcileRetry = this.clock.setTimer(EpochMs.unsafe(at + waitMs), () => {
      this.reconcileRetry = null;
      if (!this.running) return;
      void this.queue.push(() => this.reconcileNow(`retry after timeout (${reason})`));
    });
  }

  private recheckAt(at: EpochMs): void {
    if (this.recheckTimers.has(at)) return;
    const t = this.clock.setTimer(at, () => {
      this.recheckTimers.delete(at);
      if (!this.running) return;
      const perf = this.clock.perf();
      void this.queue.push(() => this.examine([], perf));
    });
    this.recheckTimers.set(at, t);
  }

  /** A strategy's holdings changed for a reason that is not the guard's own order. */
  private async onStrategyChanged(id: StrategyId, ds: readonly Detection[], perf: number): Promise<void> {
    const rt = this.strategies.get(id);
    const now = this.clock.now();
    if (!rt) throw new LegguardError('INVARIANT_BROKEN', `detection for unknown strategy ${id}`, { strategyId: id });
    const primary = primaryDetection(ds);
    const cause = primary.cause as BreakCause;
    const changes: StateChange[] = [];
    const journal: JournalEntry[] = [];

    if (rt.state === 'CLOSED') {
      // Something moved on a contract of a strategy that is already done: tell a person, change nothing.
      const alert = this.makeAlert(
        'critical',
        `closed-changed:${id}:${now}`,
        `${CAUSE_TITLE[cause]} on closed strategy ${id}`,
        `${id} was CLOSED, yet its holdings changed: ${ds.map((d) => `${describeContract(d.contract)} ${signed(d.change)}`).join(', ')}. Holding now ${describeHoldings(this.book.holdings(id))}. No orders sent.`,
        id,
        null,
      );
      await this.commit({ strategies: [this.record(rt)], journal: ds.map((d, i) => this.journal('detection', `det:${id}:${now}:${i}`, d, id)), alerts: [alert] });
      this.raise([alert]);
      return;
    }

    const plan = rt.state === 'OPEN' || rt.state === 'CLOSING' ? plannedAssignment(rt.def.kind, ds, this.book.holdings(id), now) : null;
    // An ordinary close under way is dropped once the assignment leaves nothing; one that leaves legs goes on below.
    if (plan !== null && (rt.state === 'OPEN' || plan.keeps.length === 0)) {
      await this.completePlan(rt, ds, plan);
      return;
    }

    const incidentId = rt.incidentId ?? incidentIdFor(id, cause, primary.brokerAt);
    for (const [i, d] of ds.entries()) {
      this.emit({ kind: 'detection', at: now, detection: d, incidentId });
      journal.push(this.journal('detection', `det:${incidentId}:${contractKey(d.contract)}:${d.brokerAt}:${i}`, d, id, incidentId));
    }
    const remaining = this.book.holdings(id);
    const onlyExpiry = ds.every((d) => d.cause === 'expiration');

    if (remaining.length === 0) {
      // Nothing left at risk: every leg expired, or the assignment took exactly what the strategy held.
      if (!onlyExpiry && rt.broken === null) rt.broken = this.brokenInfo(primary, incidentId, ds);
      rt.incidentId = onlyExpiry ? rt.incidentId : incidentId;
      const wasIntact = rt.state === 'OPEN' || rt.state === 'CLOSING';
      const c = this.move(rt, 'flat', onlyExpiry ? (wasIntact ? 'every leg expired' : 'the rest expired worthless') : `${cause}: nothing left at risk`);
      if (c) changes.push(c);
      const cancelled = this.closer.cancelPlanned(id, 'strategy is flat');
      this.closer.cancelWorking(id, 'strategy is flat');
      const gone = ds.map((d) => `${signed(0 - d.change)} ${describeContract(d.contract)}`).join(', ');
      const alert = onlyExpiry
        ? this.makeAlert(
            'info',
            `expired:${id}:${primary.brokerAt}`,
            `EXPIRED: ${id}`,
            wasIntact
              ? `${id}: its options have all expired (the last: ${gone}). Nothing is left; no orders were needed; the strategy is CLOSED.`
              : `${id}: what was left (${gone}) expired worthless; the strategy is flat and CLOSED.`,
            id,
            wasIntact ? null : rt.incidentId,
            { strategyId: id, cause },
          )
        : this.makeAlert(
            'warning',
            `flat:${incidentId}`,
            `${CAUSE_TITLE[cause]}: ${describeContract(primary.contract)} x${Math.abs(primary.change)} on ${id}`,
            `${id}: ${this.describeChange(primary)}. Nothing is left at risk, so no orders were sent; the strategy is CLOSED.`,
            id,
            incidentId,
            { strategyId: id, cause, kind: primary.kind, qty: Math.abs(primary.change), ...legFacts(primary.contract), action: 'none: nothing left at risk' },
          );
      await this.commit({ strategies: [this.record(rt)], stateChanges: changes, journal, alerts: [alert], orders: cancelled });
      this.raise([alert]);
      return;
    }

    if (onlyExpiry && nakedShorts(remaining, now).length === 0) {
      // An expiry is an option's ordinary end. Legs of one expiry are reported one at a time, so what is left may be
      // the rest of the same expiry on its way; either way it risks nothing unbounded. Not a break.
      const text = `${ds.map((d) => `${signed(0 - d.change)} ${describeContract(d.contract)}`).join(', ')} expired; ${id} still holds ${describeHoldings(remaining)}`;
      this.emit({ kind: 'note', at: now, strategyId: id, text });
      await this.commit({ strategies: [this.record(rt)], journal: [...journal, this.journal('note', `expired:${id}:${primary.brokerAt}:${remaining.length}`, { text }, id, null)] });
      if (rt.state === 'EMERGENCY_CLOSING' || rt.state === 'CLOSING') await this.closer.settle(rt);
      return;
    }

    const firstBreak = rt.broken === null;
    if (firstBreak) rt.broken = this.brokenInfo(primary, incidentId, ds);
    rt.incidentId = incidentId;
    const policy: BreakPolicy = policyFor(this.config, cause, rt.def.policy);
    const broke = this.move(rt, 'broke', `${cause}: ${this.describeChange(primary)}`);
    if (broke) changes.push(broke);
    const decision = this.decisionFor(rt, policy, primary, incidentId);
    journal.push(this.journal('decision', `dec:${incidentId}:${now}`, decision, id, incidentId));
    this.emit({ kind: 'decision', at: now, decision });

    await this.closer.onBreak(rt, {
      policy,
      decision,
      incidentId,
      primary,
      detections: ds,
      changes,
      journal,
      firstBreak,
      latencyFrom: { perf, brokerAt: primary.brokerAt, detectedAt: now, cause },
    });
  }

  /**
   * A covered call called away, a cash-secured put's shares bought (core/planned-assignment.ts): no incident, no
   * orders, an info alert. Shares the strategy no longer needs pass to the account outside any strategy; it is CLOSED
   * once it holds nothing. What a partial assignment leaves becomes the strategy's legs, so it is still whole to the
   * checks an ordinary close makes later.
   */
  private async completePlan(rt: StrategyRuntime, ds: readonly Detection[], plan: PlanCompleted): Promise<void> {
    const id = rt.def.id;
    const now = this.clock.now();
    const brokerAt = primaryDetection(plan.assigned).brokerAt;
    for (const h of plan.handsOver) {
      this.book.apply(id, h.contract, 0 - h.qty);
      this.book.apply(null, h.contract, h.qty);
    }
    const m = planMessages(id, plan);
    const journal = ds.map((d, i) => this.journal('detection', `det:${id}:plan:${contractKey(d.contract)}:${d.brokerAt}:${i}`, d, id));
    for (const d of ds) this.emit({ kind: 'detection', at: now, detection: d, incidentId: null });
    journal.push(this.journal('note', `plan:${id}:${brokerAt}`, { text: m.text, keeps: plan.keeps, handsOver: plan.handsOver }, id));
    const changes: StateChange[] = [];
    let cancelled: OrderRecord[] = [];
    let runtime = rt;
    if (plan.keeps.length === 0) {
      const c = this.move(rt, 'flat', m.reason);
      if (c) changes.push(c);
      cancelled = this.closer.cancelPlanned(id, 'strategy is flat');
      this.closer.cancelWorking(id, 'strategy is flat');
    } else {
      runtime = { ...rt, def: { ...rt.def, legs: plan.keeps.map((h) => ({ contract: h.contract, qty: h.qty })) }, updatedAt: now };
      this.strategies.set(id, runtime);
    }
    const alert = this.makeAlert('info', `plan:${id}:${brokerAt}`, m.title, m.text, id, null, {
      strategyId: id,
      outcome: plan.outcome,
      early: plan.early,
      qty: plan.assigned.reduce((a, d) => a + Math.abs(d.change), 0),
      ...legFacts(plan.assigned[0]!.contract),
      action: 'none: the plan completed',
    });
    await this.commit({
      strategies: [this.record(runtime)],
      stateChanges: changes,
      journal,
      alerts: [alert],
      orders: cancelled,
      ...(plan.handsOver.length > 0 ? { outside: this.book.holdings(null) } : {}),
    });
    this.raise([alert]);
  }

  private brokenInfo(primary: Detection, incidentId: IncidentId, ds: readonly Detection[]): BrokenInfo {
    return {
      cause: primary.cause as BreakCause,
      kind: primary.kind,
      incidentId,
      leg: describeContract(primary.contract),
      qty: primary.change,
      at: primary.brokerAt,
      reason: joinReasons(ds),
    };
  }

  describeChange(d: Detection): string {
    const leg = describeContract(d.contract);
    const n = Math.abs(d.change);
    switch (d.cause) {
      case 'assignment':
        return `${leg} x${n} assigned${d.kind ? ` (${d.kind})` : ''}`;
      case 'exercise':
        return `${leg} x${n} exercised${d.kind ? ` (${d.kind})` : ''}`;
      case 'expiration':
        return `${leg} x${n} expired`;
      case 'manual':
        return `${leg} changed by ${signed(d.change)} in a trade outside legguard`;
      case 'liquidation':
        return `${leg} changed by ${signed(d.change)} in a broker liquidation`;
      case 'unknown':
      case 'own-fill':
        return `${leg} changed by ${signed(d.change)} for no reason the broker reported`;
    }
  }

  private decisionFor(rt: StrategyRuntime, policy: BreakPolicy, primary: Detection, incidentId: IncidentId): Decision {
    const action = policy === 'close' ? 'EMERGENCY_CLOSE' : policy === 'hedge' ? 'HEDGE' : 'ALERT_ONLY';
    const what = policy === 'close' ? 'closing everything it still holds' : policy === 'hedge' ? 'closing the stock it holds' : 'sending nothing (policy: alert)';
    return {
      strategyId: rt.def.id,
      action,
      reason: `CRITICAL: ${this.describeChange(primary)} on ${rt.def.id}; strategy broken, ${what}`,
      rule: 'AssignmentMonitor',
      urgency: policy === 'alert' ? 'HIGH' : 'IMMEDIATE',
      at: this.clock.now(),
      metadata: {
        incidentId,
        cause: primary.cause,
        kind: primary.kind,
        leg: describeContract(primary.contract),
        qty: primary.change,
        policy,
      },
    };
  }

  // ---------------------------------------------------------------- rules and normal exits

  private async evaluateRules(): Promise<void> {
    if (this.rules.length === 0) return;
    const now = this.clock.now();
    for (const rt of this.strategies.values()) {
      if (rt.state !== 'OPEN') continue;
      const decision = evaluateRules(this.rules, {
        strategy: rt.def,
        state: rt.state,
        holdings: this.book.holdings(rt.def.id),
        now,
        quote: (c: Contract) => this.quotes.get(contractKey(c)) ?? null,
        underlyingPrice: (s: string) => this.underlyingPrices.get(s) ?? null,
      });
      if (decision && decision.action === 'CLOSE') await this.closeNormally(rt, decision);
    }
  }

  /**
   * An ordinary exit. Refused when the strategy's legs no longer match the broker (seed item 2): then the strategy
   * is handed to the emergency path instead, with the reason journaled.
   */
  async closeNormally(rt: StrategyRuntime, decision: Decision): Promise<void> {
    const id = rt.def.id;
    const now = this.clock.now();
    const mismatch = this.legMismatch(rt);
    if (mismatch !== null) {
      this.log('warn', `${id}: normal close refused: ${mismatch}; handing to the emergency path`);
      const incidentId = incidentIdFor(id, 'unknown', now);
      rt.incidentId = incidentId;
      rt.broken ??= { cause: 'unknown', kind: null, incidentId, leg: mismatch, qty: 0, at: now, reason: `normal close refused: ${mismatch}` };
      const changes: StateChange[] = [];
      const c = this.move(rt, 'broke', `normal close refused: ${mismatch}`);
      if (c) changes.push(c);
      const policy = policyFor(this.config, 'unknown', rt.def.policy);
      const emergency: Decision = {
        ...decision,
        action: policy === 'close' ? 'EMERGENCY_CLOSE' : policy === 'hedge' ? 'HEDGE' : 'ALERT_ONLY',
        reason: `${decision.rule} wanted an ordinary close, but ${mismatch}; emergency path instead`,
        urgency: 'IMMEDIATE',
      };
      const journal = [
        this.journal('decision', `dec:${id}:refused:${now}`, { refused: decision, because: mismatch }, id, incidentId),
        this.journal('decision', `dec:${incidentId}:${now}`, emergency, id, incidentId),
      ];
      this.emit({ kind: 'decision', at: now, decision: emergency });
      const primary: Detection = {
        strategyId: id,
        cause: 'unknown',
        kind: null,
        contract: rt.def.legs[0]!.contract,
        before: Qty.zero,
        change: Qty.zero,
        settles: null,
        brokerAt: now,
        reason: mismatch,
      };
      await this.closer.onBreak(rt, {
        policy,
        decision: emergency,
        incidentId,
        primary,
        detections: [],
        changes,
        journal,
        firstBreak: true,
        latencyFrom: null,
      });
      return;
    }
    const changes: StateChange[] = [];
    const c = this.move(rt, 'close-requested', decision.reason);
    if (c) changes.push(c);
    this.emit({ kind: 'decision', at: now, decision });
    await this.closer.startNormalClose(rt, decision, changes, [
      this.journal('decision', `dec:${id}:exit:${now}`, decision, id, null),
    ]);
  }

  /** Why the strategy's holdings no longer match its legs or the broker; null when they do. */
  legMismatch(rt: StrategyRuntime): string | null {
    const id = rt.def.id;
    const want = new Map<ContractKey, number>();
    for (const leg of rt.def.legs) want.set(contractKey(leg.contract), (want.get(contractKey(leg.contract)) ?? 0) + leg.qty);
    for (const [key, qty] of want) {
      const have = this.book.holding(id, key);
      if (have !== qty) return `${key} should be ${signed(qty)} but the strategy holds ${signed(have)}`;
      const unexplained = this.brokerQty(key) - this.book.net(key);
      if (unexplained !== 0) return `the broker shows ${signed(unexplained)} unexplained in ${key}`;
    }
    for (const h of this.book.holdings(id)) {
      if (!want.has(contractKey(h.contract))) return `the strategy holds ${signed(h.qty)} ${describeContract(h.contract)} that is not one of its legs`;
    }
    return null;
  }

  // ---------------------------------------------------------------- reconciliation

  /**
   * Brings the guard in line with the broker: executions since the cursor (own fills applied once, foreign ones
   * kept for the detector), working orders matched to the guard's by orderRef (an order already at the broker is
   * never sent again), and every position compared with the book through the same detector path as a live update.
   */
  async reconcileNow(reason: string): Promise<void> {
    let snap: BrokerSnapshot;
    try {
      snap = await this.deps.broker.snapshot({ executionsSince: this.cursor.lastExecutionAt });
    } catch (e) {
      if (LegguardError.is(e, 'BROKER_DISCONNECTED')) {
        this.log('warn', `reconciliation (${reason}) skipped: broker disconnected`);
        return;
      }
      if (LegguardError.is(e, 'BROKER_TIMEOUT')) {
        // Connected but slow: not a disconnect, and not something to wait a whole interval for.
        this.retryReconcile(reason, e.message);
        return;
      }
      throw e;
    }
    this.reconcileRetries = 0;
    const perf = this.clock.perf();
    // The diff itself is pure and property-tested (core/reconcile.ts); here its results are applied.
    // Every order the guard knows, finished ones too: the broker hands a filled order's executions back for as long as
    // they are in its lookback, and they are the guard's own, not an order nobody knows.
    const storeOrders = [...[...this.tracker.all()].map((o) => this.tracker.toRecord(o)), ...(await this.finishedOrdersNamedIn(snap))];
    const r = reconcile({
      snapshot: snap,
      book: this.book,
      storeOrders,
      isKnownExecution: (id) => this.tracker.hasSeen(id),
      executionsSince: this.cursor.lastExecutionAt,
      now: this.clock.now(),
    });
    const notes: string[] = [];
    // Orders first: an execution of an order sent just before a crash must find its tracked order.
    notes.push(...(await this.closer.reconcileOrders(r)));
    for (const e of r.executions) {
      if (!this.tracker.firstSight(e.execId)) continue;
      const own = isLegguardRef(e.orderRef) ? (this.tracker.get(e.orderRef!) ?? (await this.orderFromStore(e.orderRef!))) : undefined;
      if (own) {
        await this.closer.applyOwnFill(own, e);
        notes.push(`applied missed fill ${e.execId} of ${e.orderRef}`);
      } else {
        const key = contractKey(e.contract);
        this.foreign.set(key, [...(this.foreign.get(key) ?? []), e]);
        notes.push(`execution outside legguard: ${e.side} ${e.qty} ${describeContract(e.contract)}${e.liquidation ? ' (liquidation)' : ''}`);
      }
    }
    // Every position the broker shows (and 0 for what the book has and the broker does not) becomes the broker's
    // known position, then goes through the same detector path as a live report.
    const keys = new Set<ContractKey>();
    for (const p of snap.positions) {
      const key = contractKey(p.contract);
      keys.add(key);
      this.brokerPositions.set(key, { contract: p.contract, qty: p.qty, at: p.tsEvent });
    }
    for (const key of this.book.contractKeys()) {
      if (keys.has(key)) continue;
      keys.add(key);
      const contract = this.brokerPositions.get(key)?.contract ?? this.book.contract(key)!;
      this.brokerPositions.set(key, { contract, qty: Qty.zero, at: snap.at });
    }
    // Strategies waiting for their legs take them before the detector looks: a position that is a pending strategy's
    // new leg is not an unexplained change, and a leg never held is never one either (it is nobody's holding).
    const taken = await this.adopter.adoptPending();
    // A position a pending strategy took as its leg is no discrepancy: the diff was made before it was taken.
    const explained = (c: Contract | null): boolean => c !== null && taken.has(contractKey(c)) && this.brokerQty(contractKey(c)) === this.book.net(contractKey(c));
    const discrepancies = r.discrepancies.filter((d) => !explained(d.contract));
    notes.unshift(...discrepancies.map((d) => d.message));
    await this.examine(keys, perf);
    const at = this.clock.now();
    // The next snapshot asks for executions from a lookback before this one: a report lost in this snapshot is
    // found in the next, and the ids already seen are skipped.
    this.cursor = { lastExecutionAt: r.cursor.executionsSince, lastExecId: r.cursor.lastExecId ?? this.cursor.lastExecId, lastReconciledAt: at };
    // A quiet periodic pass writes nothing (an fsync a minute for nothing); one that found something, or the first
    // after start or a reconnect, or one a quarter of an hour after the last recorded, is journaled.
    const quiet = notes.length === 0 && reason === 'interval' && at - this.lastRecordedReconcile < 15 * 60_000;
    if (!quiet) {
      this.lastRecordedReconcile = at;
      await this.commit({
        journal: [
          this.journal('reconciliation', `recon:${at}:${reason}`, {
            reason,
            discrepancies: discrepancies.map((d) => ({ key: d.key, kind: d.kind, message: d.message })),
            notes,
            positions: snap.positions.length,
            executions: snap.executions.length,
            openOrders: snap.openOrders.length,
          }),
        ],
        cursor: this.cursor,
        outside: this.book.holdings(null),
      });
    }
    this.emit({ kind: 'reconciled', at, reason, discrepancies: notes });
  }

  /**
   * Orders the snapshot names by a legguard ref that the tracker does not hold: after a restart the tracker has only
   * the orders that were open, while the broker still reports the executions (and, rarely, a working order) of ones
   * that finished before it. Looked up in the store by the strategy the ref names; a ref no order has stays unknown.
   */
  private async finishedOrdersNamedIn(snap: BrokerSnapshot): Promise<OrderRecord[]> {
    const refs = new Set<string>();
    for (const x of [...snap.executions, ...snap.openOrders]) {
      if (x.account === this.account && isLegguardRef(x.orderRef) && !this.tracker.get(x.orderRef!)) refs.add(x.orderRef!);
    }
    const strategyIds = new Set<StrategyId>();
    for (const ref of refs) {
      const parsed = parseOrderRef(ref);
      if (parsed) strategyIds.add(parsed.strategyId as StrategyId);
    }
    const out: OrderRecord[] = [];
    for (const strategyId of strategyIds) {
      for (const row of await this.deps.store.orders({ account: this.account, strategyId })) if (refs.has(row.request.ref)) out.push(row);
    }
    return out;
  }

  // ---------------------------------------------------------------- views

  private async refreshUnderlying(symbol: string): Promise<void> {
    try {
      const u = await this.deps.broker.underlying(symbol);
      if (u.price !== null) this.underlyingPrices.set(symbol, u.price);
    } catch (e) {
      this.log('warn', `no price for ${symbol}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Quotes for `contracts`, from the broker, cached. */
  async quotesFor(contracts: readonly Contract[]): Promise<Map<ContractKey, Quote | null>> {
    const out = new Map<ContractKey, Quote | null>();
    await Promise.all(
      contracts.map(async (c) => {
        const key = contractKey(c);
        let q: Quote | null = null;
        try {
          q = await this.deps.broker.quote(c);
        } catch (e) {
          this.log('warn', `no quote for ${key}: ${e instanceof Error ? e.message : String(e)}`);
        }
        if (q) {
          this.quotes.set(key, q);
          if (q.underlying !== null) this.underlyingPrices.set(c.symbol, q.underlying);
          if (!isOption(c)) {
            const mid = q.bid !== null && q.ask !== null ? (q.bid + q.ask) / 2 : q.last;
            if (mid !== null) this.underlyingPrices.set(c.symbol, mid);
          }
        }
        out.set(key, q ?? this.quotes.get(key) ?? null);
      }),
    );
    return out;
  }

  holdingsOf(id: StrategyId): readonly Holding[] {
    return this.book.holdings(id);
  }

  openOrderCount(): number {
    let n = 0;
    for (const o of this.tracker.all()) if (isOpenStatus(o.status)) n++;
    return n;
  }

  priceOf(c: Contract): Price | null {
    const q = this.quotes.get(contractKey(c));
    if (!q) return null;
    return q.last ?? (q.bid !== null && q.ask !== null ? ((q.bid + q.ask) / 2) as Price : null);
  }
}
