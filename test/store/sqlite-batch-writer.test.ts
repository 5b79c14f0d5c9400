// SQLite writes the hot part of a commit through prepared statements (sqlite-batch-writer.ts); the query builder
// writes the same batches on Postgres. Both must leave the same rows: the same commits through each path give the
// same tables, row for row (sequence numbers included).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { KyselyStore } from '../../src/adapters/store/kysely-store.js';
import type { SqlDialect } from '../../src/adapters/store/sql-dialect.js';
import { sqliteDialect } from '../../src/adapters/store/sqlite-dialect.js';
import { StrategyId } from '../../src/core/ids.js';
import type { StoreBatch } from '../../src/ports/store.js';
import { ACCT, alert, at, call460, condor, entry, holding, order, request, spy } from './store-fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'legguard-writer-'));
after(() => rmSync(root, { recursive: true, force: true }));

function dialect(file: string, prepared: boolean): SqlDialect {
  const d = sqliteDialect({ file, busyTimeoutMs: 1_000, pragmas: {} });
  if (prepared) return d;
  const plain: SqlDialect = { ...d };
  delete (plain as { preparedWriter?: unknown }).preparedWriter;
  return plain;
}

function dump(file: string): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  try {
    const names = (db.prepare(`select name from sqlite_master where type = 'table' and name like 'legguard_%' and name != 'legguard_meta' order by name`).all() as { name: string }[]).map(
      (r) => r.name,
    );
    return Object.fromEntries(names.map((n) => [n, db.prepare(`select * from ${n} order by rowid`).all()]));
  } finally {
    db.close();
  }
}

const batches: StoreBatch[] = [
  {
    account: ACCT,
    strategies: [condor('ic-a'), condor('ic-b'), condor('ic-c')],
    journal: [entry('j1', 'note', 0), entry('j2', 'detection', 1, { nested: { x: [1, 2] } }, { strategy: 'ic-a', incident: 'inc-1' })],
    orders: [order(request('ic-a', 'g0'), 'planned'), order(request('ic-a', 'g1', { incident: 'inc-1', limit: 1.25 }), 'planned')],
    alerts: [alert('a1', 'critical', 2, 'inc-1'), alert('a1', 'info', 3), alert('a2', 'info', 4)],
    stateChanges: [{ strategyId: StrategyId.unsafe('ic-a'), from: 'OPEN', to: 'BROKEN', at: at(5), reason: 'assigned', incidentId: null }],
    outside: [holding(spy, 100)],
    cursor: { lastReconciledAt: at(5) },
  },
  {
    // Upserts (a strategy again with other holdings, an order moving on), first-wins journal and alert keys, removals.
    account: ACCT,
    strategies: [{ ...condor('ic-a', { broken: true, state: 'EMERGENCY_CLOSING' }), holdings: [holding(call460, -1), holding(spy, 100)] }],
    removeStrategies: [StrategyId.unsafe('ic-c')],
    journal: [entry('j1', 'note', 9, { changed: true }), entry('j3', 'order', 10)],
    orders: [order(request('ic-a', 'g0'), 'partially-filled', { filled: 1, price: 1.3, orderId: '17' }), order(request('ic-b', 'g0'), 'working', { orderId: '18', reason: 'sent' })],
    alerts: [alert('a2', 'critical', 11), alert('a3', 'warning', 12, 'inc-1')],
    stateChanges: [{ strategyId: StrategyId.unsafe('ic-a'), from: 'BROKEN', to: 'EMERGENCY_CLOSING', at: at(12), reason: 'closing', incidentId: null }],
  },
  { account: ACCT, orders: [order(request('ic-a', 'g0'), 'filled', { filled: 2, price: 1.31, orderId: '17' })], cursor: { lastExecutionAt: at(20) } },
];

test('prepared statements and the query builder write the same rows for the same commits', async () => {
  const files = { prepared: join(root, 'prepared.db'), builder: join(root, 'builder.db') };
  for (const [kind, file] of Object.entries(files)) {
    const store = new KyselyStore(dialect(file, kind === 'prepared'));
    await store.init();
    for (const b of batches) await store.commit(b);
    await store.close();
  }
  const prepared = dump(files.prepared);
  assert.ok((prepared['legguard_orders'] ?? []).length > 0 && (prepared['legguard_holdings'] ?? []).length > 0, 'rows were written');
  assert.deepEqual(prepared, dump(files.builder));
});

test('a batch the prepared path cannot store writes nothing, and the next commit goes through', async () => {
  const file = join(root, 'refused.db');
  const store = new KyselyStore(dialect(file, true));
  await store.init();
  await store.commit(batches[0]!);
  const before = dump(file);
  const bad = { ...alert('bad', 'critical', 30), facts: { big: 10n } as unknown as Record<string, number> };
  await assert.rejects(store.commit({ account: ACCT, strategies: [condor('ic-new')], orders: [order(request('ic-new', 'g0'), 'planned')], alerts: [bad] }), /cannot be stored as JSON/);
  assert.deepEqual(dump(file), before);
  await store.commit(batches[1]!);
  assert.notDeepEqual(dump(file), before);
  await store.close();
});
