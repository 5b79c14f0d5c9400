import type { Holding } from '../../core/book.js';
import { formatNyTime } from '../../core/calendar.js';
import { compactContract, expandContract } from '../../core/compact-contract.js';
import { contractKey, type Contract } from '../../core/contract.js';
import { LegguardError } from '../../core/errors.js';
import { ORDER_STATUSES } from '../../core/events.js';
import { AccountId, type ExecId, type IncidentId, type StrategyId } from '../../core/ids.js';
import type { OrderRequest } from '../../core/order.js';
import { EpochMs, Price, Qty } from '../../core/quantity.js';
import { STRATEGY_STATES } from '../../core/strategy-state.js';
import { STRATEGY_KINDS, type BrokenInfo, type StrategyDefinition } from '../../core/strategy.js';
import type { Alert, Severity } from '../../ports/alerts.js';
import type { TradingState } from '../../core/gate.js';
import {
  DEFAULT_TRADING_STATE,
  JOURNAL_TYPES,
  type Cursor,
  type Acknowledgement,
  type DeliveryRecord,
  type DeliveryResult,
  type DeliveryStatus,
  type JournalEntry,
  type LockInfo,
  type OrderRecord,
  type OutboxDelivery,
  type OutboxSummary,
  type StateChange,
  type StoreBatch,
  type StoredOrderStatus,
  type StrategyRecord,
  type TradingStateRecord,
} from '../../ports/store.js';
import {
  checkFinite,
  checkInt,
  checkNullableInt,
  checkNullableText,
  checkOneOf,
  checkText,
  decodeJson,
  encodeJson,
  storedInt,
  storedNullableInt,
  storedOneOf,
} from './store-codec.js';
import {
  DELIVERY_STATUSES,
  type AckTable,
  type AlertTable,
  type CursorTable,
  type DeliveryTable,
  type HoldingTable,
  type JournalTable,
  type LockTable,
  type OrderTable,
  type OutsideTable,
  type StateHistoryTable,
  type StrategyTable,
  type TradingStateTable,
} from './store-tables.js';

/**
 * Records to rows and rows to records, shared by the SQL store and the memory store so both keep exactly the same
 * values. Encoders check what they write (INVALID_INPUT naming the item and field); decoders check what they read
 * (STORE_CORRUPT naming the table and row).
 */

export type NoSeq<T> = Omit<T, 'seq'>;

export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];
export const STORED_ORDER_STATUSES: readonly StoredOrderStatus[] = ['planned', ...ORDER_STATUSES];
/** Statuses of orders that may still trade: what `load()` returns as open orders. */
export const OPEN_ORDER_STATUSES: readonly StoredOrderStatus[] = ['planned', 'pending', 'working', 'partially-filled'];
/** Journal types whose `exec:<execId>` keys name applied executions. */
export const EXEC_JOURNAL_TYPES = ['fill', 'broker-event'] as const;
export const EXEC_KEY_PREFIX = 'exec:';

// ------------------------------------------------------------------ batch

/** A batch checked for its account and with duplicates resolved; the rows are encoded one step at a time. */
export interface PreparedBatch {
  readonly account: AccountId;
  readonly strategies: readonly StrategyRecord[];
  readonly removeStrategies: readonly StrategyId[];
  readonly stateChanges: readonly StateChange[];
  readonly journal: readonly JournalEntry[];
  readonly orders: readonly OrderRecord[];
  readonly alerts: readonly Alert[];
  readonly outside: readonly Holding[] | null;
  readonly cursor: Partial<Cursor> | null;
  readonly tradingState: TradingStateRecord | null;
  readonly empty: boolean;
}

export function prepareBatch(batch: StoreBatch): PreparedBatch {
  if (typeof batch !== 'object' || batch === null) {
    throw new LegguardError('INVALID_INPUT', 'store batch must be an object');
  }
  const account = AccountId.parse(batch.account);
  const strategies = lastWins(batch.strategies ?? [], (r) => (r as StrategyRecord | undefined)?.definition?.id ?? '');
  const orders = lastWins(batch.orders ?? [], (o) => (o as OrderRecord | undefined)?.request?.ref ?? '');
  const alerts = firstWins(batch.alerts ?? [], (a) => (a as Alert | undefined)?.key ?? '');
  const journal = firstWins(batch.journal ?? [], (e) => (e as JournalEntry | undefined)?.key ?? '');
  const removeStrategies = [...new Set(batch.removeStrategies ?? [])];
  const stateChanges = [...(batch.stateChanges ?? [])];
  const outside = batch.outside === undefined ? null : [...batch.outside];
  const cursor = batch.cursor === undefined ? null : batch.cursor;
  const tradingState = batch.tradingState === undefined ? null : batch.tradingState;
  const empty =
    strategies.length + orders.length + alerts.length + journal.length + removeStrategies.length + stateChanges.length === 0 &&
    outside === null &&
    tradingState === null &&
    (cursor === null || Object.keys(cursor).length === 0);
  return { account, strategies, removeStrategies, stateChanges, journal, orders, alerts, outside, cursor, tradingState, empty };
}

function lastWins<T>(items: readonly T[], key: (t: T) => string): T[] {
  const m = new Map<string, T>();
  for (const it of items) {
    const k = key(it);
    m.delete(k);
    m.set(k, it);
  }
  return [...m.values()];
}

function firstWins<T>(items: readonly T[], key: (t: T) => string): T[] {
  const m = new Map<string, T>();
  for (const it of items) {
    const k = key(it);
    if (!m.has(k)) m.set(k, it);
  }
  return [...m.values()];
}

function sameAccount(account: AccountId, got: unknown, what: string): void {
  if (got !== account) {
    throw new LegguardError('INVALID_INPUT', `${what} belongs to account ${JSON.stringify(got)}, not to the batch's account ${account}`, {
      account,
    });
  }
}

// ------------------------------------------------------------------ strategies

export function strategyRows(account: AccountId, r: StrategyRecord): { row: StrategyTable; holdings: HoldingTable[] } {
  const d = r.definition;
  const id = checkText(d.id, 'strategy id', { nonEmpty: true });
  const what = `strategy ${id}`;
  sameAccount(account, d.account, what);
  checkOneOf(d.kind, STRATEGY_KINDS, `${what} kind`);
  const state = checkOneOf(r.state, STRATEGY_STATES, `${what} state`);
  const createdAt = checkInt(d.createdAt, `${what} createdAt`);
  const updatedAt = checkInt(r.updatedAt, `${what} updatedAt`);
  const row: StrategyTable = {
    account,
    strategy_id: id,
    kind: d.kind,
    state,
    definition: encodeJson(storedDefinition(d), `${what} definition`),
    broken: r.broken === null ? null : encodeJson(r.broken, `${what} broken info`),
    created_at: createdAt,
    updated_at: updatedAt,
  };
  const holdings = holdingRows(r.holdings, `${what} holdings`).map((h) => ({ account, strategy_id: id, ...h }));
  return { row, holdings };
}

export function strategyFromRows(row: StrategyTable, holdings: readonly HoldingTable[], where: string): StrategyRecord {
  const at = `${where}: legguard_strategies ${row.account}/${row.strategy_id}`;
  const definition = definitionRead(decodeJson(row.definition, `${at} definition`));
  if (typeof definition !== 'object' || definition === null || definition.id !== row.strategy_id) {
    throw new LegguardError('STORE_CORRUPT', `${at}: the definition does not name this strategy`, { where });
  }
  return {
    definition,
    state: storedOneOf(row.state, STRATEGY_STATES, `${at} state`),
    broken: row.broken === null ? null : (decodeJson(row.broken, `${at} broken`) as BrokenInfo),
    holdings: holdings.map((h) => holdingFromRow(h, `${where}: legguard_holdings ${row.account}/${row.strategy_id}#${h.idx}`)),
    updatedAt: EpochMs.unsafe(storedInt(row.updated_at, `${at} updated_at`)),
  };
}

/** The definition as stored: its legs' contracts compact (core/compact-contract.ts). */
function storedDefinition(d: StrategyDefinition): unknown {
  return typeof d === 'object' && d !== null && Array.isArray(d.legs) ? { ...d, legs: withLegContracts(d.legs, compactContract) } : d;
}

function definitionRead(x: unknown): StrategyDefinition {
  if (typeof x !== 'object' || x === null || !('legs' in x) || !Array.isArray(x.legs)) return x as StrategyDefinition;
  return { ...x, legs: withLegContracts(x.legs, expandContract) } as StrategyDefinition;
}

/** `legs` with each leg's contract passed through `f` (what is not a list of objects is left as it is). */
function withLegContracts(legs: unknown, f: (c: unknown) => unknown): unknown {
  if (!Array.isArray(legs)) return legs;
  return (legs as unknown[]).map((l) => (typeof l === 'object' && l !== null && 'contract' in l ? { ...l, contract: f(l.contract) } : l));
}

function holdingRows(holdings: readonly Holding[], what: string): { idx: number; contract_key: string; contract: string; qty: number }[] {
  const given: unknown = holdings;
  if (!Array.isArray(given)) throw new LegguardError('INVALID_INPUT', `${what} must be a list`);
  const seen = new Set<string>();
  return holdings.map((h, idx) => {
    const key = keyOf(h.contract, `${what}[${idx}]`);
    if (seen.has(key)) {
      throw new LegguardError('INVALID_INPUT', `${what} list ${key} twice; give one holding per contract`, { contract: key });
    }
    seen.add(key);
    return { idx, contract_key: key, contract: encodeJson(compactContract(h.contract), `${what}[${idx}] contract`), qty: checkInt(h.qty, `${what} ${key} qty`) };
  });
}

function keyOf(c: Contract, what: string): string {
  if (typeof c !== 'object' || c === null || (c.secType !== 'STK' && c.secType !== 'OPT')) {
    throw new LegguardError('INVALID_INPUT', `${what} is not a contract (secType STK or OPT)`);
  }
  return checkText(contractKey(c), `${what} contract key`);
}

function holdingFromRow(h: { contract: string; qty: number }, at: string): Holding {
  return { contract: expandContract(decodeJson(h.contract, `${at} contract`)) as Contract, qty: Qty.unsafe(storedInt(h.qty, `${at} qty`)) };
}

// ------------------------------------------------------------------ outside holdings

export function outsideRows(account: AccountId, holdings: readonly Holding[]): OutsideTable[] {
  return holdingRows(holdings, 'outside holdings').map((h) => ({ account, ...h }));
}

export function outsideFromRow(row: OutsideTable, where: string): Holding {
  return holdingFromRow(row, `${where}: legguard_outside ${row.account}#${row.idx}`);
}

// ------------------------------------------------------------------ state history

export function historyRow(account: AccountId, c: StateChange): NoSeq<StateHistoryTable> {
  const id = checkText(c.strategyId, 'state change strategy id', { nonEmpty: true });
  const what = `state change of ${id}`;
  return {
    account,
    strategy_id: id,
    from_state: c.from === null ? null : checkOneOf(c.from, STRATEGY_STATES, `${what} from`),
    to_state: checkOneOf(c.to, STRATEGY_STATES, `${what} to`),
    at: checkInt(c.at, `${what} at`),
    reason: checkText(c.reason, `${what} reason`),
    incident_id: checkNullableText(c.incidentId, `${what} incident id`),
  };
}

export function historyFromRow(row: NoSeq<StateHistoryTable>, where: string): StateChange {
  const at = `${where}: legguard_state_history ${row.account}/${row.strategy_id}`;
  return {
    strategyId: row.strategy_id as StrategyId,
    from: row.from_state === null ? null : storedOneOf(row.from_state, STRATEGY_STATES, `${at} from_state`),
    to: storedOneOf(row.to_state, STRATEGY_STATES, `${at} to_state`),
    at: EpochMs.unsafe(storedInt(row.at, `${at} at`)),
    reason: row.reason,
    incidentId: row.incident_id as IncidentId | null,
  };
}

// ------------------------------------------------------------------ journal

export function journalRow(account: AccountId, e: JournalEntry): NoSeq<JournalTable> {
  const key = checkText(e.key, 'journal key', { nonEmpty: true });
  const what = `journal entry ${JSON.stringify(key)}`;
  sameAccount(account, e.account, what);
  return {
    account,
    key,
    at: checkInt(e.at, `${what} at`),
    type: checkOneOf(e.type, JOURNAL_TYPES, `${what} type`),
    strategy_id: checkNullableText(e.strategyId, `${what} strategy id`),
    incident_id: checkNullableText(e.incidentId, `${what} incident id`),
    data: encodeJson(e.data, `${what} data`),
  };
}

export function journalFromRow(row: NoSeq<JournalTable>, where: string): JournalEntry {
  const at = `${where}: legguard_journal ${row.account}/${row.key}`;
  return {
    key: row.key,
    at: EpochMs.unsafe(storedInt(row.at, `${at} at`)),
    type: storedOneOf(row.type, JOURNAL_TYPES, `${at} type`),
    account: row.account as AccountId,
    strategyId: row.strategy_id as StrategyId | null,
    incidentId: row.incident_id as IncidentId | null,
    data: decodeJson(row.data, `${at} data`),
  };
}

/** The execution id a journal key names, or null. */
export function execIdOfKey(key: string): ExecId | null {
  return key.startsWith(EXEC_KEY_PREFIX) && key.length > EXEC_KEY_PREFIX.length ? (key.slice(EXEC_KEY_PREFIX.length) as ExecId) : null;
}

// ------------------------------------------------------------------ orders

export function orderRow(account: AccountId, o: OrderRecord): NoSeq<OrderTable> {
  const req = o.request;
  const ref = checkText(req?.ref, 'order ref', { nonEmpty: true });
  const what = `order ${ref}`;
  sameAccount(account, req.account, what);
  return {
    account,
    ref,
    strategy_id: checkText(req.strategyId, `${what} strategy id`, { nonEmpty: true }),
    incident_id: checkNullableText(req.incidentId, `${what} incident id`),
    status: checkOneOf(o.status, STORED_ORDER_STATUSES, `${what} status`),
    order_id: checkNullableText(o.orderId, `${what} broker order id`),
    request: encodeJson(storedRequest(req), `${what} request`),
    filled_qty: checkInt(o.filledQty, `${what} filledQty`),
    avg_fill_price: o.avgFillPrice === null ? null : checkFinite(o.avgFillPrice, `${what} avgFillPrice`),
    placed_at: checkNullableInt(o.placedAt, `${what} placedAt`),
    position_before: encodeJson(o.positionBefore, `${what} positionBefore`),
    reason: checkNullableText(o.reason, `${what} reason`),
    updated_at: checkInt(o.updatedAt, `${what} updatedAt`),
  };
}

export function orderFromRow(row: NoSeq<OrderTable>, where: string): OrderRecord {
  const at = `${where}: legguard_orders ${row.account}/${row.ref}`;
  const request = requestRead(row, decodeJson(row.request, `${at} request`));
  if (typeof request !== 'object' || request === null || request.ref !== row.ref) {
    throw new LegguardError('STORE_CORRUPT', `${at}: the request does not carry this ref`, { where });
  }
  const price = row.avg_fill_price;
  if (price !== null && (typeof price !== 'number' || !Number.isFinite(price))) {
    throw new LegguardError('STORE_CORRUPT', `${at}: avg_fill_price is not a number`, { where });
  }
  return {
    request,
    orderId: row.order_id as OrderRecord['orderId'],
    status: storedOneOf(row.status, STORED_ORDER_STATUSES, `${at} status`),
    filledQty: Qty.unsafe(storedInt(row.filled_qty, `${at} filled_qty`)),
    avgFillPrice: price === null ? null : Price.unsafe(price),
    placedAt: storedNullableInt(row.placed_at, `${at} placed_at`) as EpochMs | null,
    positionBefore: decodeJson(row.position_before, `${at} position_before`) as OrderRecord['positionBefore'],
    reason: row.reason,
    updatedAt: EpochMs.unsafe(storedInt(row.updated_at, `${at} updated_at`)),
  };
}

/**
 * The request as stored: without the fields its row's columns hold (ref, strategy, incident, account), its legs'
 * contracts compact. Rows written before (every field in the request) read back the same.
 */
function storedRequest(req: OrderRequest): unknown {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { ref, strategyId, incidentId, account, ...rest } = req;
  return { ...rest, legs: withLegContracts(rest.legs, compactContract) };
}

function requestRead(row: NoSeq<OrderTable>, x: unknown): OrderRequest {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return x as OrderRequest;
  const legs = 'legs' in x ? { legs: withLegContracts(x.legs, expandContract) } : {};
  return { ref: row.ref, strategyId: row.strategy_id, incidentId: row.incident_id, account: row.account, ...x, ...legs } as OrderRequest;
}

// ------------------------------------------------------------------ alerts outbox

export function alertRow(account: string, a: Alert): NoSeq<AlertTable> {
  const key = checkText(a?.key, 'alert key', { nonEmpty: true });
  const what = `alert ${JSON.stringify(key)}`;
  return {
    account,
    key,
    severity: checkOneOf(a.severity, SEVERITIES, `${what} severity`),
    incident_id: checkNullableText(a.incidentId, `${what} incident id`),
    strategy_id: checkNullableText(a.strategyId, `${what} strategy id`),
    at: checkInt(a.at, `${what} at`),
    alert: encodeJson(a, what),
  };
}

export function alertFromRow(row: Pick<AlertTable, 'key' | 'alert'>, where: string): Alert {
  const a = decodeJson(row.alert, `${where}: legguard_alerts ${row.key}`) as Alert;
  if (typeof a !== 'object' || a === null || a.key !== row.key) {
    throw new LegguardError('STORE_CORRUPT', `${where}: legguard_alerts ${row.key}: the alert does not carry this key`, { where });
  }
  return a;
}

export function checkDeliveryResult(r: DeliveryResult): void {
  AccountId.parse(r.account);
  checkText(r.alertKey, 'delivery alert key', { nonEmpty: true });
  checkText(r.channel, 'delivery channel', { nonEmpty: true });
  checkInt(r.at, 'delivery time');
  checkNullableText(r.error, 'delivery error');
  if (typeof r.delivered !== 'boolean') throw new LegguardError('INVALID_INPUT', 'delivery result `delivered` must be true or false');
  if (!r.delivered) checkNullableInt(r.nextAttemptAt, 'delivery nextAttemptAt');
}

/**
 * The delivery row after one more attempt. A delivered pair stays delivered (a late failure report of a duplicate
 * send must not make it due again); a failure with no next attempt is dead (the dead letter).
 */
export function nextDelivery(existing: DeliveryTable | undefined, r: DeliveryResult): DeliveryTable {
  const status = existing?.status === 'delivered' || r.delivered ? 'delivered' : r.nextAttemptAt === null ? 'dead' : 'pending';
  return {
    account: r.account,
    alert_key: r.alertKey,
    channel: r.channel,
    status,
    attempts: (existing?.attempts ?? 0) + 1,
    next_attempt_at: status === 'pending' ? r.nextAttemptAt : null,
    last_error: r.error,
    updated_at: r.at,
  };
}

export function outboxDelivery(account: AccountId, alert: Alert, channel: string, d: Pick<DeliveryTable, 'attempts' | 'last_error'> | null): OutboxDelivery {
  return { account, alert, channel, attempts: d?.attempts ?? 0, lastError: d?.last_error ?? null };
}

/** A delivery row with its alert, as `deliveries()` returns it. */
export function deliveryFromRow(alert: Alert, d: DeliveryTable, where: string): DeliveryRecord {
  const at = `${where}: legguard_deliveries ${d.account}/${d.alert_key}/${d.channel}`;
  return {
    account: d.account as AccountId,
    alert,
    channel: d.channel,
    status: storedOneOf(d.status, DELIVERY_STATUSES, `${at} status`),
    attempts: storedInt(d.attempts, `${at} attempts`),
    nextAttemptAt: storedNullableInt(d.next_attempt_at, `${at} next_attempt_at`) as EpochMs | null,
    lastError: d.last_error,
    updatedAt: storedInt(d.updated_at, `${at} updated_at`) as EpochMs,
  };
}

/** Most recently updated first; ties by alert time, key and channel, so every store lists the same order. */
export function compareDeliveries(x: DeliveryRecord, y: DeliveryRecord): number {
  return (
    y.updatedAt - x.updatedAt ||
    x.alert.at - y.alert.at ||
    cmpText(x.account, y.account) ||
    cmpText(x.alert.key, y.alert.key) ||
    cmpText(x.channel, y.channel)
  );
}

export function checkStatuses(statuses: readonly DeliveryStatus[]): DeliveryStatus[] {
  return statuses.map((s) => checkOneOf(s, DELIVERY_STATUSES, 'delivery status'));
}

/** Per-channel counts from (channel, status, count, skipped) groups, channels by name. */
export function summarise(alerts: number, groups: readonly { channel: string; status: DeliveryStatus; n: number; skipped: number }[]): OutboxSummary {
  const by = new Map<string, { channel: string; delivered: number; pending: number; dead: number; skipped: number }>();
  for (const g of groups) {
    let c = by.get(g.channel);
    if (!c) by.set(g.channel, (c = { channel: g.channel, delivered: 0, pending: 0, dead: 0, skipped: 0 }));
    c[g.status] += g.n;
    if (g.status === 'dead') c.skipped += g.skipped;
  }
  return { alerts, channels: [...by.values()].sort((x, y) => cmpText(x.channel, y.channel)) };
}

export function ackFromRow(r: AckTable, where: string): Acknowledgement {
  return {
    incidentId: r.incident_id as IncidentId,
    at: storedInt(r.at, `${where}: legguard_acks ${r.incident_id} at`) as EpochMs,
    by: r.acked_by,
  };
}

export function lockFromRow(r: LockTable, where: string): LockInfo {
  const at = `${where}: legguard_locks ${r.account}`;
  return {
    owner: r.owner,
    acquiredAt: storedInt(r.acquired_at, `${at} acquired_at`) as EpochMs,
    expiresAt: storedInt(r.expires_at, `${at} expires_at`) as EpochMs,
  };
}

export function cmpText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ------------------------------------------------------------------ cursor

export const EMPTY_CURSOR: Cursor = { lastExecutionAt: null, lastExecId: null, lastReconciledAt: null };

/** The cursor columns a partial cursor sets (only the fields given). */
export function cursorPatch(c: Partial<Cursor>): Partial<Omit<CursorTable, 'account'>> {
  const out: Partial<Omit<CursorTable, 'account'>> = {};
  if (c.lastExecutionAt !== undefined) out.last_execution_at = checkNullableInt(c.lastExecutionAt, 'cursor lastExecutionAt');
  if (c.lastExecId !== undefined) out.last_exec_id = checkNullableText(c.lastExecId, 'cursor lastExecId');
  if (c.lastReconciledAt !== undefined) out.last_reconciled_at = checkNullableInt(c.lastReconciledAt, 'cursor lastReconciledAt');
  return out;
}

export function cursorFromRow(row: CursorTable | undefined, where: string): Cursor {
  if (!row) return EMPTY_CURSOR;
  const at = `${where}: legguard_cursors ${row.account}`;
  return {
    lastExecutionAt: storedNullableInt(row.last_execution_at, `${at} last_execution_at`) as EpochMs | null,
    lastExecId: row.last_exec_id as ExecId | null,
    lastReconciledAt: storedNullableInt(row.last_reconciled_at, `${at} last_reconciled_at`) as EpochMs | null,
  };
}

// ------------------------------------------------------------------ trading state

export const TRADING_STATES: readonly TradingState[] = ['ACTIVE', 'REDUCING', 'HALTED'];

/** The row for an account's trading state; INVALID_INPUT naming the field for a record that cannot be stored. */
export function tradingStateRow(account: AccountId, r: TradingStateRecord): TradingStateTable {
  if (typeof r !== 'object' || r === null) throw new LegguardError('INVALID_INPUT', 'trading state must be an object');
  return {
    account,
    state: checkOneOf(r.state, TRADING_STATES, 'trading state'),
    reason: checkNullableText(r.reason, 'trading state reason'),
    changed_by: checkNullableText(r.by, 'trading state by'),
    at: r.at === null ? null : checkInt(r.at, 'trading state at'),
  };
}

export function tradingStateFromRow(row: TradingStateTable | undefined, where: string): TradingStateRecord {
  if (!row) return DEFAULT_TRADING_STATE;
  const at = `${where}: legguard_trading_state ${row.account}`;
  return {
    state: storedOneOf(row.state, TRADING_STATES, `${at} state`),
    reason: row.reason,
    by: row.changed_by,
    at: storedNullableInt(row.at, `${at} at`) as EpochMs | null,
  };
}

// ------------------------------------------------------------------ locks and queries

export function checkLockArgs(account: AccountId, owner: string, now: EpochMs, ttlMs?: number): void {
  AccountId.parse(account);
  checkText(owner, 'lock owner', { nonEmpty: true });
  checkInt(now, 'lock time');
  if (ttlMs !== undefined && (!Number.isSafeInteger(ttlMs) || ttlMs <= 0)) {
    throw new LegguardError('INVALID_INPUT', `lock ttlMs must be a positive whole number of milliseconds; got ${ttlMs}`);
  }
}

export function lockHeldError(account: AccountId, owner: string, holder: { owner: string; expires_at: number } | undefined, where: string, refreshing: boolean): LegguardError {
  if (!holder) {
    return new LegguardError('LOCK_HELD', `${where}: ${owner} no longer holds the lock for account ${account} (it was released); stop and start again`, {
      account,
      owner: null,
      expiresAt: null,
    });
  }
  const until = formatNyTime(holder.expires_at);
  const verb = refreshing ? `the lock was taken over by ${JSON.stringify(holder.owner)}` : `another guard, ${JSON.stringify(holder.owner)}, holds it`;
  return new LegguardError(
    'LOCK_HELD',
    `${where}: account ${account} is locked: ${verb} until ${until}. Stop that guard, or wait until the lock expires.`,
    { account, owner: holder.owner, expiresAt: holder.expires_at },
  );
}

export function checkLimit(limit: number | undefined, what: string): number | null {
  if (limit === undefined) return null;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new LegguardError('INVALID_INPUT', `${what} must be a whole number >= 0; got ${limit}`);
  }
  return limit;
}
