// Postgres for tests, in one place: where the server is, whether it answers, and a schema of one's own that is
// dropped afterwards, so concurrent runs (and concurrent test files) never see each other's tables.
//
//   const pg = await postgresForTests();           // { url } or { skip: 'Postgres not reachable at ...: skipped' }
//   describe('...', { skip: pg.skip ?? false }, ...)
//   const { url, drop } = await testSchema(pg.url!); // url carries ?schema=<fresh name>
//
// LEGGUARD_TEST_PG_URL names the server (default postgres://root@127.0.0.1:5432/test). Without a server the tests
// are skipped with a plain message, unless LEGGUARD_REQUIRE_POSTGRES=1 (as `.ci/run` sets), which makes it a failure.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { redactUrl } from '../../src/adapters/store/redact-url.js';

export const DEFAULT_TEST_PG_URL = 'postgres://root@127.0.0.1:5432/test';

export function testPgUrl(): string {
  const v = process.env.LEGGUARD_TEST_PG_URL;
  return v !== undefined && v !== '' ? v : DEFAULT_TEST_PG_URL;
}

export function postgresRequired(): boolean {
  return process.env.LEGGUARD_REQUIRE_POSTGRES === '1';
}

/** Null when the server answers a query within `timeoutMs`; otherwise why not. */
export async function postgresProblem(url: string, timeoutMs = 3000): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (e) {
    return e instanceof Error ? e.message || e.name : String(e);
  } finally {
    await client.end().catch(() => undefined);
  }
}

let cached: Promise<{ url: string; skip: null } | { url: null; skip: string }> | null = null;

/**
 * The test server's URL, or the skip message when it cannot be reached. With LEGGUARD_REQUIRE_POSTGRES=1 an
 * unreachable server throws instead, which fails the test file.
 */
export function postgresForTests(): Promise<{ url: string; skip: null } | { url: null; skip: string }> {
  cached ??= (async () => {
    const url = testPgUrl();
    const problem = await postgresProblem(url);
    if (problem === null) return { url, skip: null };
    const message = `Postgres not reachable at ${redactUrl(url)} (${problem}): skipped`;
    if (postgresRequired()) {
      throw new Error(`${message.replace(/: skipped$/, '')}, and LEGGUARD_REQUIRE_POSTGRES=1 requires it`);
    }
    console.log(message);
    return { url: null, skip: message };
  })();
  return cached;
}

/**
 * A fresh schema name on the test server, with the URL that selects it (`?schema=`) and `drop()` to remove it with
 * everything in it. The schema itself is created by whoever opens the store (legguard's init creates it).
 */
export function testSchema(baseUrl: string, label = 't'): { schema: string; url: string; drop: () => Promise<void> } {
  const schema = `lg_${label}_${process.pid}_${randomBytes(4).toString('hex')}`.toLowerCase();
  const u = new URL(baseUrl);
  u.searchParams.set('schema', schema);
  return {
    schema,
    url: u.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 5000 });
      client.on('error', () => undefined);
      await client.connect();
      try {
        await client.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Runs `sql` on the test server with `search_path` set to `schema` (to plant a foreign or newer database). */
export async function runInSchema(baseUrl: string, schema: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(`create schema if not exists "${schema}"`);
    await client.query(`set search_path to "${schema}"`);
    return (await client.query(sql)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}
