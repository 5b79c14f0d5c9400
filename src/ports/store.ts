import type { Holding } from '../core/book.js';
import type { ContractKey, AccountId, BrokerOrderId, ExecId, IncidentId, StrategyId } from '../core/ids.js';
import type { OrderStatus } from '../core/events.js';
import type { OrderRequest } from '../core/order.js';
import type { EpochMs, Price, Qty } from '../core/quantity.js';
import type { BrokenInfo, StrategyDefinition } from '../core/strategy.js';
import type { StrategyState } from '../core/strategy-state.js';
import type { Alert } from './alerts.js';

/** A guarded strategy as stored: its definition, where it is in its life, and what it holds now. */
export interface StrategyRecord {
  readonly definition: StrategyDefinition;
  readonly state: StrategyState;
  readonly broken: BrokenInfo | null;
  /** Attributed holdings now (not the definition's legs). */
  readonly holdings: readonly Holding[];
  readonly updatedAt: EpochMs;
}

export interface StateChange {
  readonly strategyId: StrategyId;
  readonly from: StrategyState | null;
  readonly to: StrategyState;
  readonly at: EpochMs;
  readonly reason: string;
  readonly incidentId: IncidentId | null;
}

/** `planned` is written before the order goes out (write-ahead); the rest mirror the broker. */
export type StoredOrderStatus = 'planned' | OrderStatus;

export interface OrderRecord {
  readonly request: OrderRequest;
  readonly orderId: BrokerOrderId | null;
  readonly status: StoredOrderStatus;
  /** Order units. */
  readonly filledQty: Qty;
  readonly avgFillPrice: Price | null;
  readonly placedAt: EpochMs | null;
  /** The account's position in each leg's contract when the order was sent. */
  readonly positionBefore: Readonly<Record<ContractKey, number>>;
  readonly reason: string | null;
  readonly updatedAt: EpochMs;
}

export const JOURNAL_TYPES = [
  'broker-event',
  'detection',
  'decision',
  'order',
  'fill',
  'alert',
  'state',
  'reconciliation',
  'note',
] as const;
export type JournalType = (typeof JOURNAL_TYPES)[number];

/** One append-only record. `key` is an idempotency key: appending an existing key again is a no-op. */
export interface JournalEntry {
  readonly key: string;
  readonly at: EpochMs;
  readonly type: JournalType;
  readonly account: AccountId;
  readonly strategyId: StrategyId | null;
  readonly incidentId: IncidentId | null;
  readonly data: unknown;
}

/** Where reconciliation and execution recovery resume. */
export interface Cursor {
  readonly lastExecutionAt: EpochMs | null;
  readonly lastExecId: ExecId | null;
  readonly lastReconciledAt: EpochMs | null;
}

/** Everything one step of the engine writes, committed atomically and durably before `commit` resolves. */
export interface StoreBatch {
  readonly account: AccountId;
  readonly strategies?: readonly StrategyRecord[];
  readonly removeStrategies?: readonly StrategyId[];
  readonly stateChanges?: readonly StateChange[];
  readonly journal?: readonly JournalEntry[];
  /** Upserted by `request.ref`. */
  readonly orders?: readonly OrderRecord[];
  /** Inserted into the outbox unless the key is already there. */
  readonly alerts?: readonly Alert[];
  /** Replaces the holdings outside any strategy. */
  readonly outside?: readonly Holding[];
  readonly cursor?: Partial<Cursor>;
}

export interface LoadedState {
  readonly strategies: readonly StrategyRecord[];
  /** Orders not yet in a terminal state (planned, pending, working, partially filled). */
  readonly openOrders: readonly OrderRecord[];
  readonly outside: readonly Holding[];
  readonly cursor: Cursor;
}

/** One alert's delivery on one channel, as the outbox holds it. */
export interface OutboxDelivery {
  readonly alert: Alert;
  readonly channel: string;
  readonly attempts: number;
  readonly lastError: string | null;
}

export interface DeliveryResult {
  readonly alertKey: string;
  readonly channel: string;
  readonly at: EpochMs;
  /** True once delivered; the pair is then never returned by `dueDeliveries` again. */
  readonly delivered: boolean;
  readonly error: string | null;
  /** When to try again; null with `delivered: false` gives up on this pair (dead letter). */
  readonly nextAttemptAt: EpochMs | null;
}

/**
 * Durable state. SQLite (default) and Postgres both implement it and pass `test/contract/store.contract.ts`.
 * Errors are `LegguardError`s: STORE_CORRUPT, STORE_NEWER_VERSION, STORE_UNWRITABLE, STORE_UNREACHABLE, LOCK_HELD.
 */
export interface StorePort {
  readonly dialect: string;
  /** Opens, checks the schema version, runs migrations. */
  init(): Promise<void>;
  close(): Promise<void>;
  commit(batch: StoreBatch): Promise<void>;
  load(account: AccountId): Promise<LoadedState>;
  /** One guard per account per store: throws LOCK_HELD naming the holder when another live guard has it. */
  acquireLock(account: AccountId, owner: string, now: EpochMs, ttlMs: number): Promise<void>;
  refreshLock(account: AccountId, owner: string, now: EpochMs, ttlMs: number): Promise<void>;
  releaseLock(account: AccountId, owner: string): Promise<void>;
  /**
   * Outbox: alerts committed through `commit({ alerts })` (or `enqueueAlerts`), paired with each named channel, that
   * are not yet delivered and due at `now`, oldest first. A pair with no delivery row yet is due at once.
   */
  dueDeliveries(channels: readonly string[], now: EpochMs, limit: number): Promise<readonly OutboxDelivery[]>;
  recordDelivery(result: DeliveryResult): Promise<void>;
  /** Inserts alerts outside an engine step (escalation repeats, heartbeats, `alert test`); existing keys are kept. */
  enqueueAlerts(alerts: readonly Alert[]): Promise<void>;
  /** Marks an incident acknowledged; false when no alert names that incident. */
  ackIncident(incidentId: IncidentId, at: EpochMs, by: string): Promise<boolean>;
  /** Critical incidents not acknowledged, with their first alert and the time the latest alert for them was raised. */
  unackedCritical(): Promise<readonly { readonly incidentId: IncidentId; readonly first: Alert; readonly lastAt: EpochMs }[]>;
  listStrategies(account: AccountId | null): Promise<readonly StrategyRecord[]>;
  orders(filter: { account: AccountId; strategyId?: StrategyId }): Promise<readonly OrderRecord[]>;
  journal(filter: {
    account: AccountId;
    strategyId?: StrategyId;
    incidentId?: IncidentId;
    types?: readonly JournalType[];
    limit?: number;
  }): Promise<readonly JournalEntry[]>;
}
