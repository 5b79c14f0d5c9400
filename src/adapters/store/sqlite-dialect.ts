import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { LegguardError } from '../../core/errors.js';
import { SqliteBatchWriter } from './sqlite-batch-writer.js';
import { ensurePrivateDirectory, preparePrivateFile, privatiseSqliteFiles, type PermissionWarn } from './data-dir.js';
import type { SqlDialect, StoreOp } from './sql-dialect.js';
import type { StoreTables } from './store-tables.js';

export interface SqliteDialectOptions {
  /** The database file; its directory is created when missing. */
  readonly file: string;
  /** How long a write waits for another process's write lock before failing. */
  readonly busyTimeoutMs: number;
  /** Extra pragmas applied after the defaults, e.g. `{ max_page_count: 10000 }` to cap the file's size. */
  readonly pragmas: Readonly<Record<string, string | number>>;
  /** Told once about a data directory or database file that group or others can get at (never changed silently). */
  readonly warn?: PermissionWarn | undefined;
}

const SYNCHRONOUS_NAMES: Record<string, string> = { '0': 'OFF', '1': 'NORMAL', '2': 'FULL', '3': 'EXTRA' };
const PRAGMA_NAME = /^[a-z_]+$/;
const PRAGMA_VALUE = /^[A-Za-z0-9_.-]+$/;

/**
 * SQLite through better-sqlite3: one connection (Kysely serialises queries on it), WAL so readers (`legguard status`)
 * never block the guard, `synchronous=FULL` because a commit precedes an order and must survive a power cut, and a
 * busy timeout so a second process writing briefly (`legguard strategies add`) makes the guard wait, not fail. Write
 * transactions start with BEGIN IMMEDIATE: a deferred transaction that later needs the write lock can fail with
 * SQLITE_BUSY regardless of the timeout.
 */
export function sqliteDialect(opts: SqliteDialectOptions): SqlDialect {
  const file = opts.file;
  const where = `SQLite store ${file}`;
  let kysely: Kysely<StoreTables> | null = null;
  let writer: SqliteBatchWriter | null = null;
  // True when this open made the file: then it and its WAL/SHM files are made private (0600) after the switch to WAL.
  let created = false;
  // Loose permissions found at open are said once the store has opened: a store that fails to open says only why.
  let loose: string[] = [];

  for (const [k, v] of Object.entries(opts.pragmas)) {
    if (!PRAGMA_NAME.test(k) || !PRAGMA_VALUE.test(String(v))) {
      throw new LegguardError('INVALID_INPUT', `SQLite pragma ${JSON.stringify(k)} = ${JSON.stringify(v)} is not a plain name and value`);
    }
  }
  if (!Number.isSafeInteger(opts.busyTimeoutMs) || opts.busyTimeoutMs < 0) {
    throw new LegguardError('INVALID_INPUT', `SQLite busy timeout must be a whole number of milliseconds >= 0; got ${opts.busyTimeoutMs}`);
  }

  const d: SqlDialect = {
    name: 'sqlite',
    where,
    foreignIfAnyTable: true,
    commitOutcomeKnown: true,
    serial: { type: 'integer', autoIncrement: true },

    open() {
      loose = [];
      const note = (m: string): void => void loose.push(m);
      ensurePrivateDirectory(dirname(file), where, note);
      created = preparePrivateFile(file, note);
      let db: Database.Database;
      try {
        db = new Database(file);
      } catch (e) {
        throw d.classify(e, 'open');
      }
      try {
        // Connection settings only: nothing here writes to the file (WAL mode does; see afterMigrate).
        db.pragma(`busy_timeout = ${opts.busyTimeoutMs}`);
        db.pragma('synchronous = FULL');
        for (const [k, v] of Object.entries(opts.pragmas)) db.pragma(`${k} = ${v}`);
      } catch (e) {
        db.close();
        throw LegguardError.is(e) ? e : d.classify(e, 'open');
      }
      kysely = new Kysely<StoreTables>({ dialect: new SqliteDialect({ database: db }) });
      writer = new SqliteBatchWriter(db);
      return Promise.resolve(kysely);
    },

    async afterMigrate(db) {
      const r = await sql.raw<{ journal_mode: string }>('pragma journal_mode = WAL').execute(db);
      const mode = r.rows[0]?.journal_mode;
      if (mode !== 'wal') {
        throw new LegguardError('STORE_UNWRITABLE', `${where}: cannot switch to write-ahead logging (journal mode stays ${String(mode)})`, { file });
      }
      if (created) privatiseSqliteFiles(file);
      for (const m of loose) opts.warn?.(m);
      loose = [];
    },

    nowSql: "cast((julianday('now') - 2440587.5) * 86400000 as integer)",
    rowLocks: false,
    begin(mode) {
      return mode === 'write' ? 'begin immediate' : 'begin';
    },

    async lockForMigration() {
      // BEGIN IMMEDIATE already holds the file's write lock.
    },

    async listTables(db) {
      const rows = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`.execute(db);
      return rows.rows.map((r) => r.name);
    },

    async settings(db) {
      const one = async (name: string): Promise<string> =>
        String((await sql.raw<Record<string, unknown>>(`pragma ${name}`).execute(db)).rows[0]?.[name === 'busy_timeout' ? 'timeout' : name]);
      const sync = await one('synchronous');
      return {
        journal_mode: await one('journal_mode'),
        synchronous: SYNCHRONOUS_NAMES[sync] ?? sync,
        busy_timeout: await one('busy_timeout'),
      };
    },

    preparedWriter() {
      return writer;
    },

    classify(e, op, note) {
      return classifySqlite(e, op, where, file, opts.busyTimeoutMs, note);
    },

    async close() {
      const k = kysely;
      kysely = null;
      writer = null;
      if (k) await k.destroy();
    },
  };
  return d;
}

function classifySqlite(e: unknown, op: StoreOp, where: string, file: string, busyMs: number, note: string | undefined): LegguardError {
  if (LegguardError.is(e)) return e;
  const code = typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : '';
  const msg = e instanceof Error ? e.message : String(e);
  const tail = note ? `; ${note}` : '';
  const make = (c: 'STORE_CORRUPT' | 'STORE_UNWRITABLE' | 'INTERNAL', problem: string): LegguardError =>
    new LegguardError(c, `${where}: ${op} failed: ${problem} (${code || 'error'}: ${msg})${tail}`, { file, sqliteCode: code || null }, { cause: e });
  if (code === 'SQLITE_FULL') return make('STORE_UNWRITABLE', 'the disk is full (or the size limit set with max_page_count was reached)');
  if (code.startsWith('SQLITE_READONLY')) return make('STORE_UNWRITABLE', 'the database file or its directory is read-only');
  if (code.startsWith('SQLITE_CANTOPEN')) return make('STORE_UNWRITABLE', 'the file cannot be opened or created (is the directory read-only?)');
  if (code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') return make('STORE_UNWRITABLE', 'permission denied');
  if (code === 'SQLITE_NOTADB') return make('STORE_CORRUPT', 'the file is not an SQLite database (damaged, or some other kind of file)');
  if (code.startsWith('SQLITE_CORRUPT')) return make('STORE_CORRUPT', 'the database file is damaged');
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return make('STORE_UNWRITABLE', `another process kept the database locked for longer than the busy timeout (${busyMs} ms)`);
  }
  if (code.startsWith('SQLITE_IOERR')) return make('STORE_UNWRITABLE', 'an I/O error reading or writing the file');
  return make('INTERNAL', 'unexpected database error');
}
