import { join } from 'node:path';
import { LegguardError } from '../../core/errors.js';
import type { StorePort } from '../../ports/store.js';
import { KyselyStore } from './kysely-store.js';
import { postgresDialect } from './postgres-dialect.js';
import { sqliteDialect } from './sqlite-dialect.js';

/** The SQLite file's name inside the data directory. */
export const SQLITE_FILE = 'legguard.db';

/**
 * Where legguard keeps its state. The one place that chooses the database:
 * - `databaseUrl` set (the CLI passes `DATABASE_URL`): PostgreSQL at that URL;
 * - otherwise SQLite in `<dataDir>/legguard.db` (the directory is created when missing, mode 0700; the files 0600).
 *
 * @example
 *   const store = await openStore({ dataDir: './data', databaseUrl: process.env.DATABASE_URL });
 *   try { ... } finally { await store.close(); }
 *
 * @example Postgres in its own schema (created when missing), also settable as `?schema=guard` in the URL:
 *   await openStore({ dataDir: './data', databaseUrl: 'postgres://guard@db/legguard', pgSchema: 'guard' });
 */
export interface OpenStoreOptions {
  /** Directory for the SQLite file. Required even with a URL, so a config names one place for local state. */
  readonly dataDir: string;
  /** `postgres://` or `postgresql://` URL; null, undefined or empty: SQLite. Never printed with its password. */
  readonly databaseUrl?: string | null | undefined;
  /** Postgres: the schema for legguard's tables; default the URL's `schema` parameter, else the server's default. */
  readonly pgSchema?: string;
  /** Postgres: bound on connecting and logging in, in ms (default 5,000); past it, STORE_UNREACHABLE. */
  readonly connectTimeoutMs?: number;
  /** Postgres: connections in the pool (default 4). */
  readonly poolSize?: number;
  /** SQLite: how long a write waits for another process holding the write lock, in ms (default 5,000). */
  readonly busyTimeoutMs?: number;
  /**
   * SQLite: extra pragmas after legguard's own (WAL, synchronous=FULL, busy_timeout), e.g. `{ max_page_count: 262144 }`
   * to cap the file at 1 GiB with 4 KiB pages; a commit past the cap fails with STORE_UNWRITABLE and writes nothing.
   */
  readonly sqlitePragmas?: Readonly<Record<string, string | number>>;
  /**
   * SQLite: told once when the data directory or the database file already exists open to group or others (legguard
   * makes them 0700 and 0600 when it creates them, and never changes a person's modes silently).
   */
  readonly warn?: (message: string) => void;
}

/** The store the options name, not yet opened: `init()` connects and migrates. Throws INVALID_INPUT on bad options. */
export function createStore(opts: OpenStoreOptions): KyselyStore {
  const url = opts.databaseUrl ?? '';
  if (url !== '') {
    return new KyselyStore(
      postgresDialect({
        url,
        schema: opts.pgSchema ?? null,
        connectTimeoutMs: opts.connectTimeoutMs ?? 5_000,
        poolSize: opts.poolSize ?? 4,
      }),
    );
  }
  if (typeof opts.dataDir !== 'string' || opts.dataDir.trim() === '') {
    throw new LegguardError('INVALID_INPUT', 'the data directory must be given (a path) when no database URL is set');
  }
  return new KyselyStore(
    sqliteDialect({
      file: join(opts.dataDir, SQLITE_FILE),
      busyTimeoutMs: opts.busyTimeoutMs ?? 5_000,
      pragmas: opts.sqlitePragmas ?? {},
      warn: opts.warn,
    }),
  );
}

/**
 * Creates the store and runs `init()`: connects, refuses a foreign (STORE_CORRUPT) or newer (STORE_NEWER_VERSION)
 * database, migrates, and proves the store writable (STORE_UNWRITABLE). On failure nothing is left open.
 */
export async function openStore(opts: OpenStoreOptions): Promise<StorePort> {
  const store = createStore(opts);
  await store.init();
  return store;
}
