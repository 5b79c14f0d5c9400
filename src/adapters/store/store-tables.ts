import type { Generated } from 'kysely';

/**
 * The tables legguard keeps, as Kysely sees them. Every table name starts with `legguard_` so that a shared Postgres
 * database (or schema) can hold other applications' tables next to ours without a clash.
 *
 * Columns that are only ever read back whole (contracts, order requests, alerts, journal data, broken info) hold JSON
 * text, not `jsonb`: text keeps key order and every string exactly as written, including `\u0000` escapes that
 * `jsonb` refuses. Times are epoch milliseconds in `bigint` columns. Columns used in a WHERE clause are plain.
 */
export interface MetaTable {
  key: string;
  value: string;
}

export interface StrategyTable {
  account: string;
  strategy_id: string;
  kind: string;
  state: string;
  /** JSON of the StrategyDefinition. */
  definition: string;
  /** JSON of the BrokenInfo, or null. */
  broken: string | null;
  created_at: number;
  updated_at: number;
}

/** A strategy's attributed holdings now, in the order the record lists them. */
export interface HoldingTable {
  account: string;
  strategy_id: string;
  idx: number;
  contract_key: string;
  /** JSON of the Contract. */
  contract: string;
  qty: number;
}

export interface StateHistoryTable {
  seq: Generated<number>;
  account: string;
  strategy_id: string;
  from_state: string | null;
  to_state: string;
  at: number;
  reason: string;
  incident_id: string | null;
}

export interface JournalTable {
  seq: Generated<number>;
  account: string;
  /** Idempotency key, unique per account. */
  key: string;
  at: number;
  type: string;
  strategy_id: string | null;
  incident_id: string | null;
  /** JSON. */
  data: string;
}

export interface OrderTable {
  /** Set when the ref is first written and kept by later upserts: creation order. */
  seq: Generated<number>;
  account: string;
  ref: string;
  strategy_id: string;
  incident_id: string | null;
  status: string;
  order_id: string | null;
  /** JSON of the OrderRequest. */
  request: string;
  filled_qty: number;
  avg_fill_price: number | null;
  placed_at: number | null;
  /** JSON of `positionBefore`. */
  position_before: string;
  reason: string | null;
  updated_at: number;
}

/** The alerts outbox: one row per account and alert key, whatever the channels. */
export interface AlertTable {
  seq: Generated<number>;
  /** The account whose guard delivers it; '' for an alert kept from before the outbox was per account (schema 5). */
  account: string;
  key: string;
  severity: string;
  incident_id: string | null;
  strategy_id: string | null;
  at: number;
  /** JSON of the Alert. */
  alert: string;
}

export const DELIVERY_STATUSES = ['pending', 'delivered', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One alert on one channel, once an attempt was recorded. No row yet means due at once. */
export interface DeliveryTable {
  account: string;
  alert_key: string;
  channel: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number | null;
  last_error: string | null;
  updated_at: number;
}

export interface AckTable {
  account: string;
  incident_id: string;
  at: number;
  acked_by: string;
}

export interface CursorTable {
  account: string;
  last_execution_at: number | null;
  last_exec_id: string | null;
  last_reconciled_at: number | null;
}

/** Holdings outside any strategy, in the order last committed. */
export interface OutsideTable {
  account: string;
  idx: number;
  contract_key: string;
  contract: string;
  qty: number;
}

export interface LockTable {
  account: string;
  owner: string;
  acquired_at: number;
  expires_at: number;
}

/**
 * One row per account ever led. `holder` '' with epoch 0 is the placeholder a first acquire inserts so that it has a
 * row to lock (no lease yet).
 */
export interface LeaseTable {
  account: string;
  holder: string;
  epoch: number;
  acquired_at: number;
  lease_until: number;
}

/** Guards waiting for an account's lease, with when each last tried to take it. */
export interface StandbyTable {
  account: string;
  holder: string;
  seen_at: number;
}

/** One row per account whose trading state was ever set; no row is ACTIVE. */
export interface TradingStateTable {
  account: string;
  state: string;
  reason: string | null;
  changed_by: string | null;
  at: number | null;
}

export interface StoreTables {
  legguard_meta: MetaTable;
  legguard_strategies: StrategyTable;
  legguard_holdings: HoldingTable;
  legguard_state_history: StateHistoryTable;
  legguard_journal: JournalTable;
  legguard_orders: OrderTable;
  legguard_alerts: AlertTable;
  legguard_deliveries: DeliveryTable;
  legguard_acks: AckTable;
  legguard_cursors: CursorTable;
  legguard_outside: OutsideTable;
  legguard_locks: LockTable;
  legguard_trading_state: TradingStateTable;
  legguard_leases: LeaseTable;
  legguard_standbys: StandbyTable;
}

export const TABLE_PREFIX = 'legguard_';
export const META_TABLE = 'legguard_meta';
/** What `legguard_meta.application` says in a database legguard made. */
export const APPLICATION = 'legguard';
