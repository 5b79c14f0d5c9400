import { sql, type Kysely } from 'kysely';
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
import { checkEpoch, checkLeaseArgs, fencedError, leaseFromRow, leaseStep } from './lease-rows.js';
import { migrate } from './migrations.js';
import type { SqlDialect, StoreOp } from './sql-dialect.js';
import { checkInt, checkOneOf, checkText, storedInt, storedOneOf } from './store-codec.js';
import {
  EXEC_JOURNAL_TYPES,
  EXEC_KEY_PREFIX,
  OPEN_ORDER_STATUSES,
  SEVERITIES,
  ackFromRow,
  alertFromRow,
  alertRow,
  checkDeliveryResult,
  cmpText,
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
  type PreparedBatch,
} from './store-rows.js';
import { DELIVERY_STATUSES, type HoldingTable, type LeaseTable, type StoreTables, type StrategyTable } from './store-tables.js';

type Db = Kysely<StoreTables>;

/** Rows per INSERT: well under SQLite's 32,766 and Postgres' 65,535 bound parameters at 14 columns a row. */
const CHUNK = 400;

/**
 * The store over SQL, written once for SQLite and Postgres; what differs between them is in the `SqlDialect`. Every
 * write is one transaction: a batch is all written or not at all, and `commit` resolves only once the database says
 * the transaction is durable. Every failure is a LegguardError naming the file or URL, the operation and the problem.
 */
export class KyselyStore implements StorePort {
  readonly dialect: string;
  private db: Db | null = null;
  private opening: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly sqlDialect: SqlDialect) {
    this.dialect = sqlDialect.name;
  }

  /** The file or (redacted) URL the store keeps its data in. */
  get where(): string {
    return this.sqlDialect.where;
  }

  init(): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError());
    if (this.db) return Promise.resolve();
    // A second init while the first runs waits for it rather than opening the database twice.
    this.opening ??= this.open().finally(() => {
      this.opening = null;
    });
    return this.opening;
  }

  private async open(): Promise<void> {
    const db = await this.sqlDialect.open();
    try {
      await this.tx(db, 'write', 'init', (t) => migrate(t, this.sqlDialect));
      await this.run('init', () => this.sqlDialect.afterMigrate(db));
    } catch (e) {
      await this.sqlDialect.close().catch(() => undefined);
      throw e;
    }
    this.db = db;
  }

  /**
   * The durability settings in force, as the database reports them: SQLite `journal_mode`, `synchronous`,
   * `busy_timeout`; Postgres `synchronous_commit`, `search_path`, `schema`.
   */
  async settings(): Promise<Record<string, string>> {
    const db = this.live();
    return this.run('read settings', () => db.connection().execute((conn) => this.sqlDialect.settings(conn)));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db = null;
    await this.sqlDialect.close();
  }

  // ---------------------------------------------------------------- commit and load

  async commit(batch: StoreBatch): Promise<void> {
    const db = this.live();
    const p = prepareBatch(batch);
    if (p.empty) return;
    // Rows are encoded step by step inside the transaction, so a record that cannot be stored fails the commit
    // part-way, and the rollback undoes what was already written.
    const epoch = batch.epoch === undefined ? null : checkEpoch(batch.epoch);
    await this.tx(db, 'write', 'commit', async (t) => {
      // The fence first, in the same transaction: a commit from an older epoch writes nothing.
      if (epoch !== null) {
        const current = await this.readLease(t, p.account, this.sqlDialect.rowLocks);
        if (current?.epoch !== epoch) throw fencedError(p.account, epoch, current, this.where, 'commit');
      }
      const prepared = this.sqlDialect.preparedWriter?.() ?? null;
      if (prepared === null) await writeBatch(t, p);
      else {
        // On the connection this transaction holds: the statements run inside it.
        prepared.writeHot(p);
        await writeRest(t, p);
      }
    });
  }

  async load(account: AccountId): Promise<LoadedState> {
    const db = this.live();
    AccountId.parse(account);
    return this.tx(db, 'read', 'load', async (t) => {
      const strategies = await this.readStrategies(t, account);
      const openOrders = (
        await t
          .selectFrom('legguard_orders')
          .selectAll()
          .where('account', '=', account)
          .where('status', 'in', [...OPEN_ORDER_STATUSES])
          .orderBy('seq')
          .execute()
      ).map((r) => orderFromRow(r, this.where));
      const outside = (await t.selectFrom('legguard_outside').selectAll().where('account', '=', account).orderBy('idx').execute()).map((r) =>
        outsideFromRow(r, this.where),
      );
      const cursor = cursorFromRow(await t.selectFrom('legguard_cursors').selectAll().where('account', '=', account).executeTakeFirst(), this.where);
      return { strategies, openOrders, outside, cursor };
    });
  }

  async listStrategies(account: AccountId | null): Promise<readonly StrategyRecord[]> {
    const db = this.live();
    if (account !== null) AccountId.parse(account);
    return this.tx(db, 'read', 'list strategies', (t) => this.readStrategies(t, account));
  }

  async strategyIds(account: AccountId): Promise<ReadonlySet<string>> {
    const db = this.live();
    AccountId.parse(account);
    const rows = await this.run('list strategy ids', () => db.selectFrom('legguard_strategies').select('strategy_id').where('account', '=', account).execute());
    return new Set(rows.map((r) => r.strategy_id));
  }

  private async readStrategies(t: Db, account: AccountId | null): Promise<StrategyRecord[]> {
    let sq = t.selectFrom('legguard_strategies').selectAll();
    let hq = t.selectFrom('legguard_holdings').selectAll();
    if (account !== null) {
      sq = sq.where('account', '=', account);
      hq = hq.where('account', '=', account);
    }
    // Ties on created_at are ordered here, not in SQL: Postgres would sort text by the database's collation
    // ('a' before 'B' under en_US), SQLite and the memory store by code point.
    const rows: StrategyTable[] = (await sq.execute()).sort(
      (x, y) => x.created_at - y.created_at || cmp(x.account, y.account) || cmp(x.strategy_id, y.strategy_id),
    );
    const holdings: HoldingTable[] = await hq.orderBy('account').orderBy('strategy_id').orderBy('idx').execute();
    const by = new Map<string, HoldingTable[]>();
    for (const h of holdings) {
      const k = `${h.account}\u0000${h.strategy_id}`;
      let list = by.get(k);
      if (!list) by.set(k, (list = []));
      list.push(h);
    }
    return rows.map((r) => strategyFromRows(r, by.get(`${r.account}\u0000${r.strategy_id}`) ?? [], this.where));
  }

  async orders(filter: { account: AccountId; strategyId?: StrategyId }): Promise<readonly OrderRecord[]> {
    const db = this.live();
    AccountId.parse(filter.account);
    return this.run('read orders', async () => {
      let q = db.selectFrom('legguard_orders').selectAll().where('account', '=', filter.account);
      if (filter.strategyId !== undefined) q = q.where('strategy_id', '=', filter.strategyId);
      return (await q.orderBy('seq').execute()).map((r) => orderFromRow(r, this.where));
    });
  }

  async recentExecIds(account: AccountId, since: EpochMs): Promise<ReadonlySet<ExecId>> {
    const db = this.live();
    AccountId.parse(account);
    checkInt(since, 'since');
    return this.run('read execution ids', async () => {
      const rows = await db
        .selectFrom('legguard_journal')
        .select('key')
        .where('account', '=', account)
        .where('at', '>=', since)
        .where('type', 'in', [...EXEC_JOURNAL_TYPES])
        .where(sql<string>`substr(key, 1, ${EXEC_KEY_PREFIX.length})`, '=', EXEC_KEY_PREFIX)
        .execute();
      const out = new Set<ExecId>();
      for (const r of rows) {
        const id = execIdOfKey(r.key);
        if (id !== null) out.add(id);
      }
      return out;
    });
  }

  async stateHistory(filter: { account: AccountId; strategyId?: StrategyId; limit?: number }): Promise<readonly StateChange[]> {
    const db = this.live();
    AccountId.parse(filter.account);
    const limit = checkLimit(filter.limit, 'state history limit');
    return this.run('read state history', async () => {
      let q = db.selectFrom('legguard_state_history').selectAll().where('account', '=', filter.account);
      if (filter.strategyId !== undefined) q = q.where('strategy_id', '=', filter.strategyId);
      const rows = limit === null ? await q.orderBy('seq').execute() : (await q.orderBy('seq', 'desc').limit(limit).execute()).reverse();
      return rows.map((r) => historyFromRow(r, this.where));
    });
  }

  async journal(filter: {
    account: AccountId;
    strategyId?: StrategyId;
    incidentId?: IncidentId;
    types?: readonly JournalType[];
    limit?: number;
  }): Promise<readonly JournalEntry[]> {
    const db = this.live();
    AccountId.parse(filter.account);
    const limit = checkLimit(filter.limit, 'journal limit');
    if (filter.types?.length === 0) return [];
    return this.run('read journal', async () => {
      let q = db.selectFrom('legguard_journal').selectAll().where('account', '=', filter.account);
      if (filter.strategyId !== undefined) q = q.where('strategy_id', '=', filter.strategyId);
      if (filter.incidentId !== undefined) q = q.where('incident_id', '=', filter.incidentId);
      if (filter.types !== undefined) q = q.where('type', 'in', [...filter.types]);
      const rows = limit === null ? await q.orderBy('seq').execute() : (await q.orderBy('seq', 'desc').limit(limit).execute()).reverse();
      return rows.map((r) => journalFromRow(r, this.where));
    });
  }

  // ---------------------------------------------------------------- lock

  async acquireLock(account: AccountId, owner: string, now: EpochMs, ttlMs: number): Promise<void> {
    const db = this.live();
    checkLockArgs(account, owner, now, ttlMs);
    // One statement takes a free, expired or own lock atomically; a live lock of another owner makes the conditional
    // update do nothing, and RETURNING comes back empty.
    const taken = await this.run('acquire lock', () =>
      db
        .insertInto('legguard_locks')
        .values({ account, owner, acquired_at: now, expires_at: now + ttlMs })
        .onConflict((oc) =>
          oc
            .column('account')
            .doUpdateSet((eb) => ({
              owner: eb.ref('excluded.owner'),
              acquired_at: eb.ref('excluded.acquired_at'),
              expires_at: eb.ref('excluded.expires_at'),
            }))
            .where((eb) => eb.or([eb('legguard_locks.owner', '=', owner), eb('legguard_locks.expires_at', '<=', now)])),
        )
        .returning('owner')
        .execute(),
    );
    if (taken.length > 0) return;
    throw lockHeldError(account, owner, await this.readLock(db, account), this.where, false);
  }

  async refreshLock(account: AccountId, owner: string, now: EpochMs, ttlMs: number): Promise<void> {
    const db = this.live();
    checkLockArgs(account, owner, now, ttlMs);
    const r = await this.run('refresh lock', () =>
      db
        .updateTable('legguard_locks')
        .set({ expires_at: now + ttlMs })
        .where('account', '=', account)
        .where('owner', '=', owner)
        .executeTakeFirst(),
    );
    if (Number(r.numUpdatedRows) > 0) return;
    throw lockHeldError(account, owner, await this.readLock(db, account), this.where, true);
  }

  async releaseLock(account: AccountId, owner: string): Promise<void> {
    const db = this.live();
    checkLockArgs(account, owner, EpochMs.unsafe(0));
    await this.run('release lock', () => db.deleteFrom('legguard_locks').where('account', '=', account).where('owner', '=', owner).execute());
  }

  private readLock(db: Db, account: AccountId): Promise<{ owner: string; expires_at: number } | undefined> {
    return this.run('read lock', () =>
      db.selectFrom('legguard_locks').select(['owner', 'expires_at']).where('account', '=', account).executeTakeFirst(),
    );
  }

  // ---------------------------------------------------------------- lease

  async acquireLease(account: AccountId, holder: string, ttlMs: number, opts: { takeFrom?: string } = {}): Promise<LeaseAttempt> {
    const db = this.live();
    checkLeaseArgs(account, holder, ttlMs);
    return this.tx(db, 'write', 'acquire lease', async (t) => {
      const now = await this.storeNow(t);
      // A row to lock even for the first acquire: two guards starting at once then queue on it.
      await t
        .insertInto('legguard_leases')
        .values({ account, holder: '', epoch: 0, acquired_at: 0, lease_until: 0 })
        .onConflict((oc) => oc.column('account').doNothing())
        .execute();
      const current = await this.readLease(t, account, this.sqlDialect.rowLocks);
      const step = leaseStep(current, account, holder, now, ttlMs, opts.takeFrom);
      if (step.kind === 'refused') {
        await t
          .insertInto('legguard_standbys')
          .values({ account, holder, seen_at: now })
          .onConflict((oc) => oc.columns(['account', 'holder']).doUpdateSet({ seen_at: now }))
          .execute();
        return { acquired: false, lease: leaseFromRow(step.row, now, this.where) };
      }
      await t
        .updateTable('legguard_leases')
        .set({ holder: step.row.holder, epoch: step.row.epoch, acquired_at: step.row.acquired_at, lease_until: step.row.lease_until })
        .where('account', '=', account)
        .execute();
      await t.deleteFrom('legguard_standbys').where('account', '=', account).where('holder', '=', holder).execute();
      return { acquired: true, lease: leaseFromRow(step.row, now, this.where) };
    });
  }

  async renewLease(account: AccountId, holder: string, epoch: number, ttlMs: number): Promise<LeaseInfo> {
    const db = this.live();
    checkLeaseArgs(account, holder, ttlMs, epoch);
    return this.tx(db, 'write', 'renew lease', async (t) => {
      const now = await this.storeNow(t);
      const current = await this.readLease(t, account, this.sqlDialect.rowLocks);
      if (current?.holder !== holder || current.epoch !== epoch) throw fencedError(account, epoch, current, this.where, 'renew');
      const row = { ...current, lease_until: now + ttlMs };
      await t.updateTable('legguard_leases').set({ lease_until: row.lease_until }).where('account', '=', account).execute();
      return leaseFromRow(row, now, this.where);
    });
  }

  async releaseLease(account: AccountId, holder: string, epoch: number | null): Promise<void> {
    const db = this.live();
    checkLeaseArgs(account, holder, undefined, epoch);
    await this.tx(db, 'write', 'release lease', async (t) => {
      const now = await this.storeNow(t);
      await t.deleteFrom('legguard_standbys').where('account', '=', account).where('holder', '=', holder).execute();
      if (epoch === null) return;
      await t
        .updateTable('legguard_leases')
        .set({ lease_until: now })
        .where('account', '=', account)
        .where('holder', '=', holder)
        .where('epoch', '=', epoch)
        .where('lease_until', '>', now)
        .execute();
    });
  }

  async leadership(account: AccountId, standbyWithinMs: number): Promise<{ lease: LeaseInfo | null; standbys: readonly StandbyInfo[] }> {
    const db = this.live();
    AccountId.parse(account);
    checkInt(standbyWithinMs, 'standbyWithinMs');
    return this.tx(db, 'read', 'read lease', async (t) => {
      const now = await this.storeNow(t);
      const row = await this.readLease(t, account, false);
      const standbys = await t
        .selectFrom('legguard_standbys')
        .selectAll()
        .where('account', '=', account)
        .where('seen_at', '>=', now - standbyWithinMs)
        .execute();
      return {
        lease: row === undefined || row.holder === '' ? null : leaseFromRow(row, now, this.where),
        standbys: standbys
          .map((r) => ({ holder: r.holder, seenAt: storedInt(r.seen_at, `${this.where}: legguard_standbys ${r.holder} seen_at`) as EpochMs }))
          .filter((sb) => sb.holder !== row?.holder)
          .sort((x, y) => cmp(x.holder, y.holder)),
      };
    });
  }

  private async storeNow(t: Db): Promise<number> {
    const r = await sql<{ now: number }>`select ${sql.raw(this.sqlDialect.nowSql)} as now`.execute(t);
    return storedInt(r.rows[0]?.now, `${this.where}: the store's clock`);
  }

  private async readLease(t: Db, account: string, lock: boolean): Promise<LeaseTable | undefined> {
    const q = t.selectFrom('legguard_leases').selectAll().where('account', '=', account);
    return (lock ? q.forShare() : q).executeTakeFirst();
  }

  // ---------------------------------------------------------------- outbox

  async dueDeliveries(account: AccountId, channels: readonly string[], now: EpochMs, limit: number): Promise<readonly OutboxDelivery[]> {
    const db = this.live();
    const acct = AccountId.parse(account);
    channels.forEach((c, i) => checkText(c, `channel ${i}`, { nonEmpty: true }));
    checkInt(now, 'now');
    checkLimit(limit, 'outbox limit');
    const wanted = [...new Set(channels)];
    if (wanted.length === 0 || limit === 0) return [];
    return this.tx(db, 'read', 'read outbox', async (t) => {
      const found: { seq: number; at: number; ch: number; d: OutboxDelivery }[] = [];
      for (const [ch, channel] of wanted.entries()) {
        const rows = await t
          .selectFrom('legguard_alerts as a')
          .leftJoin('legguard_deliveries as d', (j) =>
            j.onRef('d.account', '=', 'a.account').onRef('d.alert_key', '=', 'a.key').on('d.channel', '=', channel),
          )
          .select(['a.seq', 'a.key', 'a.at', 'a.alert', 'd.attempts', 'd.last_error', 'd.status'])
          .where('a.account', '=', acct)
          .where((eb) => eb.or([eb('d.alert_key', 'is', null), eb.and([eb('d.status', '=', 'pending'), eb('d.next_attempt_at', '<=', now)])]))
          .orderBy('a.at')
          .orderBy('a.seq')
          .limit(limit)
          .execute();
        for (const r of rows) {
          const alert = alertFromRow(r, this.where);
          const delivery = r.status === null ? null : { attempts: r.attempts ?? 0, last_error: r.last_error };
          if (r.status !== null) storedOneOf(r.status, DELIVERY_STATUSES, `${this.where}: legguard_deliveries ${r.key}/${channel} status`);
          found.push({ seq: r.seq, at: r.at, ch, d: outboxDelivery(acct, alert, channel, delivery) });
        }
      }
      found.sort((a, b) => a.at - b.at || a.seq - b.seq || a.ch - b.ch);
      return found.slice(0, limit).map((f) => f.d);
    });
  }

  async recordDelivery(result: DeliveryResult): Promise<void> {
    const db = this.live();
    checkDeliveryResult(result);
    await this.tx(db, 'write', 'record delivery', async (t) => {
      const alert = await t
        .selectFrom('legguard_alerts')
        .select('key')
        .where('account', '=', result.account)
        .where('key', '=', result.alertKey)
        .executeTakeFirst();
      if (!alert) {
        throw new LegguardError('NOT_FOUND', `${this.where}: no alert with key ${JSON.stringify(result.alertKey)} in the outbox of ${result.account}`, {
          account: result.account,
          alertKey: result.alertKey,
        });
      }
      const existing = await t
        .selectFrom('legguard_deliveries')
        .selectAll()
        .where('account', '=', result.account)
        .where('alert_key', '=', result.alertKey)
        .where('channel', '=', result.channel)
        .executeTakeFirst();
      const next = nextDelivery(existing, result);
      await t
        .insertInto('legguard_deliveries')
        .values(next)
        .onConflict((oc) =>
          oc.columns(['account', 'alert_key', 'channel']).doUpdateSet({
            status: next.status,
            attempts: next.attempts,
            next_attempt_at: next.next_attempt_at,
            last_error: next.last_error,
            updated_at: next.updated_at,
          }),
        )
        .execute();
    });
  }

  async enqueueAlerts(account: AccountId, alerts: readonly Alert[]): Promise<void> {
    const db = this.live();
    const acct = AccountId.parse(account);
    if (alerts.length === 0) return;
    await this.tx(db, 'write', 'enqueue alerts', (t) => insertAlerts(t, acct, alerts));
  }

  async ackIncident(account: AccountId, incidentId: IncidentId, at: EpochMs, by: string): Promise<boolean> {
    const db = this.live();
    const acct = AccountId.parse(account);
    checkText(incidentId, 'incident id', { nonEmpty: true });
    checkInt(at, 'acknowledgement time');
    checkText(by, 'acknowledged by');
    return this.tx(db, 'write', 'acknowledge incident', async (t) => {
      const named = await t
        .selectFrom('legguard_alerts')
        .select('key')
        .where('account', '=', acct)
        .where('incident_id', '=', incidentId)
        .limit(1)
        .executeTakeFirst();
      if (!named) return false;
      await t
        .insertInto('legguard_acks')
        .values({ account: acct, incident_id: incidentId, at, acked_by: by })
        .onConflict((oc) => oc.columns(['account', 'incident_id']).doNothing())
        .execute();
      return true;
    });
  }

  async unackedCritical(account: AccountId): Promise<readonly UnackedIncident[]> {
    const db = this.live();
    const acct = AccountId.parse(account);
    return this.run('read unacknowledged incidents', async () => {
      const rows = await db
        .selectFrom('legguard_alerts as a')
        .select(['a.key', 'a.alert', 'a.incident_id', 'a.at'])
        .where('a.account', '=', acct)
        .where('a.severity', '=', 'critical')
        .where('a.incident_id', 'is not', null)
        .where((eb) =>
          eb.not(
            eb.exists(eb.selectFrom('legguard_acks as k').select('k.incident_id').whereRef('k.account', '=', 'a.account').whereRef('k.incident_id', '=', 'a.incident_id')),
          ),
        )
        .orderBy('a.at')
        .orderBy('a.seq')
        .execute();
      const by = new Map<string, { incidentId: IncidentId; first: Alert; lastAt: EpochMs; keys: string[] }>();
      for (const r of rows) {
        const id = r.incident_id as IncidentId;
        const got = by.get(id);
        if (got) {
          got.lastAt = EpochMs.unsafe(Math.max(got.lastAt, r.at));
          got.keys.push(r.key);
        } else by.set(id, { incidentId: id, first: alertFromRow(r, this.where), lastAt: EpochMs.unsafe(r.at), keys: [r.key] });
      }
      return [...by.values()];
    });
  }

  // ---------------------------------------------------------------- views for status

  async recentAlerts(filter: { account: AccountId; severities?: readonly Severity[]; limit: number }): Promise<readonly Alert[]> {
    const db = this.live();
    const acct = AccountId.parse(filter.account);
    const limit = checkLimit(filter.limit, 'alerts limit') ?? 0;
    const severities = filter.severities?.map((s) => checkOneOf(s, SEVERITIES, 'alert severity'));
    if (limit === 0 || severities?.length === 0) return [];
    return this.run('read alerts', async () => {
      let q = db.selectFrom('legguard_alerts').select(['key', 'alert']).where('account', '=', acct);
      if (severities !== undefined) q = q.where('severity', 'in', severities);
      const rows = await q.orderBy('at', 'desc').orderBy('seq', 'desc').limit(limit).execute();
      return rows.reverse().map((r) => alertFromRow(r, this.where));
    });
  }

  async acknowledgements(account: AccountId, incidentIds: readonly IncidentId[]): Promise<readonly Acknowledgement[]> {
    const db = this.live();
    const acct = AccountId.parse(account);
    const ids = [...new Set(incidentIds.map((id, i) => checkText(id, `incident id ${i}`, { nonEmpty: true })))];
    if (ids.length === 0) return [];
    return this.run('read acknowledgements', async () => {
      const found = new Map<string, Acknowledgement>();
      for (const group of chunks(ids)) {
        for (const r of await db.selectFrom('legguard_acks').selectAll().where('account', '=', acct).where('incident_id', 'in', group).execute()) {
          found.set(r.incident_id, ackFromRow(r, this.where));
        }
      }
      return ids.flatMap((id) => found.get(id) ?? []);
    });
  }

  async outboxSummary(account: AccountId | null): Promise<OutboxSummary> {
    const db = this.live();
    const acct = account === null ? null : AccountId.parse(account);
    return this.tx(db, 'read', 'read outbox summary', async (t) => {
      let count = t.selectFrom('legguard_alerts').select((eb) => eb.fn.countAll<number | string | bigint>().as('n'));
      if (acct !== null) count = count.where('account', '=', acct);
      const total = await count.executeTakeFirst();
      let deliveries = t.selectFrom('legguard_deliveries');
      if (acct !== null) deliveries = deliveries.where('account', '=', acct);
      const rows = await deliveries
        .select((eb) => [
          'channel',
          'status',
          eb.fn.countAll<number | string | bigint>().as('n'),
          eb.fn
            .sum<number | string | bigint | null>(
              eb.case().when(sql<string>`substr(last_error, 1, ${SKIPPED_DELIVERY_PREFIX.length})`, '=', SKIPPED_DELIVERY_PREFIX).then(1).else(0).end(),
            )
            .as('skipped'),
        ])
        .groupBy(['channel', 'status'])
        .execute();
      return summarise(
        Number(total?.n ?? 0),
        rows.map((r) => ({ channel: r.channel, status: storedOneOf(r.status, DELIVERY_STATUSES, `${this.where}: legguard_deliveries status`), n: Number(r.n), skipped: Number(r.skipped ?? 0) })),
      );
    });
  }

  async deliveries(filter: { account: AccountId | null; statuses: readonly DeliveryStatus[]; limit: number }): Promise<readonly DeliveryRecord[]> {
    const db = this.live();
    const acct = filter.account === null ? null : AccountId.parse(filter.account);
    const statuses = checkStatuses(filter.statuses);
    const limit = checkLimit(filter.limit, 'deliveries limit') ?? 0;
    if (statuses.length === 0 || limit === 0) return [];
    return this.tx(db, 'read', 'read deliveries', async (t) => {
      let base = t
        .selectFrom('legguard_deliveries as d')
        .innerJoin('legguard_alerts as a', (j) => j.onRef('a.account', '=', 'd.account').onRef('a.key', '=', 'd.alert_key'))
        .where('d.status', 'in', statuses);
      if (acct !== null) base = base.where('d.account', '=', acct);
      // Ties are broken in code, not SQL (Postgres sorts text by the database's collation): every row updated at or
      // after the limit-th newest update time is read, then sorted and cut.
      const cutoff = await base.select('d.updated_at').orderBy('d.updated_at', 'desc').offset(limit - 1).limit(1).executeTakeFirst();
      let q = base.select(['d.account', 'd.alert_key', 'd.channel', 'd.status', 'd.attempts', 'd.next_attempt_at', 'd.last_error', 'd.updated_at', 'a.key', 'a.alert']);
      if (cutoff !== undefined) q = q.where('d.updated_at', '>=', cutoff.updated_at);
      const rows = await q.execute();
      return rows
        .map((r) => deliveryFromRow(alertFromRow(r, this.where), r, this.where))
        .sort(compareDeliveries)
        .slice(0, limit);
    });
  }

  async accounts(): Promise<readonly AccountId[]> {
    const db = this.live();
    return this.run('read accounts', async () => {
      const rows = await sql<{ account: string }>`
        select account from legguard_strategies union select account from legguard_leases
        union select account from legguard_locks union select account from legguard_trading_state
        union select account from legguard_alerts`.execute(db);
      return rows.rows
        .map((r) => r.account)
        .filter((a) => a !== '')
        .sort(cmpText)
        .map((a) => a as AccountId);
    });
  }

  async tradingState(account: AccountId): Promise<TradingStateRecord> {
    const db = this.live();
    AccountId.parse(account);
    const r = await this.run('read trading state', () => db.selectFrom('legguard_trading_state').selectAll().where('account', '=', account).executeTakeFirst());
    return tradingStateFromRow(r, this.where);
  }

  async lockHolder(account: AccountId): Promise<LockInfo | null> {
    const db = this.live();
    AccountId.parse(account);
    const r = await this.run('read lock', () => db.selectFrom('legguard_locks').selectAll().where('account', '=', account).executeTakeFirst());
    return r === undefined ? null : lockFromRow(r, this.where);
  }

  // ---------------------------------------------------------------- plumbing

  private live(): Db {
    if (this.closed) throw this.closedError();
    if (!this.db) {
      throw new LegguardError('INTERNAL', `${this.where}: the store is not initialised; call init() first`, { where: this.where });
    }
    return this.db;
  }

  private closedError(): LegguardError {
    return new LegguardError('INTERNAL', `${this.where}: the store is closed`, { where: this.where });
  }

  private async run<T>(op: StoreOp, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.sqlDialect.classify(e, op);
    }
  }

  /**
   * Runs `fn` in one transaction on one connection. A write that fails before COMMIT is rolled back and wrote
   * nothing; a COMMIT that fails wrote nothing on SQLite and may or may not have been applied on Postgres (the
   * connection can drop after the server committed), and the message says which.
   */
  private async tx<T>(db: Db, mode: 'read' | 'write', op: StoreOp, fn: (t: Db) => Promise<T>): Promise<T> {
    let phase = 'work' as 'work' | 'commit';
    try {
      return await db.connection().execute(async (conn) => {
        await sql.raw(this.sqlDialect.begin(mode)).execute(conn);
        try {
          const out = await fn(conn);
          phase = 'commit';
          await sql.raw('commit').execute(conn);
          return out;
        } catch (e) {
          // The first error is the one that matters. A rollback can fail only when there is nothing left to roll
          // back: SQLite already did (SQLITE_FULL), or the Postgres connection is gone with the transaction.
          await sql.raw('rollback').execute(conn).catch(() => undefined);
          throw e;
        }
      });
    } catch (e) {
      if (LegguardError.is(e)) throw e;
      const note =
        mode === 'read'
          ? undefined
          : phase === 'commit' && !this.sqlDialect.commitOutcomeKnown
            ? 'whether this write was applied is unknown; the next start reconciles'
            : 'nothing from this write was stored';
      throw this.sqlDialect.classify(e, op, note);
    }
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function* chunks<T>(items: readonly T[], size = CHUNK): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

async function writeBatch(t: Db, p: PreparedBatch): Promise<void> {
  const account = p.account;
  for (const group of chunks(p.strategies)) {
    const rows = group.map((r) => strategyRows(account, r));
    await t
      .insertInto('legguard_strategies')
      .values(rows.map((r) => r.row))
      .onConflict((oc) =>
        oc.columns(['account', 'strategy_id']).doUpdateSet((eb) => ({
          kind: eb.ref('excluded.kind'),
          state: eb.ref('excluded.state'),
          definition: eb.ref('excluded.definition'),
          broken: eb.ref('excluded.broken'),
          created_at: eb.ref('excluded.created_at'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
    await t
      .deleteFrom('legguard_holdings')
      .where('account', '=', account)
      .where(
        'strategy_id',
        'in',
        rows.map((r) => r.row.strategy_id),
      )
      .execute();
    for (const hs of chunks(rows.flatMap((r) => r.holdings))) await t.insertInto('legguard_holdings').values(hs).execute();
  }
  for (const ids of chunks(p.removeStrategies)) {
    const checked = ids.map((id) => checkText(id, 'strategy id to remove', { nonEmpty: true }));
    await t.deleteFrom('legguard_holdings').where('account', '=', account).where('strategy_id', 'in', checked).execute();
    await t.deleteFrom('legguard_strategies').where('account', '=', account).where('strategy_id', 'in', checked).execute();
  }
  for (const group of chunks(p.stateChanges)) {
    await t.insertInto('legguard_state_history').values(group.map((c) => historyRow(account, c))).execute();
  }
  for (const group of chunks(p.journal)) {
    await t
      .insertInto('legguard_journal')
      .values(group.map((e) => journalRow(account, e)))
      .onConflict((oc) => oc.columns(['account', 'key']).doNothing())
      .execute();
  }
  for (const group of chunks(p.orders)) {
    await t
      .insertInto('legguard_orders')
      .values(group.map((o) => orderRow(account, o)))
      .onConflict((oc) =>
        oc.columns(['account', 'ref']).doUpdateSet((eb) => ({
          strategy_id: eb.ref('excluded.strategy_id'),
          incident_id: eb.ref('excluded.incident_id'),
          status: eb.ref('excluded.status'),
          order_id: eb.ref('excluded.order_id'),
          request: eb.ref('excluded.request'),
          filled_qty: eb.ref('excluded.filled_qty'),
          avg_fill_price: eb.ref('excluded.avg_fill_price'),
          placed_at: eb.ref('excluded.placed_at'),
          position_before: eb.ref('excluded.position_before'),
          reason: eb.ref('excluded.reason'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }
  await insertAlerts(t, p.account, p.alerts);
  await writeRest(t, p);
}

/** What a batch holds besides the hot part (SqliteBatchWriter.writeHot): outside holdings, cursor, trading state. */
async function writeRest(t: Db, p: PreparedBatch): Promise<void> {
  const account = p.account;
  if (p.outside !== null) {
    const rows = outsideRows(account, p.outside);
    await t.deleteFrom('legguard_outside').where('account', '=', account).execute();
    for (const group of chunks(rows)) await t.insertInto('legguard_outside').values(group).execute();
  }
  if (p.cursor !== null) {
    const patch = cursorPatch(p.cursor);
    if (Object.keys(patch).length > 0) {
      await t
        .insertInto('legguard_cursors')
        .values({ account, last_execution_at: null, last_exec_id: null, last_reconciled_at: null, ...patch })
        .onConflict((oc) => oc.column('account').doUpdateSet(patch))
        .execute();
    }
  }
  if (p.tradingState !== null) await writeTradingState(t, account, p.tradingState);
}

async function writeTradingState(t: Db, account: AccountId, r: TradingStateRecord): Promise<void> {
  const row = tradingStateRow(account, r);
  await t
    .insertInto('legguard_trading_state')
    .values(row)
    .onConflict((oc) => oc.column('account').doUpdateSet({ state: row.state, reason: row.reason, changed_by: row.changed_by, at: row.at }))
    .execute();
}

async function insertAlerts(t: Db, account: AccountId, alerts: readonly Alert[]): Promise<void> {
  const seen = new Set<string>();
  const rows = alerts.map((a) => alertRow(account, a)).filter((r) => !seen.has(r.key) && seen.add(r.key));
  for (const group of chunks(rows)) {
    await t
      .insertInto('legguard_alerts')
      .values(group)
      .onConflict((oc) => oc.columns(['account', 'key']).doNothing())
      .execute();
  }
}
