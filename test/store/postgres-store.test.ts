import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createStore, openStore } from '../../src/adapters/store/open-store.js';
import type { KyselyStore } from '../../src/adapters/store/kysely-store.js';
import { SCHEMA_VERSION } from '../../src/adapters/store/migrations.js';
import { runStoreContract, isCode } from '../contract/store.contract.js';
import { postgresForTests, runInSchema, testSchema } from '../support/postgres.js';
import { ACCT, ACCT2, alert, at, condor, schema5Rows } from './store-fixtures.js';
import { IncidentId } from '../../src/core/ids.js';

const pg = await postgresForTests();
const drops: (() => Promise<void>)[] = [];
after(async () => {
  for (const d of drops) await d();
});

/** A fresh schema on the test server for one test; dropped when the file ends. */
function schemaUrl(label: string): { schema: string; url: string } {
  const s = testSchema(pg.url!, label);
  drops.push(s.drop);
  return s;
}

runStoreContract(
  'postgres',
  async () => {
    const { url } = schemaUrl('c');
    const store = await openStore({ dataDir: '', databaseUrl: url });
    return { store, reopen: async () => (await store.close(), openStore({ dataDir: '', databaseUrl: url })) };
  },
  { skip: pg.skip ?? false },
);

describe('postgres store', { skip: pg.skip ?? false }, () => {
  test('runs in its own schema with synchronous_commit on, and records legguard and the schema version', async () => {
    const { schema, url } = schemaUrl('s');
    const store = (await openStore({ dataDir: '', databaseUrl: url })) as KyselyStore;
    assert.equal(store.dialect, 'postgres');
    assert.deepEqual(await store.settings(), { synchronous_commit: 'on', search_path: schema, schema });
    assert.match(store.where, new RegExp(`^Postgres store postgres://root@127\\.0\\.0\\.1:5432/test \\(schema ${schema}\\)$`));
    await store.commit({ account: ACCT, strategies: [condor('ic-spy')] });
    await store.close();
    // The meta rows, read directly.
    await runInSchema(pg.url!, schema, `do $$ begin
      if (select value from legguard_meta where key = 'application') <> 'legguard' then raise exception 'application'; end if;
      if (select value from legguard_meta where key = 'schema_version') <> '${SCHEMA_VERSION}' then raise exception 'version'; end if;
      if (select count(*) from legguard_strategies) <> 1 then raise exception 'rows'; end if;
    end $$`);
  });

  test('two guards opening one empty schema at once migrate it once', async () => {
    const { url } = schemaUrl('m');
    const [a, b] = await Promise.all([openStore({ dataDir: '', databaseUrl: url }), openStore({ dataDir: '', databaseUrl: url })]);
    await a.commit({ account: ACCT, strategies: [condor('ic-spy')] });
    assert.deepEqual(await b.listStrategies(ACCT), [condor('ic-spy')]);
    await a.close();
    await b.close();
  });

  test("other applications' tables in the schema are left alone; legguard tables without meta are refused", async () => {
    const shared = schemaUrl('o');
    await runInSchema(pg.url!, shared.schema, 'create table customers (id int primary key)');
    const store = await openStore({ dataDir: '', databaseUrl: shared.url });
    await store.close();
    const half = schemaUrl('h');
    await runInSchema(pg.url!, half.schema, 'create table legguard_journal (seq int)');
    await assert.rejects(
      openStore({ dataDir: '', databaseUrl: half.url }),
      isCode('STORE_CORRUPT', new RegExp(`\\(schema ${half.schema}\\) is not a legguard database: it has tables \\(legguard_journal\\) but no legguard_meta`)),
    );
  });

  test('a schema written by a newer legguard: STORE_NEWER_VERSION, left untouched', async () => {
    const { schema, url } = schemaUrl('n');
    const store = await openStore({ dataDir: '', databaseUrl: url });
    await store.commit({ account: ACCT, strategies: [condor('ic-spy')] });
    await store.close();
    await runInSchema(pg.url!, schema, `update legguard_meta set value = '42' where key = 'schema_version'`);
    await assert.rejects(
      openStore({ dataDir: '', databaseUrl: url }),
      isCode('STORE_NEWER_VERSION', new RegExp(`was written by a newer legguard \\(schema version 42; this legguard knows versions up to ${SCHEMA_VERSION}\\)`)),
    );
    await runInSchema(pg.url!, schema, `do $$ begin
      if (select value from legguard_meta where key = 'schema_version') <> '42' then raise exception 'version changed'; end if;
      if (select count(*) from legguard_strategies) <> 1 then raise exception 'rows changed'; end if;
    end $$`);
  });

  test('schema 4 to 5: the outbox is given the store\'s one account; deliveries, acks and the alert order are kept', async () => {
    const { schema, url } = schemaUrl('m5');
    const first = await openStore({ dataDir: '', databaseUrl: url });
    await first.commit({ account: ACCT, strategies: [condor('ic-spy')], alerts: [alert('a1', 'critical', 10, 'inc-1'), alert('a2', 'info', 20)] });
    await first.recordDelivery({ account: ACCT, alertKey: 'a1', channel: 'phone', at: at(30), delivered: true, error: null, nextAttemptAt: null });
    await first.ackIncident(ACCT, IncidentId.unsafe('inc-1'), at(40), 'cli:alice');
    await first.close();
    // Back to schema 4's shape: no account column, keys unique on their own.
    await runInSchema(
      pg.url!,
      schema,
      `create table old_alerts (seq bigserial primary key, key text not null unique, severity text not null, incident_id text, strategy_id text, at bigint not null, alert text not null);
       insert into old_alerts select seq, key, severity, incident_id, strategy_id, at, alert from legguard_alerts;
       select setval(pg_get_serial_sequence('old_alerts', 'seq'), 3, false);
       drop table legguard_alerts; alter table old_alerts rename to legguard_alerts;
       create table old_deliveries (alert_key text not null, channel text not null, status text not null, attempts integer not null, next_attempt_at bigint, last_error text, updated_at bigint not null, primary key (alert_key, channel));
       insert into old_deliveries select alert_key, channel, status, attempts, next_attempt_at, last_error, updated_at from legguard_deliveries;
       drop table legguard_deliveries; alter table old_deliveries rename to legguard_deliveries;
       create table old_acks (incident_id text primary key, at bigint not null, acked_by text not null);
       insert into old_acks select incident_id, at, acked_by from legguard_acks;
       drop table legguard_acks; alter table old_acks rename to legguard_acks;
       update legguard_meta set value = '4' where key = 'schema_version';`,
    );
    const store = await openStore({ dataDir: '', databaseUrl: url });
    try {
      assert.deepEqual((await store.dueDeliveries(ACCT, ['phone'], at(100), 10)).map((d) => d.alert.key), ['a2'], 'a1 stays delivered');
      assert.deepEqual(await store.acknowledgements(ACCT, [IncidentId.unsafe('inc-1')]), [{ incidentId: 'inc-1', at: at(40), by: 'cli:alice' }]);
      // The new table's sequence goes on after the copied rows: a new alert at the same time comes after them.
      await store.enqueueAlerts(ACCT, [alert('a0', 'info', 20)]);
      assert.deepEqual((await store.recentAlerts({ account: ACCT, limit: 10 })).map((a) => a.key), ['a1', 'a2', 'a0']);
      await store.enqueueAlerts(ACCT2, [alert('a1', 'critical', 50, 'inc-1')]);
      assert.deepEqual((await store.unackedCritical(ACCT2)).map((u) => u.incidentId), ['inc-1'], 'the same key and incident in another account');
    } finally {
      await store.close();
    }
  });

  test('schema 5 to 6: rows written in full (every contract field, the whole request) still read back; new rows leave them out', async () => {
    const { schema, url } = schemaUrl('m6');
    const v5 = schema5Rows();
    const first = await openStore({ dataDir: '', databaseUrl: url });
    await first.commit({ account: ACCT, strategies: [v5.strategy], orders: [v5.order] });
    await first.close();
    const [row] = await runInSchema(pg.url!, schema, 'select s.definition, o.request from legguard_strategies s, legguard_orders o');
    assert.doesNotMatch(String(row!.definition), /multiplier|american|physical|USD/);
    assert.doesNotMatch(String(row!.request), /"ref"|"account"|multiplier/);
    await runInSchema(pg.url!, schema, v5.sql);
    const store = await openStore({ dataDir: '', databaseUrl: url });
    try {
      const loaded = await store.load(ACCT);
      assert.deepEqual(loaded.strategies, [v5.strategy]);
      assert.deepEqual(loaded.openOrders, [v5.order]);
    } finally {
      await store.close();
    }
    const [version] = await runInSchema(pg.url!, schema, `select value from legguard_meta where key = 'schema_version'`);
    assert.equal(version!.value, String(SCHEMA_VERSION));
  });

  test('a database that does not exist: STORE_UNREACHABLE naming it', async () => {
    const u = new URL(pg.url!);
    u.pathname = '/legguard_no_such_database';
    await assert.rejects(
      openStore({ dataDir: '', databaseUrl: u.toString() }),
      isCode('STORE_UNREACHABLE', /legguard_no_such_database.*connect failed: the database does not exist \(3D000/),
    );
  });

  test('a damaged row: STORE_CORRUPT naming the table and row', async () => {
    const { schema, url } = schemaUrl('d');
    const store = await openStore({ dataDir: '', databaseUrl: url });
    await store.commit({ account: ACCT, strategies: [condor('ic-spy')] });
    await runInSchema(pg.url!, schema, `update legguard_strategies set state = 'SIDEWAYS'`);
    await assert.rejects(store.load(ACCT), isCode('STORE_CORRUPT', /legguard_strategies DU111\/ic-spy state: unknown value "SIDEWAYS"/));
    await store.close();
  });

  test('connections ended by the server: the store reconnects on next use', async () => {
    const { schema, url } = schemaUrl('g');
    const store = createStore({ dataDir: '', databaseUrl: url, connectTimeoutMs: 2000 });
    await store.init();
    // Ends this store's connections from the server side, as a server restart or an idle timeout would.
    const ended = await runInSchema(pg.url!, 'public', `select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = 'legguard:${schema}'`);
    assert.ok(ended.length >= 1 && ended.every((r) => r.ok === true), `ended ${JSON.stringify(ended)}`);
    // The pool replaces a dead idle connection on next use, so the store works again without a restart.
    let worked = false;
    for (let i = 0; i < 3 && !worked; i++) {
      try {
        await store.commit({ account: ACCT, strategies: [condor('ic-spy')] });
        worked = true;
      } catch (e) {
        console.log(`commit after the server ended the connections: ${(e as Error).message}`);
        isCode('STORE_UNREACHABLE', /commit failed: .*(nothing from this write was stored|unknown)/)(e);
      }
    }
    assert.ok(worked, 'the store did not recover after its connections were ended');
    assert.deepEqual(await store.listStrategies(ACCT), [condor('ic-spy')]);
    await store.close();
  });
});
