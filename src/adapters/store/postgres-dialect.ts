import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { LegguardError } from '../../core/errors.js';
import type { SqlDialect, StoreOp } from './sql-dialect.js';
import type { StoreTables } from './store-tables.js';
import { redactUrl, scrub, urlPassword } from './redact-url.js';

export interface PostgresDialectOptions {
  /** `postgres://user:password@host:port/database`; a `schema=<name>` parameter names the schema (see `schema`). */
  readonly url: string;
  /** The schema for legguard's tables, created when missing; null: the server's default search_path (public). */
  readonly schema: string | null;
  /** Bound on establishing a connection (TCP and login); past it the store is unreachable. */
  readonly connectTimeoutMs: number;
  readonly poolSize: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const INT8_OID = 20;

/**
 * How long the server lets one of legguard's sessions sit idle inside a transaction before it ends the session (and
 * so rolls the transaction back and frees its locks): below the default lease (6 s), so that a leader partitioned
 * from the server mid-commit does not hold the lease row past the moment its standby may take it.
 */
export const IDLE_IN_TRANSACTION_MS = 4000;

/**
 * PostgreSQL through `pg`. Every connection sets `synchronous_commit = on` (a commit precedes an order, so it must be
 * on disk at the server whatever the server's default), `extra_float_digits = 3` (exact doubles), `idle_in_transaction_session_timeout` (IDLE_IN_TRANSACTION_MS) and, with a schema, `search_path` to it alone, so unqualified
 * table names resolve there and concurrent test runs in their own schemas never meet. `bigint` columns come back as
 * numbers (epoch milliseconds and quantities are safe integers) through a per-pool type parser, not the process-wide
 * one, so other `pg` users in the process are unaffected.
 */
export function postgresDialect(opts: PostgresDialectOptions): SqlDialect {
  let parsed: URL;
  try {
    parsed = new URL(opts.url);
  } catch {
    throw new LegguardError('INVALID_INPUT', 'database URL is not a valid URL (not shown: it may hold a password)');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new LegguardError('INVALID_INPUT', `database URL must start with postgres:// or postgresql://; got ${redactUrl(opts.url)}`);
  }
  const schema = opts.schema ?? parsed.searchParams.get('schema');
  parsed.searchParams.delete('schema');
  if (schema !== null && !SCHEMA_NAME.test(schema)) {
    throw new LegguardError(
      'INVALID_INPUT',
      `Postgres schema must be 1-63 lower-case letters, digits or "_", starting with a letter or "_"; got ${JSON.stringify(schema)}`,
    );
  }
  if (!Number.isSafeInteger(opts.connectTimeoutMs) || opts.connectTimeoutMs <= 0) {
    throw new LegguardError('INVALID_INPUT', `Postgres connect timeout must be a positive whole number of milliseconds; got ${opts.connectTimeoutMs}`);
  }
  if (!Number.isSafeInteger(opts.poolSize) || opts.poolSize < 1) {
    throw new LegguardError('INVALID_INPUT', `Postgres pool size must be a whole number >= 1; got ${opts.poolSize}`);
  }
  const password = urlPassword(opts.url);
  const where = `Postgres store ${redactUrl(parsed.toString())}${schema !== null ? ` (schema ${schema})` : ''}`;
  let kysely: Kysely<StoreTables> | null = null;
  let pool: pg.Pool | null = null;

  const d: SqlDialect = {
    name: 'postgres',
    where,
    foreignIfAnyTable: false,
    commitOutcomeKnown: false,
    serial: { type: 'bigserial', autoIncrement: false },

    async open() {
      // extra_float_digits=3: a double (an average fill price) comes back exactly as written, also from a server
      // configured for shorter float output.
      // idle_in_transaction_session_timeout: a guard cut off the server mid-transaction (a network partition drops its
      // packets; the server is not told) would otherwise hold the transaction's row locks, the lease row among them,
      // until TCP gives up, minutes later, and its standby could not take the lease. The server ends such a session
      // after IDLE_IN_TRANSACTION_MS; a guard's own transactions send their statements back to back.
      const settings = [
        '-c synchronous_commit=on',
        '-c extra_float_digits=3',
        `-c idle_in_transaction_session_timeout=${IDLE_IN_TRANSACTION_MS}`,
        ...(schema !== null ? [`-c search_path=${schema}`] : []),
      ];
      pool = new pg.Pool({
        connectionString: parsed.toString(),
        connectionTimeoutMillis: opts.connectTimeoutMs,
        max: opts.poolSize,
        keepAlive: true,
        // Names the guard (and its schema) in pg_stat_activity, for whoever looks after the server.
        application_name: schema !== null ? `legguard:${schema}` : 'legguard',
        options: settings.join(' '),
        types: {
          getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
            oid === INT8_OID && format !== 'binary' ? parseInt8 : (pg.types.getTypeParser(oid, format ?? 'text') as unknown)) as pg.CustomTypesConfig['getTypeParser'],
        },
      });
      // An idle connection that the server drops emits 'error' on the pool; without a listener Node would crash the
      // process. The next query fails (and says so as STORE_UNREACHABLE), which is where the caller learns of it.
      pool.on('error', () => undefined);
      // A connection the server ends can report its socket's error more than once (the server's FATAL, then the
      // reset); the pool listens only while the connection is idle in it, so a later report would find no listener
      // and crash the process. Every connection keeps a listener of its own; queries still fail and say why.
      pool.on('connect', (client) => {
        client.on('error', () => undefined);
      });
      kysely = new Kysely<StoreTables>({ dialect: new PostgresDialect({ pool }) });
      try {
        await sql`select 1`.execute(kysely);
        if (schema !== null) await createSchema(kysely, schema);
      } catch (e) {
        await d.close();
        throw d.classify(e, 'connect');
      }
      return kysely;
    },

    async afterMigrate() {
      // Every setting is per connection (see open).
    },

    nowSql: "(extract(epoch from clock_timestamp()) * 1000)::bigint",
    rowLocks: true,
    begin(mode) {
      return mode === 'write' ? 'begin' : 'begin isolation level repeatable read read only';
    },

    async lockForMigration(db) {
      // Two guards starting at once against one empty schema must not both create the tables.
      await sql`select pg_advisory_xact_lock(hashtext('legguard-migrate:' || current_schema()))`.execute(db);
    },

    async listTables(db) {
      const rows = await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema() order by table_name`.execute(db);
      return rows.rows.map((r) => r.name);
    },

    async settings(db) {
      const r = await sql<{ sc: string; sp: string; cs: string | null }>`select current_setting('synchronous_commit') as sc, current_setting('search_path') as sp, current_schema() as cs`.execute(db);
      const row = r.rows[0];
      return { synchronous_commit: row?.sc ?? '', search_path: row?.sp ?? '', schema: row?.cs ?? '' };
    },

    classify(e, op, note) {
      return classifyPostgres(e, op, where, opts.connectTimeoutMs, password, note);
    },

    async close() {
      const k = kysely;
      kysely = null;
      pool = null;
      if (k) await k.destroy();
    },
  };
  return d;
}

function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) {
    throw new LegguardError('STORE_CORRUPT', `a bigint column holds ${text}, beyond the safe integer range legguard uses`);
  }
  return n;
}

async function createSchema(db: Kysely<StoreTables>, schema: string): Promise<void> {
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  } catch (e) {
    // Two processes creating the same schema at once: one of them sees a duplicate; the schema is there either way.
    const code = (e as { code?: unknown }).code;
    if (code !== '42P06' && code !== '23505') throw e;
  }
}

const UNREACHABLE_ERRNO = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'EAI_AGAIN']);

function errorCode(e: unknown): string {
  const c = (e as { code?: unknown }).code;
  if (typeof c === 'string') return c;
  // Node reports a refused connection to a name with several addresses (localhost: ::1 and 127.0.0.1) as one
  // AggregateError whose parts carry the codes.
  const inner = (e as { errors?: unknown }).errors;
  if (Array.isArray(inner) && inner.length > 0) return errorCode(inner[0]);
  return '';
}

/** Exported for tests of the mapping; use `SqlDialect.classify`. */
export function classifyPostgres(e: unknown, op: StoreOp, where: string, timeoutMs: number, password: string | null, note?: string): LegguardError {
  if (LegguardError.is(e)) return e;
  const code = errorCode(e);
  const raw = e instanceof Error ? e.message || (e as { errors?: Error[] }).errors?.[0]?.message || e.name : String(e);
  const msg = scrub(raw, password);
  const tail = note ? `; ${note}` : '';
  const make = (c: 'STORE_UNREACHABLE' | 'STORE_UNWRITABLE' | 'STORE_CORRUPT' | 'INTERNAL', problem: string): LegguardError =>
    new LegguardError(c, `${where}: ${op} failed: ${problem} (${code || 'error'}: ${msg})${tail}`, { pgCode: code || null }, { cause: e });
  if (UNREACHABLE_ERRNO.has(code)) return make('STORE_UNREACHABLE', 'the server cannot be reached (is it running, and are the host and port right?)');
  if (!/^[0-9A-Z]{5}$/.test(code)) {
    // Not a server error (SQLSTATE): the client's own, which come without codes.
    if (/timeout|timed out/i.test(raw)) return make('STORE_UNREACHABLE', `no answer within the connect timeout of ${timeoutMs} ms`);
    if (/Connection terminated|connection ended|Client has encountered a connection error|not queryable/i.test(raw)) {
      return make('STORE_UNREACHABLE', 'the connection to the server was lost');
    }
  }
  if (code === '28P01' || code === '28000') return make('STORE_UNREACHABLE', 'the server refused the login (user or password wrong, or pg_hba.conf)');
  if (code === '3D000') return make('STORE_UNREACHABLE', 'the database does not exist');
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') {
    return make('STORE_UNREACHABLE', 'the server closed the connection, or is shutting down or starting up');
  }
  if (code === '53100') return make('STORE_UNWRITABLE', "the server's disk is full");
  if (code.startsWith('53')) return make('STORE_UNWRITABLE', 'the server is out of resources');
  if (code === '25006') return make('STORE_UNWRITABLE', 'the server only allows reads (a standby?)');
  if (code === '42501') return make('STORE_UNWRITABLE', 'permission denied for this user');
  if (code === 'XX001' || code === 'XX002') return make('STORE_CORRUPT', 'the server reports damaged data');
  return make('INTERNAL', 'unexpected database error');
}
