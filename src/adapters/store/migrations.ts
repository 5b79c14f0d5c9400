import { sql, type ColumnDefinitionBuilder, type Kysely } from 'kysely';
import { LegguardError } from '../../core/errors.js';
import type { SqlDialect } from './sql-dialect.js';
import { APPLICATION, META_TABLE, TABLE_PREFIX, type StoreTables } from './store-tables.js';

interface Migration {
  readonly version: number;
  readonly description: string;
  up(db: Kysely<StoreTables>, d: SqlDialect): Promise<void>;
}

/**
 * The schema's history. Append only: a released migration is never edited, a change is a new version. A database
 * whose `schema_version` is above the last one here was written by a newer legguard and is refused (a downgrade
 * would write rows the newer code does not expect). A new value of a stored enumeration (journal type, order status,
 * strategy state, strategy kind) also takes a new version, even with nothing to migrate, so an older legguard refuses
 * the database at start instead of failing (STORE_CORRUPT) on the first row it cannot read.
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'strategies, holdings, state history, journal, orders, alerts outbox, acks, cursors, outside, locks',
    async up(db, d) {
      const s = db.schema;
      const serial = (c: ColumnDefinitionBuilder): ColumnDefinitionBuilder =>
        d.serial.autoIncrement ? c.primaryKey().autoIncrement() : c.primaryKey();
      await s
        .createTable('legguard_strategies')
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('strategy_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('definition', 'text', (c) => c.notNull())
        .addColumn('broken', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('legguard_strategies_pk', ['account', 'strategy_id'])
        .execute();
      await s
        .createTable('legguard_holdings')
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('strategy_id', 'text', (c) => c.notNull())
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('contract_key', 'text', (c) => c.notNull())
        .addColumn('contract', 'text', (c) => c.notNull())
        .addColumn('qty', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('legguard_holdings_pk', ['account', 'strategy_id', 'idx'])
        .execute();
      await s.createIndex('legguard_holdings_contract').on('legguard_holdings').columns(['account', 'contract_key']).execute();
      await s
        .createTable('legguard_state_history')
        .addColumn('seq', d.serial.type, serial)
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('strategy_id', 'text', (c) => c.notNull())
        .addColumn('from_state', 'text')
        .addColumn('to_state', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('incident_id', 'text')
        .execute();
      await s.createIndex('legguard_state_history_strategy').on('legguard_state_history').columns(['account', 'strategy_id', 'seq']).execute();
      await s
        .createTable('legguard_journal')
        .addColumn('seq', d.serial.type, serial)
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('strategy_id', 'text')
        .addColumn('incident_id', 'text')
        .addColumn('data', 'text', (c) => c.notNull())
        .addUniqueConstraint('legguard_journal_key', ['account', 'key'])
        .execute();
      await s.createIndex('legguard_journal_at').on('legguard_journal').columns(['account', 'at']).execute();
      await s.createIndex('legguard_journal_strategy').on('legguard_journal').columns(['account', 'strategy_id', 'seq']).execute();
      await s.createIndex('legguard_journal_incident').on('legguard_journal').columns(['account', 'incident_id', 'seq']).execute();
      await s
        .createTable('legguard_orders')
        .addColumn('seq', d.serial.type, serial)
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('ref', 'text', (c) => c.notNull())
        .addColumn('strategy_id', 'text', (c) => c.notNull())
        .addColumn('incident_id', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('order_id', 'text')
        .addColumn('request', 'text', (c) => c.notNull())
        .addColumn('filled_qty', 'bigint', (c) => c.notNull())
        .addColumn('avg_fill_price', 'double precision')
        .addColumn('placed_at', 'bigint')
        .addColumn('position_before', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('legguard_orders_ref', ['account', 'ref'])
        .execute();
      await s.createIndex('legguard_orders_strategy').on('legguard_orders').columns(['account', 'strategy_id', 'seq']).execute();
      await s.createIndex('legguard_orders_status').on('legguard_orders').columns(['account', 'status']).execute();
      await s
        .createTable('legguard_alerts')
        .addColumn('seq', d.serial.type, serial)
        .addColumn('key', 'text', (c) => c.notNull().unique())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('incident_id', 'text')
        .addColumn('strategy_id', 'text')
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('alert', 'text', (c) => c.notNull())
        .execute();
      await s.createIndex('legguard_alerts_at').on('legguard_alerts').columns(['at', 'seq']).execute();
      await s.createIndex('legguard_alerts_incident').on('legguard_alerts').columns(['incident_id', 'severity']).execute();
      await s
        .createTable('legguard_deliveries')
        .addColumn('alert_key', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint')
        .addColumn('last_error', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('legguard_deliveries_pk', ['alert_key', 'channel'])
        .execute();
      await s
        .createTable('legguard_acks')
        .addColumn('incident_id', 'text', (c) => c.primaryKey())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('acked_by', 'text', (c) => c.notNull())
        .execute();
      await s
        .createTable('legguard_cursors')
        .addColumn('account', 'text', (c) => c.primaryKey())
        .addColumn('last_execution_at', 'bigint')
        .addColumn('last_exec_id', 'text')
        .addColumn('last_reconciled_at', 'bigint')
        .execute();
      await s
        .createTable('legguard_outside')
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('contract_key', 'text', (c) => c.notNull())
        .addColumn('contract', 'text', (c) => c.notNull())
        .addColumn('qty', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('legguard_outside_pk', ['account', 'idx'])
        .execute();
      await s
        .createTable('legguard_locks')
        .addColumn('account', 'text', (c) => c.primaryKey())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('acquired_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  {
    version: 2,
    description: 'strategy state PENDING (written, not yet found at the broker by a guard); nothing to migrate',
    async up() {
      // A new stored value only: an older legguard must refuse this database rather than fail on a PENDING row.
    },
  },
  {
    version: 3,
    description: "the account's trading state (ACTIVE, REDUCING, HALTED) set by `legguard halt`/`reduce-only`/`resume`; journal type trading-state",
    async up(db) {
      await db.schema
        .createTable('legguard_trading_state')
        .addColumn('account', 'text', (c) => c.primaryKey())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('changed_by', 'text')
        .addColumn('at', 'bigint')
        .execute();
    },
  },
  {
    version: 4,
    description: "leader lease per account (holder, monotonic epoch, lease_until on the store's clock) and its standbys",
    async up(db) {
      await db.schema
        .createTable('legguard_leases')
        .addColumn('account', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('epoch', 'bigint', (c) => c.notNull())
        .addColumn('acquired_at', 'bigint', (c) => c.notNull())
        .addColumn('lease_until', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('legguard_standbys')
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('seen_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('legguard_standbys_pk', ['account', 'holder'])
        .execute();
    },
  },
  {
    version: 5,
    description: 'the alerts outbox, its deliveries and the acknowledgements keyed by account (one store, many accounts)',
    async up(db, d) {
      // Rebuilt, not altered: SQLite cannot drop the old unique key. Each table is built anew under a new name, filled,
      // the old one dropped and the new one renamed (index names are new, so none clashes with the old table's).
      // Rows from before: the store's one account when it has exactly one, else '' (kept, shown by `status`, delivered
      // by no guard: a shared outbox delivered them already).
      const known = await sql<{ account: string }>`
        select account from legguard_strategies union select account from legguard_locks
        union select account from legguard_leases union select account from legguard_cursors
        union select account from legguard_trading_state`.execute(db);
      const owner = known.rows.length === 1 ? known.rows[0]!.account : '';
      const s = db.schema;
      const serial = (c: ColumnDefinitionBuilder): ColumnDefinitionBuilder =>
        d.serial.autoIncrement ? c.primaryKey().autoIncrement() : c.primaryKey();
      await s
        .createTable('legguard_alerts_v5')
        .addColumn('seq', d.serial.type, serial)
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('incident_id', 'text')
        .addColumn('strategy_id', 'text')
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('alert', 'text', (c) => c.notNull())
        .addUniqueConstraint('legguard_alerts_account_key', ['account', 'key'])
        .execute();
      await sql`insert into legguard_alerts_v5 (seq, account, key, severity, incident_id, strategy_id, at, alert)
        select seq, ${owner}, key, severity, incident_id, strategy_id, at, alert from legguard_alerts`.execute(db);
      await s
        .createTable('legguard_deliveries_v5')
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('alert_key', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint')
        .addColumn('last_error', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('legguard_deliveries_account_pk', ['account', 'alert_key', 'channel'])
        .execute();
      await sql`insert into legguard_deliveries_v5 (account, alert_key, channel, status, attempts, next_attempt_at, last_error, updated_at)
        select ${owner}, alert_key, channel, status, attempts, next_attempt_at, last_error, updated_at from legguard_deliveries`.execute(db);
      await s
        .createTable('legguard_acks_v5')
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('incident_id', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('acked_by', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('legguard_acks_account_pk', ['account', 'incident_id'])
        .execute();
      await sql`insert into legguard_acks_v5 (account, incident_id, at, acked_by) select ${owner}, incident_id, at, acked_by from legguard_acks`.execute(db);
      for (const t of ['legguard_alerts', 'legguard_deliveries', 'legguard_acks'] as const) {
        await s.dropTable(t).execute();
        await s.alterTable(`${t}_v5`).renameTo(t).execute();
      }
      await s.createIndex('legguard_alerts_account_at').on('legguard_alerts').columns(['account', 'at', 'seq']).execute();
      await s.createIndex('legguard_alerts_account_incident').on('legguard_alerts').columns(['account', 'incident_id', 'severity']).execute();
      // Postgres: the copied sequence numbers were given explicitly, so the new table's sequence starts after them.
      if (d.name === 'postgres') {
        await sql`select setval(pg_get_serial_sequence('legguard_alerts', 'seq'), coalesce((select max(seq) from legguard_alerts), 0) + 1, false)`.execute(db);
      }
    },
  },
  {
    version: 6,
    description:
      'contracts stored without the fields at their usual value (multiplier 100, American, physical, USD); order requests without the fields their columns hold',
    // Nothing to migrate: rows written before read back as they were (store-rows.ts fills in what a row leaves out).
    // The version is for an older legguard, which would read a compact contract without its multiplier: it refuses
    // the database instead.
    up() {
      return Promise.resolve();
    },
  },
];

/** The schema version this legguard writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Checks that the database is legguard's and not newer, then brings it to `SCHEMA_VERSION`. Runs inside one write
 * transaction (DDL is transactional in SQLite and Postgres), so a failure leaves the database as it was. Ends with a
 * write to `legguard_meta` even when nothing was migrated, so a store that cannot be written fails here, at start,
 * rather than at the first commit that precedes an order.
 */
export async function migrate(db: Kysely<StoreTables>, d: SqlDialect): Promise<{ from: number; to: number }> {
  await d.lockForMigration(db);
  const tables = await d.listTables(db);
  let from: number;
  if (!tables.includes(META_TABLE)) {
    const strangers = d.foreignIfAnyTable ? tables : tables.filter((t) => t.startsWith(TABLE_PREFIX));
    if (strangers.length > 0) {
      const shown = strangers.slice(0, 5).join(', ') + (strangers.length > 5 ? ` and ${strangers.length - 5} more` : '');
      throw new LegguardError(
        'STORE_CORRUPT',
        `${d.where} is not a legguard database: it has tables (${shown}) but no ${META_TABLE}. Point legguard at its own data directory or database.`,
        { where: d.where, tables: strangers },
      );
    }
    await db.schema
      .createTable(META_TABLE)
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();
    await db
      .insertInto('legguard_meta')
      .values([
        { key: 'application', value: APPLICATION },
        { key: 'schema_version', value: '0' },
      ])
      .execute();
    from = 0;
  } else {
    const meta = new Map((await db.selectFrom('legguard_meta').select(['key', 'value']).execute()).map((r) => [r.key, r.value]));
    const app = meta.get('application');
    if (app !== APPLICATION) {
      throw new LegguardError(
        'STORE_CORRUPT',
        `${d.where} is not a legguard database: ${META_TABLE} names the application ${JSON.stringify(app ?? null)}`,
        { where: d.where },
      );
    }
    const raw = meta.get('schema_version');
    from = Number(raw);
    if (raw === undefined || !/^\d+$/.test(raw) || !Number.isSafeInteger(from)) {
      throw new LegguardError('STORE_CORRUPT', `${d.where}: ${META_TABLE} has a damaged schema_version ${JSON.stringify(raw ?? null)}`, {
        where: d.where,
      });
    }
    if (from > SCHEMA_VERSION) {
      throw new LegguardError(
        'STORE_NEWER_VERSION',
        `${d.where} was written by a newer legguard (schema version ${from}; this legguard knows versions up to ${SCHEMA_VERSION}). Upgrade legguard, or point it at another data directory or database.`,
        { where: d.where, version: from, known: SCHEMA_VERSION },
      );
    }
  }
  for (const m of MIGRATIONS) {
    if (m.version > from) await m.up(db, d);
  }
  await db
    .updateTable('legguard_meta')
    .set({ value: String(Math.max(from, SCHEMA_VERSION)) })
    .where('key', '=', 'schema_version')
    .execute();
  return { from, to: SCHEMA_VERSION };
}
