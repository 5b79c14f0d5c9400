import { checkEpoch, checkLeaseArgs, fencedError, leaseFromRow, leaseStep } from './lease-rows.js';
import { LegguardError } from '../../core/errors.js';
import { AccountId, type ExecId, type IncidentId, type StrategyId } from '../../core/ids.js';
import { EpochMs } from '../../core/quantity.js';
import type { Alert, Severity } from '../../ports/alerts.js';
import {
  SKIPPED_DELIVERY_PREFIX,
  type Acknowledgement,
  type DeliveryRecord,
  type DeliveryResult,
  type DeliveryStatus,
  type JournalEntry,
  type JournalType,
  type LoadedState,
  type LeaseAttempt,
  type LeaseInfo,
  type LockInfo,
  type StandbyInfo,
  type OrderRecord,
  type OutboxDelivery,
  type OutboxSummary,
  type StateChange,
  type StoreBatch,
  type StorePort,
  type StrategyRecord,
  type TradingStateRecord,
  type UnackedIncident,
} from '../../ports/store.js';
import { checkInt, checkOneOf, checkText } from './store-codec.js';
import {
  EXEC_JOURNAL_TYPES,
  OPEN_ORDER_STATUSES,
  SEVERITIES,
  ackFromRow,
  alertFromRow,
  alertRow,
  checkDeliveryResult,
  checkLimit,
  checkLockArgs,
  checkStatuses,
  compareDeliveries,
  cursorFromRow,
  tradingStateFromRow,
  tradingStateRow,
  cursorPatch,
  deliveryFromRow,
  execIdOfKey,
  historyFromRow,
  historyRow,
  journalFromRow,
  journalRow,
  lockFromRow,
  lockHeldError,
  nextDelivery,
  orderFromRow,
  orderRow,
  outboxDelivery,
  outsideFromRow,
  outsideRows,
  prepareBatch,
  strategyFromRows,
  strategyRows,
  summarise,
  type NoSeq,
} from './store-rows.js';
import type {
  AckTable,
  AlertTable,
  CursorTable,
  DeliveryTable,
  HoldingTable,
  JournalTable,
  LeaseTable,
  LockTable,
  StandbyTable,
  TradingStateTable,
  OrderTable,
  OutsideTable,
  StateHistoryTable,
  StrategyTable,
} from './store-tables.js';

type Seq<T> = NoSeq<T> & { readonly seq: number };

/**
 * The store port in memory, for fast engine tests and benchmarks; nothing survives the process. It keeps the same
 * rows the SQL store keeps (records are encoded to JSON text and decoded on the way out, with the same checks), so
 * what comes back is exactly what the SQL store would return, and a caller that mutates a record after committing it
 * changes nothing stored. A commit encodes every row before it changes anything, so it is all or nothing.
 */
export class MemoryStore implements StorePort {
  readonly dialect = 'memory';
  readonly where = 'memory store';
  private state: 'new' | 'open' | 'closed' = 'new';
  private seq = 0;
  private readonly strategies = new Map<string, { row: StrategyTable; holdings: HoldingTable[] }>();
  private readonly history: Seq<StateHistoryTable>[] = [];
  private readonly journalRows: Seq<JournalTable>[] = [];
  private readonly journalKeys = new Set<string>();
  private readonly orderRows = new Map<string, Seq<OrderTable>>();
  private readonly alerts = new Map<string, Seq<AlertTable>>();
  private readonly deliveryRows = new Map<string, DeliveryTable>();
  private readonly acks = new Map<string, AckTable>();
  private readonly cursors = new Map<string, CursorTable>();
  private readonly outside = new Map<string, OutsideTable[]>();
  private readonly locks = new Map<string, LockTable>();
  private readonly tradingStates = new Map<string, TradingStateTable>();
  private readonly leases = new Map<string, LeaseTable>();
  private readonly standbyRows = new Map<string, StandbyTable>();

  /** `now` is the store's clock for leases (the machine's unless a test gives one). */
  constructor(private readonly now: () => number = Date.now) {}

  init(): Promise<void> {
    if (this.state === 'closed') return Promise.reject(this.closedError());
    this.state = 'open';
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.state = 'closed';
    return Promise.resolve();
  }

  commit(batch: StoreBatch): Promise<void> {
    return this.op(() => {
      const p = prepareBatch(batch);
      const a = p.account;
      if (batch.epoch !== undefined) {
        const epoch = checkEpoch(batch.epoch);
        const current = this.leases.get(a);
        if (current?.epoch !== epoch) throw fencedError(a, epoch, current, this.where, 'commit');
      }
      // Encode everything first: any record that cannot be stored fails the commit before anything changes.
      const strategies = p.strategies.map((r) => strategyRows(a, r));
      const removals = p.removeStrategies.map((id) => checkText(id, 'strategy id to remove', { nonEmpty: true }));
      const history = p.stateChanges.map((c) => historyRow(a, c));
      const journal = p.journal.map((e) => journalRow(a, e));
      const orders = p.orders.map((o) => orderRow(a, o));
      const alerts = p.alerts.map((x) => alertRow(a, x));
      const outside = p.outside === null ? null : outsideRows(a, p.outside);
      const cursor = p.cursor === null ? null : cursorPatch(p.cursor);
      const trading = p.tradingState === null ? null : tradingStateRow(a, p.tradingState);

      for (const s of strategies) this.strategies.set(strategyKey(a, s.row.strategy_id), { row: s.row, holdings: s.holdings });
      for (const id of removals) this.strategies.delete(strategyKey(a, id));
      for (const h of history) this.history.push({ ...h, seq: ++this.seq });
      for (const j of journal) {
        const k = `${a}\u0000${j.key}`;
        if (this.journalKeys.has(k)) continue;
        this.journalKeys.add(k);
        this.journalRows.push({ ...j, seq: ++this.seq });
      }
      for (const o of orders) {
        const k = `${a}\u0000${o.ref}`;
        const prev = this.orderRows.get(k);
        this.orderRows.set(k, { ...o, seq: prev?.seq ?? ++this.seq });
      }
      this.insertAlerts(alerts);
      if (outside !== null) this.outside.set(a, outside);
      if (cursor !== null && Object.keys(cursor).length > 0) {
        const prev = this.cursors.get(a) ?? { account: a, last_execution_at: null, last_exec_id: null, last_reconciled_at: null };
        this.cursors.set(a, { ...prev, ...cursor });
      }
      if (trading !== null) this.tradingStates.set(a, trading);
    });
  }

  load(account: AccountId): Promise<LoadedState> {
    return this.op(() => {
      AccountId.parse(account);
      return {
        strategies: this.readStrategies(account),
        openOrders: this.orderList(account, undefined)
          .filter((o) => OPEN_ORDER_STATUSES.includes(o.status as (typeof OPEN_ORDER_STATUSES)[number]))
          .map((o) => orderFromRow(o, this.where)),
        outside: (this.outside.get(account) ?? []).map((r) => outsideFromRow(r, this.where)),
        cursor: cursorFromRow(this.cursors.get(account), this.where),
      };
    });
  }

  listStrategies(account: AccountId | null): Promise<readonly StrategyRecord[]> {
    return this.op(() => {
      if (account !== null) AccountId.parse(account);
      return this.readStrategies(account);
    });
  }

  strategyIds(account: AccountId): Promise<ReadonlySet<string>> {
    return this.op(() => {
      AccountId.parse(account);
      return new Set([...this.strategies.values()].filter((s) => s.row.account === account).map((s) => s.row.strategy_id));
    });
  }

  orders(filter: { account: AccountId; strategyId?: StrategyId }): Promise<readonly OrderRecord[]> {
    return this.op(() => {
      AccountId.parse(filter.account);
      return this.orderList(filter.account, filter.strategyId).map((o) => orderFromRow(o, this.where));
    });
  }

  recentExecIds(account: AccountId, since: EpochMs): Promise<ReadonlySet<ExecId>> {
    return this.op(() => {
      AccountId.parse(account);
      checkInt(since, 'since');
      const out = new Set<ExecId>();
      for (const j of this.journalRows) {
        if (j.account !== account || j.at < since || !(EXEC_JOURNAL_TYPES as readonly string[]).includes(j.type)) continue;
        const id = execIdOfKey(j.key);
        if (id !== null) out.add(id);
      }
      return out;
    });
  }

  stateHistory(filter: { account: AccountId; strategyId?: StrategyId; limit?: number }): Promise<readonly StateChange[]> {
    return this.op(() => {
      AccountId.parse(filter.account);
      const limit = checkLimit(filter.limit, 'state history limit');
      const rows = this.history.filter((h) => h.account === filter.account && (filter.strategyId === undefined || h.strategy_id === filter.strategyId));
      return newest(rows, limit).map((r) => historyFromRow(r, this.where));
    });
  }

  journal(filter: {
    account: AccountId;
    strategyId?: StrategyId;
    incidentId?: IncidentId;
    types?: readonly JournalType[];
    limit?: number;
  }): Promise<readonly JournalEntry[]> {
    return this.op(() => {
      AccountId.parse(filter.account);
      const limit = checkLimit(filter.limit, 'journal limit');
      const rows = this.journalRows.filter(
        (j) =>
          j.account === filter.account &&
          (filter.strategyId === undefined || j.strategy_id === filter.strategyId) &&
          (filter.incidentId === undefined || j.incident_id === filter.incidentId) &&
          (filter.types === undefined || (filter.types as readonly string[]).includes(j.type)),
      );
      return newest(rows, limit).map((r) => journalFromRow(r, this.where));
    });
  }

  acquireLock(account: AccountId, owner: string, now: EpochMs, ttlMs: number): Promise<void> {
    return this.op(() => {
      checkLockArgs(account, owner, now, ttlMs);
      const held = this.locks.get(account);
      if (held && held.owner !== owner && held.expires_at > now) throw lockHeldError(account, owner, held, this.where, false);
      this.locks.set(account, { account, owner, acquired_at: now, expires_at: now + ttlMs });
    });
  }

  refreshLock(account: AccountId, owner: string, now: EpochMs, ttlMs: number): Promise<void> {
    return this.op(() => {
      checkLockArgs(account, owner, now, ttlMs);
      const held = this.locks.get(account);
      if (!held || held.owner !== owner) throw lockHeldError(account, owner, held, this.where, true);
      this.locks.set(account, { ...held, expires_at: now + ttlMs });
    });
  }

  releaseLock(account: AccountId, owner: string): Promise<void> {
    return this.op(() => {
      checkLockArgs(account, owner, EpochMs.unsafe(0));
      if (this.locks.get(account)?.owner === owner) this.locks.delete(account);
    });
  }

  acquireLease(account: AccountId, holder: string, ttlMs: number, opts: { takeFrom?: string } = {}): Promise<LeaseAttempt> {
    return this.op(() => {
      checkLeaseArgs(account, holder, ttlMs);
      const now = this.now();
      const step = leaseStep(this.leases.get(account), account, holder, now, ttlMs, opts.takeFrom);
      const sk = `${account}\u0000${holder}`;
      if (step.kind === 'refused') {
        this.standbyRows.set(sk, { account, holder, seen_at: now });
        return { acquired: false, lease: leaseFromRow(step.row, now, this.where) };
      }
      this.leases.set(account, step.row);
      this.standbyRows.delete(sk);
      return { acquired: true, lease: leaseFromRow(step.row, now, this.where) };
    });
  }

  renewLease(account: AccountId, holder: string, epoch: number, ttlMs: number): Promise<LeaseInfo> {
    return this.op(() => {
      checkLeaseArgs(account, holder, ttlMs, epoch);
      const now = this.now();
      const current = this.leases.get(account);
      if (current?.holder !== holder || current.epoch !== epoch) throw fencedError(account, epoch, current, this.where, 'renew');
      const row = { ...current, lease_until: now + ttlMs };
      this.leases.set(account, row);
      return leaseFromRow(row, now, this.where);
    });
  }

  releaseLease(account: AccountId, holder: string, epoch: number | null): Promise<void> {
    return this.op(() => {
      checkLeaseArgs(account, holder, undefined, epoch);
      const now = this.now();
      this.standbyRows.delete(`${account}\u0000${holder}`);
      const current = this.leases.get(account);
      if (epoch !== null && current?.holder === holder && current.epoch === epoch && current.lease_until > now) {
        this.leases.set(account, { ...current, lease_until: now });
      }
    });
  }

  leadership(account: AccountId, standbyWithinMs: number): Promise<{ lease: LeaseInfo | null; standbys: readonly StandbyInfo[] }> {
    return this.op(() => {
      AccountId.parse(account);
      checkInt(standbyWithinMs, 'standbyWithinMs');
      const now = this.now();
      const row = this.leases.get(account);
      const standbys = [...this.standbyRows.values()]
        .filter((r) => r.account === account && r.seen_at >= now - standbyWithinMs && r.holder !== row?.holder)
        .map((r) => ({ holder: r.holder, seenAt: r.seen_at as EpochMs }))
        .sort((x, y) => cmp(x.holder, y.holder));
      return { lease: row === undefined ? null : leaseFromRow(row, now, this.where), standbys };
    });
  }

  dueDeliveries(account: AccountId, channels: readonly string[], now: EpochMs, limit: number): Promise<readonly OutboxDelivery[]> {
    return this.op(() => {
      const acct = AccountId.parse(account);
      channels.forEach((c, i) => checkText(c, `channel ${i}`, { nonEmpty: true }));
      checkInt(now, 'now');
      checkLimit(limit, 'outbox limit');
      const wanted = [...new Set(channels)];
      const out: OutboxDelivery[] = [];
      if (wanted.length === 0 || limit === 0) return out;
      for (const a of this.alertsInOrder(acct)) {
        for (const channel of wanted) {
          const d = this.deliveryRows.get(deliveryKey(acct, a.key, channel));
          if (d && !(d.status === 'pending' && d.next_attempt_at !== null && d.next_attempt_at <= now)) continue;
          out.push(outboxDelivery(acct, alertFromRow(a, this.where), channel, d ?? null));
          if (out.length >= limit) return out;
        }
      }
      return out;
    });
  }

  recordDelivery(result: DeliveryResult): Promise<void> {
    return this.op(() => {
      checkDeliveryResult(result);
      if (!this.alerts.has(alertKey(result.account, result.alertKey))) {
        throw new LegguardError('NOT_FOUND', `${this.where}: no alert with key ${JSON.stringify(result.alertKey)} in the outbox of ${result.account}`, {
          account: result.account,
          alertKey: result.alertKey,
        });
      }
      const k = deliveryKey(result.account, result.alertKey, result.channel);
      this.deliveryRows.set(k, nextDelivery(this.deliveryRows.get(k), result));
    });
  }

  enqueueAlerts(account: AccountId, alerts: readonly Alert[]): Promise<void> {
    return this.op(() => {
      const acct = AccountId.parse(account);
      this.insertAlerts(alerts.map((a) => alertRow(acct, a)));
    });
  }

  ackIncident(account: AccountId, incidentId: IncidentId, at: EpochMs, by: string): Promise<boolean> {
    return this.op(() => {
      const acct = AccountId.parse(account);
      checkText(incidentId, 'incident id', { nonEmpty: true });
      checkInt(at, 'acknowledgement time');
      checkText(by, 'acknowledged by');
      let named = false;
      for (const a of this.alerts.values()) {
        if (a.account === acct && a.incident_id === incidentId) {
          named = true;
          break;
        }
      }
      if (!named) return false;
      const k = ackKey(acct, incidentId);
      if (!this.acks.has(k)) this.acks.set(k, { account: acct, incident_id: incidentId, at, acked_by: by });
      return true;
    });
  }

  unackedCritical(account: AccountId): Promise<readonly UnackedIncident[]> {
    return this.op(() => {
      const acct = AccountId.parse(account);
      const by = new Map<string, { incidentId: IncidentId; first: Alert; lastAt: EpochMs; keys: string[] }>();
      for (const a of this.alertsInOrder(acct)) {
        if (a.severity !== 'critical' || a.incident_id === null || this.acks.has(ackKey(acct, a.incident_id))) continue;
        const got = by.get(a.incident_id);
        if (got) {
          got.lastAt = EpochMs.unsafe(Math.max(got.lastAt, a.at));
          got.keys.push(a.key);
        } else by.set(a.incident_id, { incidentId: a.incident_id as IncidentId, first: alertFromRow(a, this.where), lastAt: EpochMs.unsafe(a.at), keys: [a.key] });
      }
      return [...by.values()];
    });
  }

  // ---------------------------------------------------------------- views for status

  recentAlerts(filter: { account: AccountId; severities?: readonly Severity[]; limit: number }): Promise<readonly Alert[]> {
    return this.op(() => {
      const acct = AccountId.parse(filter.account);
      const limit = checkLimit(filter.limit, 'alerts limit') ?? 0;
      const severities = filter.severities?.map((s) => checkOneOf(s, SEVERITIES, 'alert severity'));
      if (limit === 0) return [];
      const rows = this.alertsInOrder(acct).filter((a) => severities === undefined || (severities as readonly string[]).includes(a.severity));
      return newest(rows, limit).map((a) => alertFromRow(a, this.where));
    });
  }

  acknowledgements(account: AccountId, incidentIds: readonly IncidentId[]): Promise<readonly Acknowledgement[]> {
    return this.op(() => {
      const acct = AccountId.parse(account);
      const ids = [...new Set(incidentIds.map((id, i) => checkText(id, `incident id ${i}`, { nonEmpty: true })))];
      return ids.flatMap((id) => {
        const r = this.acks.get(ackKey(acct, id));
        return r ? [ackFromRow(r, this.where)] : [];
      });
    });
  }

  outboxSummary(account: AccountId | null): Promise<OutboxSummary> {
    return this.op(() => {
      const acct = account === null ? null : AccountId.parse(account);
      const groups = new Map<string, { channel: string; status: DeliveryTable['status']; n: number; skipped: number }>();
      for (const d of this.deliveryRows.values()) {
        if (acct !== null && d.account !== acct) continue;
        const k = `${d.channel}\u0000${d.status}`;
        let g = groups.get(k);
        if (!g) groups.set(k, (g = { channel: d.channel, status: d.status, n: 0, skipped: 0 }));
        g.n++;
        if (d.last_error?.startsWith(SKIPPED_DELIVERY_PREFIX)) g.skipped++;
      }
      const alerts = acct === null ? this.alerts.size : [...this.alerts.values()].filter((a) => a.account === acct).length;
      return summarise(alerts, [...groups.values()]);
    });
  }

  deliveries(filter: { account: AccountId | null; statuses: readonly DeliveryStatus[]; limit: number }): Promise<readonly DeliveryRecord[]> {
    return this.op(() => {
      const acct = filter.account === null ? null : AccountId.parse(filter.account);
      const statuses: readonly string[] = checkStatuses(filter.statuses);
      const limit = checkLimit(filter.limit, 'deliveries limit') ?? 0;
      const out: DeliveryRecord[] = [];
      for (const d of this.deliveryRows.values()) {
        if (!statuses.includes(d.status) || (acct !== null && d.account !== acct)) continue;
        const a = this.alerts.get(alertKey(d.account, d.alert_key));
        if (a) out.push(deliveryFromRow(alertFromRow(a, this.where), d, this.where));
      }
      return out.sort(compareDeliveries).slice(0, limit);
    });
  }

  accounts(): Promise<readonly AccountId[]> {
    return this.op(() => {
      const all = new Set<string>([
        ...[...this.strategies.values()].map((s) => s.row.account),
        ...this.leases.keys(),
        ...this.locks.keys(),
        ...this.tradingStates.keys(),
        ...[...this.alerts.values()].map((a) => a.account),
      ]);
      all.delete('');
      return [...all].sort(cmp).map((a) => a as AccountId);
    });
  }

  tradingState(account: AccountId): Promise<TradingStateRecord> {
    return this.op(() => {
      AccountId.parse(account);
      return tradingStateFromRow(this.tradingStates.get(account), this.where);
    });
  }

  lockHolder(account: AccountId): Promise<LockInfo | null> {
    return this.op(() => {
      AccountId.parse(account);
      const r = this.locks.get(account);
      return r ? lockFromRow(r, this.where) : null;
    });
  }

  // ---------------------------------------------------------------- plumbing

  /** Runs `fn` as the port's async call would: checks the store is open, turns a throw into a rejection. */
  private op<T>(fn: () => T): Promise<T> {
    try {
      if (this.state === 'closed') throw this.closedError();
      if (this.state === 'new') throw new LegguardError('INTERNAL', `${this.where}: the store is not initialised; call init() first`);
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private closedError(): LegguardError {
    return new LegguardError('INTERNAL', `${this.where}: the store is closed`);
  }

  private readStrategies(account: AccountId | null): StrategyRecord[] {
    const rows = [...this.strategies.values()].filter((s) => account === null || s.row.account === account);
    rows.sort((x, y) => x.row.created_at - y.row.created_at || cmp(x.row.account, y.row.account) || cmp(x.row.strategy_id, y.row.strategy_id));
    return rows.map((s) => strategyFromRows(s.row, s.holdings, this.where));
  }

  private orderList(account: string, strategyId: string | undefined): Seq<OrderTable>[] {
    return [...this.orderRows.values()]
      .filter((o) => o.account === account && (strategyId === undefined || o.strategy_id === strategyId))
      .sort((x, y) => x.seq - y.seq);
  }

  private alertsInOrder(account: string): Seq<AlertTable>[] {
    return [...this.alerts.values()].filter((a) => a.account === account).sort((x, y) => x.at - y.at || x.seq - y.seq);
  }

  private insertAlerts(rows: readonly NoSeq<AlertTable>[]): void {
    for (const r of rows) {
      const k = alertKey(r.account, r.key);
      if (!this.alerts.has(k)) this.alerts.set(k, { ...r, seq: ++this.seq });
    }
  }
}

function strategyKey(account: string, id: string): string {
  return `${account}\u0000${id}`;
}

function alertKey(account: string, key: string): string {
  return `${account}\u0000${key}`;
}

function deliveryKey(account: string, key: string, channel: string): string {
  return `${account}\u0000${key}\u0000${channel}`;
}

function ackKey(account: string, incidentId: string): string {
  return `${account}\u0000${incidentId}`;
}

function newest<T>(rows: T[], limit: number | null): T[] {
  return limit === null ? rows : rows.slice(Math.max(0, rows.length - limit));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
