import type { Holding } from '../core/book.js';
import type { AccountId, ExecId, IncidentId, StrategyId } from '../core/ids.js';
import type { OrderRecord } from '../core/order-record.js';
import type { EpochMs } from '../core/quantity.js';
import type { BrokenInfo, StrategyDefinition } from '../core/strategy.js';
import type { StrategyState } from '../core/strategy-state.js';
import type { TradingState } from '../core/gate.js';
import type { Alert, Severity } from './alerts.js';

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

// The order record lives in core (reconciliation reads it); the store port names it here too.
export type { OrderRecord, StoredOrderStatus } from '../core/order-record.js';

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
  'trading-state',
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

/**
 * The account's trading state as the operator last set it (`legguard halt`, `reduce-only`, `resume`), with who set it,
 * why and when. An account never set is ACTIVE with the other fields null.
 */
export interface TradingStateRecord {
  readonly state: TradingState;
  readonly reason: string | null;
  readonly by: string | null;
  readonly at: EpochMs | null;
}

export const DEFAULT_TRADING_STATE: TradingStateRecord = { state: 'ACTIVE', reason: null, by: null, at: null };

/** Where reconciliation and execution recovery resume. */
export interface Cursor {
  readonly lastExecutionAt: EpochMs | null;
  readonly lastExecId: ExecId | null;
  readonly lastReconciledAt: EpochMs | null;
}

/**
 * Everything one step of the engine writes, committed atomically and durably before `commit` resolves: either all of
 * it is written or none. Every record must belong to `account`. Applied in this order: strategies (upserted by id,
 * holdings replaced), removals, state changes (appended), journal, orders, alerts, outside holdings, cursor. Within
 * one batch a strategy or order given twice is written as its last occurrence; an alert key given twice keeps the
 * first.
 */
export interface StoreBatch {
  readonly account: AccountId;
  readonly strategies?: readonly StrategyRecord[];
  readonly removeStrategies?: readonly StrategyId[];
  readonly stateChanges?: readonly StateChange[];
  readonly journal?: readonly JournalEntry[];
  /** Upserted by `request.ref` (per account): the latest commit's record replaces the earlier one. */
  readonly orders?: readonly OrderRecord[];
  /** Inserted into the outbox unless the key is already there. */
  readonly alerts?: readonly Alert[];
  /** Replaces the holdings outside any strategy. */
  readonly outside?: readonly Holding[];
  /** Only the fields given change; `null` clears one. */
  readonly cursor?: Partial<Cursor>;
  /** Replaces the account's trading state. */
  readonly tradingState?: TradingStateRecord;
  /**
   * The leader's lease epoch (`acquireLease`). When given, the store reads the account's lease in the same
   * transaction and refuses the whole batch with FENCED unless the lease is still at this epoch: a guard that was
   * frozen while another took over can commit nothing (and so plan nothing to send).
   */
  readonly epoch?: number;
}

export interface LoadedState {
  /** Every strategy of the account, whatever its state, oldest first (`createdAt`, then id). */
  readonly strategies: readonly StrategyRecord[];
  /** Orders not yet in a terminal state (planned, pending, working, partially filled). */
  readonly openOrders: readonly OrderRecord[];
  readonly outside: readonly Holding[];
  readonly cursor: Cursor;
}

/** A critical incident nobody has acknowledged yet, as the outbox holds it. */
export interface UnackedIncident {
  readonly incidentId: IncidentId;
  readonly first: Alert;
  readonly lastAt: EpochMs;
  /**
   * The keys of its critical alerts, in the order of their `at`: escalation counts the repeats already queued from
   * them (`legguard:repeat:<n>:...`), so a restarted guard goes on from the last one.
   */
  readonly keys: readonly string[];
}

/** One alert's delivery on one channel, as the outbox holds it. */
export interface OutboxDelivery {
  readonly account: AccountId;
  readonly alert: Alert;
  readonly channel: string;
  readonly attempts: number;
  readonly lastError: string | null;
}

export interface DeliveryResult {
  /** The account whose outbox holds the alert. */
  readonly account: AccountId;
  readonly alertKey: string;
  readonly channel: string;
  readonly at: EpochMs;
  /** True once delivered; the pair is then never returned by `dueDeliveries` again. */
  readonly delivered: boolean;
  readonly error: string | null;
  /** When to try again; null with `delivered: false` gives up on this pair (dead letter). */
  readonly nextAttemptAt: EpochMs | null;
}

/** How the outbox dispatcher records a delivery it decided not to make (below the channel's minimum, stale ...). */
export const SKIPPED_DELIVERY_PREFIX = 'skipped: ';

export type DeliveryStatus = 'pending' | 'delivered' | 'dead';

/** One alert's delivery on one channel once an attempt (or a skip) was recorded, for `legguard status`. */
export interface DeliveryRecord {
  readonly account: AccountId;
  readonly alert: Alert;
  readonly channel: string;
  /** `pending`: waits for a retry at `nextAttemptAt`; `dead`: given up (or skipped; see SKIPPED_DELIVERY_PREFIX). */
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly nextAttemptAt: EpochMs | null;
  readonly lastError: string | null;
  readonly updatedAt: EpochMs;
}

/** Counts over one account's outbox, or every account's. */
export interface OutboxSummary {
  /** Alerts in the outbox, delivered or not. */
  readonly alerts: number;
  /**
   * Per channel that has any recorded delivery, by channel name: how many pairs are delivered, pending a retry, or
   * dead; `skipped` counts the dead ones recorded as skips. An alert with no row for a channel was never tried on it.
   */
  readonly channels: readonly { readonly channel: string; readonly delivered: number; readonly pending: number; readonly dead: number; readonly skipped: number }[];
}

export interface Acknowledgement {
  readonly incidentId: IncidentId;
  readonly at: EpochMs;
  readonly by: string;
}

export interface LockInfo {
  readonly owner: string;
  readonly acquiredAt: EpochMs;
  /** The lock is live while `now < expiresAt`; an expired one is taken over by the next guard. */
  readonly expiresAt: EpochMs;
}

/**
 * The account's leader lease. Times are on the store's clock (Postgres `now()`, SQLite's machine), never a guard's:
 * two guards on two machines agree on when it lapses however their clocks differ.
 */
export interface LeaseInfo {
  readonly holder: string;
  /** Grows by one each time the lease changes hands (or is taken again after it lapsed); never reused. */
  readonly epoch: number;
  readonly acquiredAt: EpochMs;
  /** The lease is the holder's while the store's clock is before this. */
  readonly leaseUntil: EpochMs;
  /** The store's clock when this was read. */
  readonly now: EpochMs;
}

export interface LeaseAttempt {
  /** True when `holder` now holds the lease (`lease` is its own); false when another holder's lease is live. */
  readonly acquired: boolean;
  readonly lease: LeaseInfo;
}

/** A guard waiting for the lease, as it last said so (each attempt to acquire records it). */
export interface StandbyInfo {
  readonly holder: string;
  readonly seenAt: EpochMs;
}

/**
 * Durable state. SQLite (default) and Postgres both implement it and pass `test/contract/store.contract.ts` (so does
 * the in-memory store for tests). Errors are `LegguardError`s: STORE_CORRUPT, STORE_NEWER_VERSION, STORE_UNWRITABLE,
 * STORE_UNREACHABLE, LOCK_HELD, FENCED; INVALID_INPUT for a record that cannot be stored as given (naming it and the field).
 */
export interface StorePort {
  readonly dialect: string;
  /**
   * Opens, refuses a database that is not legguard's (STORE_CORRUPT) or is newer (STORE_NEWER_VERSION), runs
   * migrations, and proves the store writable (STORE_UNWRITABLE), all before the guard acts on anything.
   */
  init(): Promise<void>;
  close(): Promise<void>;
  commit(batch: StoreBatch): Promise<void>;
  load(account: AccountId): Promise<LoadedState>;
  /**
   * One guard per account per store: throws LOCK_HELD naming the holder and its expiry when another owner's lock is
   * live (`now < expiresAt`). A lock that has expired is taken over; the same owner acquiring again extends it.
   */
  acquireLock(account: AccountId, owner: string, now: EpochMs, ttlMs: number): Promise<void>;
  /** Extends `owner`'s lock to `now + ttlMs`; LOCK_HELD when the lock was taken over by another owner or released. */
  refreshLock(account: AccountId, owner: string, now: EpochMs, ttlMs: number): Promise<void>;
  /** Releases `owner`'s lock; a lock held by someone else is left alone. */
  releaseLock(account: AccountId, owner: string): Promise<void>;
  /**
   * Outbox: the account's alerts committed through `commit({ alerts })` (or `enqueueAlerts`), paired with each named
   * channel, that are not yet delivered and due at `now`, oldest first (alert `at`, then commit order, then the order
   * of `channels`). A pair with no delivery row yet is due at once; a dead pair never again. Every account has an
   * outbox of its own (alert keys, deliveries and acknowledgements are per account): a guard delivers only its own.
   */
  dueDeliveries(account: AccountId, channels: readonly string[], now: EpochMs, limit: number): Promise<readonly OutboxDelivery[]>;
  /** Counts one attempt of the pair; NOT_FOUND when the account has no alert with that key. A delivered pair stays delivered. */
  recordDelivery(result: DeliveryResult): Promise<void>;
  /** Inserts alerts outside an engine step (escalation repeats, heartbeats, `alert test`); existing keys are kept. */
  enqueueAlerts(account: AccountId, alerts: readonly Alert[]): Promise<void>;
  /** Marks an incident of the account acknowledged; false when none of its alerts names that incident. */
  ackIncident(account: AccountId, incidentId: IncidentId, at: EpochMs, by: string): Promise<boolean>;
  /**
   * Critical incidents not acknowledged, oldest first: every incident named by at least one critical alert and not
   * acknowledged, with its first critical alert (earliest `at`, then first committed), the `at` of its latest
   * critical alert (escalation repeats included) and the keys of all its critical alerts.
   */
  unackedCritical(account: AccountId): Promise<readonly UnackedIncident[]>;
  listStrategies(account: AccountId | null): Promise<readonly StrategyRecord[]>;
  /** The ids of the account's strategies (whatever their state), without reading them: which of a list are new. */
  strategyIds(account: AccountId): Promise<ReadonlySet<string>>;
  /**
   * Every order of the account (or of one strategy), whatever its status, in the order each ref was first committed:
   * the engine derives the next plan revision from them.
   */
  orders(filter: { account: AccountId; strategyId?: StrategyId }): Promise<readonly OrderRecord[]>;
  /**
   * The execution ids journaled for the account at or after `since` (entries of type `fill` or `broker-event` whose key
   * is `exec:<execId>`), so a restarted guard never applies an execution twice.
   */
  recentExecIds(account: AccountId, since: EpochMs): Promise<ReadonlySet<ExecId>>;
  /**
   * State changes of the account (or of one strategy) in the order committed. With `limit`, the newest `limit`, still
   * oldest first.
   */
  stateHistory(filter: { account: AccountId; strategyId?: StrategyId; limit?: number }): Promise<readonly StateChange[]>;
  /**
   * Journal entries in append order (oldest first). With `limit`, the newest `limit` matching entries, still oldest
   * first.
   */
  journal(filter: {
    account: AccountId;
    strategyId?: StrategyId;
    incidentId?: IncidentId;
    types?: readonly JournalType[];
    limit?: number;
  }): Promise<readonly JournalEntry[]>;
  /**
   * Read-only views for `legguard status`. The newest `limit` alerts of the account (of the given severities, all
   * when omitted), oldest first (alert `at`, then commit order).
   */
  recentAlerts(filter: { account: AccountId; severities?: readonly Severity[]; limit: number }): Promise<readonly Alert[]>;
  /** The account's acknowledgements of these incidents (those never acknowledged are left out), in the order given. */
  acknowledgements(account: AccountId, incidentIds: readonly IncidentId[]): Promise<readonly Acknowledgement[]>;
  /** Counts of the account's (null: every account's) alerts and of recorded deliveries per channel, channels by name. */
  outboxSummary(account: AccountId | null): Promise<OutboxSummary>;
  /**
   * Recorded deliveries of the account (null: of every account) in the given statuses, the most recently updated
   * first (ties: alert `at`, account, key, channel).
   */
  deliveries(filter: { account: AccountId | null; statuses: readonly DeliveryStatus[]; limit: number }): Promise<readonly DeliveryRecord[]>;
  /** Every account the store has a strategy, lease, lock, trading state or alert for, sorted. */
  accounts(): Promise<readonly AccountId[]>;
  /** The account's trading state: the last one committed, or ACTIVE (`DEFAULT_TRADING_STATE`) when never set. */
  tradingState(account: AccountId): Promise<TradingStateRecord>;
  /** The account's lock as stored, live or expired; null when no guard holds or held it. */
  lockHolder(account: AccountId): Promise<LockInfo | null>;
  /**
   * Leadership for an account, one leader per account per store, in one transaction on the store's clock. Takes the
   * lease when there is none, when it has lapsed, or when `takeFrom` names its holder (a guard known to be dead):
   * the epoch then grows by one. The holder of a live lease acquiring again extends it at the same epoch. Otherwise
   * nothing changes except that `holder` is recorded as a standby, and `acquired` is false.
   */
  acquireLease(account: AccountId, holder: string, ttlMs: number, opts?: { takeFrom?: string }): Promise<LeaseAttempt>;
  /**
   * Extends the lease to the store's now + `ttlMs` while `holder` still holds it at `epoch`, even after it lapsed if
   * nobody took it meanwhile (the epoch proves nobody else led). FENCED when another holder or epoch has it.
   */
  renewLease(account: AccountId, holder: string, epoch: number, ttlMs: number): Promise<LeaseInfo>;
  /**
   * Gives the lease up at once (it lapses now, the epoch stays, so a standby takes it at the next epoch); with
   * `epoch` null, or a lease that is not `holder`'s at `epoch`, only forgets `holder` as a standby.
   */
  releaseLease(account: AccountId, holder: string, epoch: number | null): Promise<void>;
  /** The lease (null when never taken) and the standbys seen within `standbyWithinMs` of the store's now. */
  leadership(account: AccountId, standbyWithinMs: number): Promise<{ readonly lease: LeaseInfo | null; readonly standbys: readonly StandbyInfo[] }>;
}
