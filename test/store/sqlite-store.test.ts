import { unprivileged } from '../support/unprivileged.js';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createStore, openStore, SQLITE_FILE, type OpenStoreOptions } from '../../src/adapters/store/open-store.js';
import type { KyselyStore } from '../../src/adapters/store/kysely-store.js';
import { SCHEMA_VERSION } from '../../src/adapters/store/migrations.js';
import { runStoreContract, isCode } from '../contract/store.contract.js';
import { ACCT, ACCT2, alert, at, condor, entry, order, request, schema5Rows } from './store-fixtures.js';
import { IncidentId } from '../../src/core/ids.js';

const root = mkdtempSync(join(tmpdir(), 'legguard-sqlite-'));
// Traversable by the unprivileged user the read-only test runs as when this process is root.
chmodSync(root, 0o755);
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => join(root, `d${++n}`);

runStoreContract('sqlite', async () => {
  const dataDir = freshDir();
  const store = await openStore({ dataDir });
  return { store, reopen: async () => (await store.close(), openStore({ dataDir })) };
});

function raw(dir: string): Database.Database {
  return new Database(join(dir, SQLITE_FILE));
}

function tables(dir: string): string[] {
  const db = raw(dir);
  try {
    return (db.prepare(`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`).all() as { name: string }[]).map((r) => r.name);
  } finally {
    db.close();
  }
}

describe('sqlite store', () => {
  test('creates <dataDir>/legguard.db with WAL, synchronous=FULL and a busy timeout, and a meta table naming legguard', async () => {
    const dir = join(freshDir(), 'nested', 'data');
    const store = (await openStore({ dataDir: dir, busyTimeoutMs: 1234 })) as KyselyStore;
    assert.equal(store.dialect, 'sqlite');
    assert.deepEqual(await store.settings(), { journal_mode: 'wal', synchronous: 'FULL', busy_timeout: '1234' });
    assert.match(store.where, new RegExp(`${dir}/legguard\\.db$`));
    await store.close();
    const db = raw(dir);
    assert.deepEqual(db.prepare('select key, value from legguard_meta order by key').all(), [
      { key: 'application', value: 'legguard' },
      { key: 'schema_version', value: String(SCHEMA_VERSION) },
    ]);
    db.close();
    // Opening again migrates nothing and keeps the data.
    const again = await openStore({ dataDir: dir });
    await again.commit({ account: ACCT, strategies: [condor('ic-spy')] });
    await again.close();
    const third = await openStore({ dataDir: dir });
    assert.deepEqual(await third.listStrategies(ACCT), [condor('ic-spy')]);
    await third.close();
  });

  test('a file that is not a database: STORE_CORRUPT naming the file; the file is left as it was', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    const junk = Buffer.alloc(8192, 0x5a);
    writeFileSync(join(dir, SQLITE_FILE), junk);
    await assert.rejects(openStore({ dataDir: dir }), isCode('STORE_CORRUPT', new RegExp(`${dir}/legguard\\.db: open failed: the file is not an SQLite database`)));
    assert.deepEqual(readFileSync(join(dir, SQLITE_FILE)), junk);
  });

  test('a foreign database (other tables, no legguard meta): STORE_CORRUPT, and nothing is added to it', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    const db = raw(dir);
    db.exec('create table customers (id integer primary key, name text); create table invoices (id integer)');
    db.close();
    await assert.rejects(
      openStore({ dataDir: dir }),
      isCode('STORE_CORRUPT', /is not a legguard database: it has tables \(customers, invoices\) but no legguard_meta/),
    );
    assert.deepEqual(tables(dir), ['customers', 'invoices']);
    const after = raw(dir);
    assert.equal(after.pragma('journal_mode', { simple: true }), 'delete', 'the foreign file was switched to WAL');
    after.close();
  });

  test('a meta table naming another application: STORE_CORRUPT', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    const db = raw(dir);
    db.exec(`create table legguard_meta (key text primary key, value text not null); insert into legguard_meta values ('application', 'other-app')`);
    db.close();
    await assert.rejects(openStore({ dataDir: dir }), isCode('STORE_CORRUPT', /legguard_meta names the application "other-app"/));
    assert.deepEqual(tables(dir), ['legguard_meta']);
  });

  test('a database written by a newer legguard: STORE_NEWER_VERSION, and it is left untouched', async () => {
    const dir = freshDir();
    const store = await openStore({ dataDir: dir });
    await store.commit({ account: ACCT, strategies: [condor('ic-spy')] });
    await store.close();
    const db = raw(dir);
    db.prepare(`update legguard_meta set value = '99' where key = 'schema_version'`).run();
    db.close();
    const before = tables(dir);
    await assert.rejects(
      openStore({ dataDir: dir }),
      isCode('STORE_NEWER_VERSION', new RegExp(`${dir}/legguard\\.db was written by a newer legguard \\(schema version 99; this legguard knows versions up to ${SCHEMA_VERSION}\\)`)),
    );
    assert.deepEqual(tables(dir), before);
    const check = raw(dir);
    assert.deepEqual(check.prepare(`select value from legguard_meta where key = 'schema_version'`).get(), { value: '99' });
    assert.equal((check.prepare('select count(*) as n from legguard_strategies').get() as { n: number }).n, 1);
    check.close();
  });

  test('a damaged row: STORE_CORRUPT naming the table and row', async () => {
    const dir = freshDir();
    const store = await openStore({ dataDir: dir });
    await store.commit({ account: ACCT, strategies: [condor('ic-spy')] });
    const db = raw(dir);
    db.prepare(`update legguard_strategies set definition = '{"id": "ic-spy", oops' where strategy_id = 'ic-spy'`).run();
    db.close();
    await assert.rejects(store.load(ACCT), isCode('STORE_CORRUPT', /legguard_strategies DU111\/ic-spy definition: damaged JSON/));
    await store.close();
  });

  test('a full disk (max_page_count): STORE_UNWRITABLE, the previous state intact, and later small commits work', async () => {
    const dir = freshDir();
    const seed = await openStore({ dataDir: dir });
    await seed.commit({ account: ACCT, strategies: [condor('ic-spy')], journal: [entry('j0', 'note', 0)] });
    await seed.close();
    const db = raw(dir);
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.close();
    const store = await openStore({ dataDir: dir, sqlitePragmas: { max_page_count: pages + 4 } });
    const before = await store.load(ACCT);
    const big = Array.from({ length: 200 }, (_, i) => entry(`big:${i}`, 'note', i, { text: 'x'.repeat(2000) }));
    await assert.rejects(
      store.commit({ account: ACCT, strategies: [condor('ic-spy', { broken: true })], orders: [order(request('ic-spy', 'g0'), 'planned')], journal: big }),
      isCode('STORE_UNWRITABLE', /legguard\.db: commit failed: the disk is full .*SQLITE_FULL.*nothing from this write was stored/),
    );
    assert.deepEqual(await store.load(ACCT), before);
    assert.deepEqual((await store.journal({ account: ACCT })).map((e) => e.key), ['j0']);
    await store.commit({ account: ACCT, journal: [entry('j1', 'note', 1)] });
    await store.close();
    const reopened = await openStore({ dataDir: dir });
    assert.deepEqual((await reopened.journal({ account: ACCT })).map((e) => e.key), ['j0', 'j1']);
    assert.deepEqual(await reopened.load(ACCT), before);
    await reopened.close();
  });

  test('another process holding the write lock past the busy timeout: STORE_UNWRITABLE saying so', async () => {
    const dir = freshDir();
    const store = await openStore({ dataDir: dir, busyTimeoutMs: 50 });
    const other = raw(dir);
    other.exec('begin immediate');
    try {
      await assert.rejects(
        store.commit({ account: ACCT, journal: [entry('j', 'note', 0)] }),
        isCode('STORE_UNWRITABLE', /kept the database locked for longer than the busy timeout \(50 ms\)/),
      );
    } finally {
      other.exec('rollback');
      other.close();
    }
    await store.commit({ account: ACCT, journal: [entry('j', 'note', 0)] });
    assert.equal((await store.journal({ account: ACCT })).length, 1);
    await store.close();
  });

  test('a data directory that is a file: STORE_UNWRITABLE naming it', async () => {
    const file = join(freshDir());
    writeFileSync(file, 'not a directory');
    await assert.rejects(openStore({ dataDir: file }), isCode('STORE_UNWRITABLE', /data directory .*: a file is in the way of it/));
  });

  test('read-only directory or file: STORE_UNWRITABLE at open, nothing written (as an unprivileged user)', async () => {
    const base = freshDir();
    mkdirSync(base, { recursive: true });
    chmodSync(base, 0o777);
    // A read-only directory with no database yet.
    const roDir = join(base, 'ro-dir');
    mkdirSync(roDir);
    chmodSync(roDir, 0o555);
    // A legguard database whose file is read-only.
    const roFile = join(base, 'ro-file');
    await (await openStore({ dataDir: roFile })).close();
    chmodSync(roFile, 0o777);
    chmodSync(join(roFile, SQLITE_FILE), 0o444);
    // A writable legguard database in a read-only directory (WAL needs its -wal and -shm files beside it).
    const roParent = join(base, 'ro-parent');
    await (await openStore({ dataDir: roParent })).close();
    chmodSync(join(roParent, SQLITE_FILE), 0o666);
    chmodSync(roParent, 0o555);
    const fileBefore = readFileSync(join(roFile, SQLITE_FILE));
    const results = runChild([{ dataDir: roDir }, { dataDir: roFile }, { dataDir: roParent }]);
    assert.equal(results.length, 3);
    assert.equal(results[0]!.code, 'STORE_UNWRITABLE', results[0]!.message);
    assert.match(results[0]!.message, new RegExp(`${roDir}/legguard\\.db: open failed: the file cannot be opened or created`));
    assert.equal(results[1]!.code, 'STORE_UNWRITABLE', results[1]!.message);
    assert.match(results[1]!.message, new RegExp(`${roFile}/legguard\\.db: .*read-only`));
    assert.equal(results[2]!.code, 'STORE_UNWRITABLE', results[2]!.message);
    assert.match(results[2]!.message, new RegExp(`${roParent}/legguard\\.db: .*read-only`));
    assert.equal(existsSync(join(roDir, SQLITE_FILE)), false);
    assert.deepEqual(readFileSync(join(roFile, SQLITE_FILE)), fileBefore);
    chmodSync(roDir, 0o755);
    chmodSync(roParent, 0o755);
  });

  test('schema 4 to 5: the outbox, its deliveries and acknowledgements are given the store\'s one account, and keep their order', async () => {
    const dir = freshDir();
    const first = await openStore({ dataDir: dir });
    await first.commit({ account: ACCT, strategies: [condor('ic-spy')], alerts: [alert('a1', 'critical', 10, 'inc-1'), alert('a2', 'info', 20)] });
    await first.recordDelivery({ account: ACCT, alertKey: 'a1', channel: 'phone', at: at(30), delivered: true, error: null, nextAttemptAt: null });
    await first.ackIncident(ACCT, IncidentId.unsafe('inc-1'), at(40), 'cli:alice');
    await first.close();
    // Back to schema 4's shape: no account column, keys unique on their own.
    const db = raw(dir);
    db.exec(`
      create table old_alerts (seq integer primary key autoincrement, key text not null unique, severity text not null, incident_id text, strategy_id text, at bigint not null, alert text not null);
      insert into old_alerts select seq, key, severity, incident_id, strategy_id, at, alert from legguard_alerts;
      drop table legguard_alerts; alter table old_alerts rename to legguard_alerts;
      create index legguard_alerts_at on legguard_alerts (at, seq);
      create table old_deliveries (alert_key text not null, channel text not null, status text not null, attempts integer not null, next_attempt_at bigint, last_error text, updated_at bigint not null, constraint legguard_deliveries_pk primary key (alert_key, channel));
      insert into old_deliveries select alert_key, channel, status, attempts, next_attempt_at, last_error, updated_at from legguard_deliveries;
      drop table legguard_deliveries; alter table old_deliveries rename to legguard_deliveries;
      create table old_acks (incident_id text primary key, at bigint not null, acked_by text not null);
      insert into old_acks select incident_id, at, acked_by from legguard_acks;
      drop table legguard_acks; alter table old_acks rename to legguard_acks;
      update legguard_meta set value = '4' where key = 'schema_version';
    `);
    db.close();
    const store = await openStore({ dataDir: dir });
    try {
      assert.deepEqual((await store.dueDeliveries(ACCT, ['phone'], at(100), 10)).map((d) => d.alert.key), ['a2'], 'a1 stays delivered');
      assert.deepEqual(await store.acknowledgements(ACCT, [IncidentId.unsafe('inc-1')]), [{ incidentId: 'inc-1', at: at(40), by: 'cli:alice' }]);
      assert.deepEqual(await store.dueDeliveries(ACCT2, ['phone'], at(100), 10), [], 'nothing of the other account');
      // New alerts come after the migrated ones (same time: commit order).
      await store.enqueueAlerts(ACCT, [alert('a0', 'info', 20)]);
      assert.deepEqual((await store.recentAlerts({ account: ACCT, limit: 10 })).map((a) => a.key), ['a1', 'a2', 'a0']);
      await store.enqueueAlerts(ACCT2, [alert('a1', 'critical', 50, 'inc-1')]);
      assert.deepEqual((await store.unackedCritical(ACCT2)).map((u) => u.incidentId), ['inc-1'], 'the same key and incident in another account');
    } finally {
      await store.close();
    }
    const check = raw(dir);
    assert.deepEqual(check.prepare(`select value from legguard_meta where key = 'schema_version'`).get(), { value: String(SCHEMA_VERSION) });
    check.close();
  });

  test('schema 5 to 6: rows written now leave out the usual contract fields and what the columns hold; rows written in full still read back', async () => {
    const dir = freshDir();
    const v5 = schema5Rows();
    const first = await openStore({ dataDir: dir });
    await first.commit({ account: ACCT, strategies: [v5.strategy], orders: [v5.order] });
    await first.close();
    const db = raw(dir);
    const def = (db.prepare('select definition from legguard_strategies').get() as { definition: string }).definition;
    assert.doesNotMatch(def, /multiplier|american|physical|USD/, def);
    const contracts = (db.prepare('select contract from legguard_holdings order by idx').all() as { contract: string }[]).map((r) => r.contract);
    assert.deepEqual(contracts.slice(-2), ['{"secType":"STK","symbol":"SPY"}', '{"secType":"OPT","symbol":"SPX","right":"P","strike":5432.5,"expiry":"2026-02-20","style":"european","settlement":"cash","tradingClass":"SPXW"}']);
    const req = (db.prepare('select request from legguard_orders').get() as { request: string }).request;
    assert.doesNotMatch(req, /"ref"|"strategyId"|"incidentId"|"account"|multiplier/, req);
    // Back to the rows schema 5 wrote.
    db.exec(v5.sql);
    db.close();
    const store = await openStore({ dataDir: dir });
    try {
      const loaded = await store.load(ACCT);
      assert.deepEqual(loaded.strategies, [v5.strategy]);
      assert.deepEqual(loaded.openOrders, [v5.order]);
      // Written again by this version, the same records read back the same.
      await store.commit({ account: ACCT, strategies: [v5.strategy], orders: [v5.order] });
      assert.deepEqual(await store.listStrategies(ACCT), [v5.strategy]);
      assert.deepEqual(await store.orders({ account: ACCT }), [v5.order]);
    } finally {
      await store.close();
    }
    const check = raw(dir);
    assert.deepEqual(check.prepare(`select value from legguard_meta where key = 'schema_version'`).get(), { value: String(SCHEMA_VERSION) });
    check.close();
  });

  test('bad options are refused before anything is opened', () => {
    assert.throws(() => createStore({ dataDir: '' }), isCode('INVALID_INPUT', /data directory must be given/));
    assert.throws(() => createStore({ dataDir: freshDir(), sqlitePragmas: { 'journal_mode; drop table x': 1 } }), isCode('INVALID_INPUT', /not a plain name/));
    assert.throws(() => createStore({ dataDir: freshDir(), busyTimeoutMs: -1 }), isCode('INVALID_INPUT', /busy timeout/));
  });

  test('operations before init fail clearly; concurrent inits open once', async () => {
    const store = createStore({ dataDir: freshDir() });
    await assert.rejects(store.load(ACCT), isCode('INTERNAL', /not initialised; call init\(\) first/));
    await Promise.all([store.init(), store.init(), store.init()]);
    await store.commit({ account: ACCT, strategies: [condor('ic-spy')] });
    assert.equal((await store.listStrategies(ACCT)).length, 1);
    await store.close();
    await assert.rejects(store.init(), isCode('INTERNAL', /closed/));
  });
});

/** Runs the open-store child so that it obeys file permissions (see `unprivileged`). */
function runChild(attempts: OpenStoreOptions[]): { ok: boolean; code: string | null; message: string }[] {
  const [cmd, args, extra] = unprivileged(process.execPath, ['--import', 'tsx', new URL('./fixtures/open-store-child.ts', import.meta.url).pathname, JSON.stringify(attempts)]);
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    cwd: new URL('../..', import.meta.url).pathname,
    ...extra,
    env: { ...process.env, HOME: tmpdir() },
  });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  const last = r.stdout.trim().split('\n').pop() ?? '[]';
  return JSON.parse(last) as { ok: boolean; code: string | null; message: string }[];
}
