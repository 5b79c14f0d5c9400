// Issue 16, many accounts on one store, read side: status (and the read-only dashboard's API over it) for two
// accounts whose records the engine made in one store (the condor as one account, the put spread as the other), on
// the memory store, SQLite and PostgreSQL alike. Each account's report holds its own strategies, incidents and
// outbox, none of the other's; selecting an account that is not there is NOT_FOUND naming those that are.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { MemoryStore } from '../../src/adapters/store/memory-store.js';
import { openStore } from '../../src/adapters/store/open-store.js';
import { parseConfig } from '../../src/app/config.js';
import { knownAccount } from '../../src/app/known-account.js';
import { gatherAccountsStatus, gatherStatus } from '../../src/app/status-report.js';
import { LegguardError } from '../../src/core/errors.js';
import type { StorePort } from '../../src/ports/store.js';
import { storeEdgeApi } from '../../src/web/store-edge-api.js';
import { postgresForTests, testSchema } from '../support/postgres.js';
import { CONDOR_ACCOUNT, SPREAD_ACCOUNT, twoAccountRecord } from '../support/two-account-record.js';

const pg = await postgresForTests();
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

const config = parseConfig(`account: ${CONDOR_ACCOUNT}\n`, 'test', {}, Date.now());
const clock = new VirtualClock(Date.parse('2026-03-01T12:00:00Z'));

async function checkTwoAccounts(open: () => Promise<StorePort>): Promise<void> {
  const store = await open();
  try {
    const { condor, spread } = await twoAccountRecord(store);
    assert.deepEqual(await store.accounts(), [CONDOR_ACCOUNT, SPREAD_ACCOUNT]);
    const all = await gatherAccountsStatus(store, [CONDOR_ACCOUNT, SPREAD_ACCOUNT], config, 'the store', clock.now());
    assert.deepEqual(all.accounts.map((r) => r.account), [CONDOR_ACCOUNT, SPREAD_ACCOUNT]);
    assert.equal(all.account, CONDOR_ACCOUNT, 'the top level is the first account, as a one-account reader expects');
    assert.deepEqual(all.strategies, all.accounts[0]!.strategies);
    const [c, s] = all.accounts as [(typeof all.accounts)[0], (typeof all.accounts)[0]];
    assert.deepEqual(c.strategies.map((x) => `${x.id} ${x.state}`), [...condor.engine.strategies].map(([id, x]) => `${id} ${x.state}`));
    assert.deepEqual(s.strategies.map((x) => `${x.id} ${x.state}`), [...spread.engine.strategies].map(([id, x]) => `${id} ${x.state}`));
    assert.ok(c.incidents.length > 0 && s.incidents.length > 0, 'each account has its incident');
    const ids = (r: typeof c): string[] => r.strategies.map((x) => x.id);
    for (const i of c.incidents) assert.ok(i.strategyId === null || ids(c).includes(i.strategyId), `${i.incidentId} is the condor account's`);
    for (const i of s.incidents) assert.ok(i.strategyId === null || ids(s).includes(i.strategyId), `${i.incidentId} is the spread account's`);
    assert.equal(c.outbox.alerts + s.outbox.alerts, (await store.outboxSummary(null)).alerts, 'each alert counted in its own account only');
    // One account alone is the same report as within all.
    assert.deepEqual(await gatherStatus(store, SPREAD_ACCOUNT, config, 'the store', clock.now()), s);

    // The read-only dashboard's API over the same store: every account unless one is named.
    const api = storeEdgeApi(store, config, 'the store', clock);
    assert.deepEqual(await api.accounts(), [CONDOR_ACCOUNT, SPREAD_ACCOUNT]);
    const payoff = await api.payoff(null);
    assert.deepEqual([...new Set(payoff.strategies.map((p) => p.account))], [CONDOR_ACCOUNT, SPREAD_ACCOUNT]);
    assert.deepEqual((await api.payoff(SPREAD_ACCOUNT)).strategies.map((p) => p.id), ids(s));
    const history = await api.history(SPREAD_ACCOUNT);
    assert.ok(history.entries.length > 0 && history.entries.every((e) => e.account === SPREAD_ACCOUNT));
    const merged = await api.history(null);
    assert.deepEqual([...new Set(merged.entries.map((e) => e.account))].sort(), [CONDOR_ACCOUNT, SPREAD_ACCOUNT]);
    assert.deepEqual([...merged.entries.map((e) => e.at)].sort(), merged.entries.map((e) => e.at), 'merged oldest first');
    const health = await api.health(null);
    assert.equal(health.ok, true);
    assert.deepEqual(health.accounts.map((h) => h.account), [CONDOR_ACCOUNT, SPREAD_ACCOUNT]);
    const metrics = (await api.metrics()).body;
    for (const a of [CONDOR_ACCOUNT, SPREAD_ACCOUNT]) assert.match(metrics, new RegExp(`legguard_strategies\\{account="${a}",state="CLOSED"\\} [1-9]`));
    await assert.rejects(api.status('DU9' as typeof CONDOR_ACCOUNT), (e: unknown) => LegguardError.is(e, 'NOT_FOUND') && e.message === `no account DU9 in the store; its accounts: ${CONDOR_ACCOUNT}, ${SPREAD_ACCOUNT}`);
    const one = storeEdgeApi(store, config, 'the store', clock, SPREAD_ACCOUNT);
    assert.deepEqual(await one.accounts(), [SPREAD_ACCOUNT], '--account: that account only');
    await assert.rejects(one.payoff(CONDOR_ACCOUNT), (e: unknown) => LegguardError.is(e, 'NOT_FOUND'));
  } finally {
    await store.close();
  }
}

describe('status of two accounts in one store', () => {
  test('memory', () =>
    checkTwoAccounts(async () => {
      const s = new MemoryStore();
      await s.init();
      return s;
    }));

  test('SQLite', () => {
    const dir = mkdtempSync(join(tmpdir(), 'legguard-accounts-status-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return checkTwoAccounts(() => openStore({ dataDir: dir }));
  });

  test('PostgreSQL', { skip: pg.skip ?? false }, () => {
    const s = testSchema(pg.url!, 'status');
    cleanups.push(s.drop);
    return checkTwoAccounts(() => openStore({ dataDir: '', databaseUrl: s.url }));
  });
});

test('an account named that is not there: NOT_FOUND naming it and those there are; malformed: INVALID_INPUT', () => {
  const known = [CONDOR_ACCOUNT, SPREAD_ACCOUNT];
  assert.equal(knownAccount(SPREAD_ACCOUNT, known, 'x'), SPREAD_ACCOUNT);
  assert.throws(() => knownAccount('DU7', known, 'SQLite /d/legguard.db'), (e: unknown) => LegguardError.is(e, 'NOT_FOUND') && e.message === `no account DU7 in SQLite /d/legguard.db; its accounts: ${CONDOR_ACCOUNT}, ${SPREAD_ACCOUNT}`);
  assert.throws(() => knownAccount('DU7', [], 'x'), /no account DU7 in x; it has no account yet/);
  assert.throws(() => knownAccount('DU 7', known, 'x'), (e: unknown) => LegguardError.is(e, 'INVALID_INPUT') && /AccountId must be 1-32 letters or digits/.test(e.message));
});
