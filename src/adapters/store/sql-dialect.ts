import type { Kysely } from 'kysely';
import type { LegguardError } from '../../core/errors.js';
import type { PreparedBatch } from './store-rows.js';
import type { StoreTables } from './store-tables.js';

/** What a store operation was doing when it failed, for the message: `init`, `commit`, `load` ... */
export type StoreOp = string;

/**
 * Everything that differs between SQLite and Postgres, in one place; `KyselyStore` and the migrations are written
 * once against it. Query builders are shared: both dialects speak `ON CONFLICT ... DO UPDATE/NOTHING` and `RETURNING`.
 */
export interface SqlDialect {
  readonly name: 'sqlite' | 'postgres';
  /** Where the data lives, for every message: the file path, or the URL with its password hidden (and schema). */
  readonly where: string;
  /**
   * True when any table that is not legguard's makes the database foreign (an SQLite file is one application's);
   * false when only `legguard_*` tables without `legguard_meta` do (a Postgres schema may be shared).
   */
  readonly foreignIfAnyTable: boolean;
  /**
   * True when a failed COMMIT certainly wrote nothing (SQLite: local and atomic). False when the outcome can be
   * unknown (Postgres: the connection may drop after the server committed).
   */
  readonly commitOutcomeKnown: boolean;
  /** Connects (creating the file or schema where needed) and applies the durability settings. */
  open(): Promise<Kysely<StoreTables>>;
  /**
   * Runs once the database is known to be legguard's and migrated: settings that change the file itself (SQLite's
   * WAL mode is written into the file header) wait until then, so a foreign or newer file is left exactly as it was.
   */
  afterMigrate(db: Kysely<StoreTables>): Promise<void>;
  /**
   * The store's clock in epoch milliseconds, as an SQL expression: leases are timed by it, never by a guard's clock
   * (Postgres: the server's; SQLite: this machine's, the only one that can share the file).
   */
  readonly nowSql: string;
  /** Postgres locks the lease row a commit reads (`for share`), so a takeover waits for the commit or fences it. */
  readonly rowLocks: boolean;
  /** The statement that starts a transaction. */
  begin(mode: 'read' | 'write'): string;
  /** Serialises migrations between processes; runs first inside the migration transaction. */
  lockForMigration(db: Kysely<StoreTables>): Promise<void>;
  /** Tables in the store's namespace (the SQLite file, the Postgres schema). */
  listTables(db: Kysely<StoreTables>): Promise<string[]>;
  /** The auto-incrementing integer primary key: SQLite `integer ... autoincrement`, Postgres `bigserial`. */
  readonly serial: { readonly type: 'integer' | 'bigserial'; readonly autoIncrement: boolean };
  /** The durability settings in force on a connection, as the database reports them (for status and tests). */
  settings(db: Kysely<StoreTables>): Promise<Record<string, string>>;
  /**
   * Writes the hot part of a batch (strategies, holdings, state changes, journal, orders, alerts) on the connection
   * the caller holds in its transaction, with statements prepared once (SQLite: sqlite-batch-writer.ts); absent, or
   * null while closed, where the query builder writes it (Postgres).
   */
  preparedWriter?(): { writeHot(p: PreparedBatch): void } | null;
  /** Turns a driver error into a LegguardError naming `where`, `op` and the problem; `note` is appended. */
  classify(e: unknown, op: StoreOp, note?: string): LegguardError;
  close(): Promise<void>;
}
