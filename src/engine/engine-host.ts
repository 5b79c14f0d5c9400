import type { Book, BookView } from '../core/book.js';
import type { Contract } from '../core/contract.js';
import type { TradingState } from '../core/gate.js';
import type { AccountId, ContractKey, IncidentId, OrderRef, StrategyId } from '../core/ids.js';
import type { EpochMs, Price, Qty } from '../core/quantity.js';
import type { BrokenInfo, StrategyDefinition } from '../core/strategy.js';
import { transition, type StrategyState, type StrategyTransition } from '../core/strategy-state.js';
import type { Alert, Severity } from '../ports/alerts.js';
import type { BrokerPort, Quote } from '../ports/broker.js';
import type { Clock } from '../ports/clock.js';
import type { JournalEntry, StateChange, StoreBatch, StrategyRecord } from '../ports/store.js';
import type { GuardConfig } from './guard-config.js';
import type { IncidentCosts } from './incident-costs.js';
import type { OrderTracker } from './order-tracker.js';
import type { TimelineEntry } from './timeline.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

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
 * What the closer (close-planner, order-sender, order-lifecycle, closer) and the pending adopter see of the engine:
 * its clock and config, a read-only view of the book, the guard's orders and strategies, the broker's positions and
 * prices, and the ways out (commit, emit, raise, the serial queue). The engine implements it; nothing here imports
 * the engine.
 */
export interface EngineHost {
  readonly clock: Clock;
  readonly config: GuardConfig;
  readonly account: AccountId;
  /** Placing and cancelling orders, exercising options: the only broker calls the closer makes. */
  readonly broker: Pick<BrokerPort, 'placeOrder' | 'cancelOrder' | 'exerciseOptions'>;
  readonly book: BookView;
  readonly tracker: OrderTracker;
  readonly strategies: ReadonlyMap<StrategyId, StrategyRuntime>;
  isConnected(): boolean;
  /** The operator's trading state the gate enforces (`legguard halt` / `reduce-only` / `resume`). */
  tradingState(): TradingState;
  brokerQty(key: ContractKey): Qty;
  priceOf(c: Contract): Price | null;
  /** Quotes for a plan, each contract asked for once per burst (market-data.ts). */
  quotesFor(contracts: readonly Contract[]): Promise<Map<ContractKey, Quote | null>>;
  /** The one mutation of the book the closer makes: one of the guard's own executions. */
  applyOwnExecution(strategyId: StrategyId, contract: Contract, signedQty: number): void;
  /**
   * Adds `batch` to the engine's group commit (group-commit.ts): written with everything else decided in this burst,
   * in one transaction, at the latest before anything next goes to the broker (`writeAhead`).
   */
  commit(batch: Omit<StoreBatch, 'account'>): Promise<void>;
  /** Writes what is held for the group commit; called before every order, cancel and exercise goes out. */
  writeAhead(): Promise<void>;
  /** True when the plan of `ref` could not be written: it is never sent. */
  isUnwritten(ref: OrderRef): boolean;
  emit(entry: TimelineEntry): void;
  raise(alerts: readonly Alert[]): void;
  /** What each incident costs, kept as it happens (incident-costs.ts). */
  readonly costs: IncidentCosts;
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
  /** Runs `step` on the engine's serial queue. */
  enqueue(step: () => Promise<void> | void): Promise<void>;
  /**
   * Runs one strategy's part of a step (step-isolation.ts); a failure is that strategy's alone (alerted, the rest
   * goes on, the guard does not stop).
   */
  isolated(id: StrategyId, what: string, step: () => Promise<void>): Promise<void>;
  /** A crash drill's point: reached once what was committed before it is durable. */
  crashPoint(point: CrashPoint): void;
}

/** What `move` and the record builders need. */
type Stamping = Pick<EngineHost, 'clock' | 'emit' | 'log'>;

/** Moves a strategy through its state machine, returning the state change to commit. */
export function moveStrategy(h: Stamping, rt: StrategyRuntime, t: StrategyTransition, reason: string): StateChange | null {
  const from = rt.state;
  const to = transition(from, t);
  if (to === from) return null;
  const at = h.clock.now();
  rt.state = to;
  rt.updatedAt = at;
  h.emit({ kind: 'state', at, strategyId: rt.def.id, from, to, reason });
  h.log(to === 'NEEDS_ATTENTION' || to === 'BROKEN' ? 'warn' : 'info', `${rt.def.id}: ${from} -> ${to}: ${reason}`);
  return { strategyId: rt.def.id, from, to, at, reason, incidentId: rt.incidentId };
}

export function strategyRecord(book: BookView, rt: StrategyRuntime): StrategyRecord {
  return { definition: rt.def, state: rt.state, broken: rt.broken, holdings: book.holdings(rt.def.id), updatedAt: rt.updatedAt };
}

export function journalEntry(
  h: Pick<EngineHost, 'clock' | 'account'>,
  type: JournalEntry['type'],
  key: string,
  data: unknown,
  strategyId: StrategyId | null = null,
  incidentId: IncidentId | null = null,
): JournalEntry {
  return { key, at: h.clock.now(), type, account: h.account, strategyId, incidentId, data };
}

export function makeAlert(
  h: Pick<EngineHost, 'clock'>,
  severity: Severity,
  key: string,
  title: string,
  text: string,
  strategyId: StrategyId | null,
  incidentId: IncidentId | null,
  facts: Record<string, string | number | boolean | null> = {},
): Alert {
  return { key, severity, incidentId, strategyId, title, text, at: h.clock.now(), facts };
}

/**
 * What the engine's own step modules (break-handler, normal-exit) see: the host, the book to apply detections to,
 * the quotes seen, and the engine's record builders bound to its clock and account.
 */
export interface EngineContext extends Omit<EngineHost, 'book' | 'strategies'> {
  readonly book: Book;
  /** A strategy whose plan completed keeping some legs is replaced by one with those legs. */
  readonly strategies: Map<StrategyId, StrategyRuntime>;
  readonly quotes: ReadonlyMap<ContractKey, Quote>;
  readonly underlyingPrices: ReadonlyMap<string, number>;
  journal(type: JournalEntry['type'], key: string, data: unknown, strategyId?: StrategyId | null, incidentId?: IncidentId | null): JournalEntry;
  makeAlert(
    severity: Severity,
    key: string,
    title: string,
    text: string,
    strategyId: StrategyId | null,
    incidentId: IncidentId | null,
    facts?: Record<string, string | number | boolean | null>,
  ): Alert;
  move(rt: StrategyRuntime, t: StrategyTransition, reason: string): StateChange | null;
  record(rt: StrategyRuntime): StrategyRecord;
  /** The broker's last reported net position per contract. */
  readonly brokerPositions: ReadonlyMap<ContractKey, { readonly contract: Contract; readonly qty: Qty; readonly at: EpochMs }>;
  /** Asks the broker for an underlying's price now (at or after an expiry). */
  refreshUnderlying(symbol: string): Promise<void>;
  /** Asks for the quotes the plans of a burst will need, each contract once, without waiting for them. */
  prefetchQuotes(contracts: Iterable<Contract>): void;
  /** False once the engine stopped: timers that fire after do nothing. */
  isRunning(): boolean;
}
