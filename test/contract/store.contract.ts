// The one suite every StorePort passes: SQLite, Postgres and memory (test/store/*.test.ts call it). Each test gets a
// fresh, initialised store from `make`; `reopen` (null for a store that keeps nothing) closes it and opens another
// on the same data, to show that what was committed survives.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { contractKey, option, stock, type Contract } from '../../src/core/contract.js';
import { LegguardError } from '../../src/core/errors.js';
import { AccountId, ExecId, IncidentId, StrategyId } from '../../src/core/ids.js';
import { EpochMs, Price, Qty } from '../../src/core/quantity.js';
import type { OrderRecord, StorePort, StrategyRecord } from '../../src/ports/store.js';
import {
  ACCT,
  ACCT2,
  alert,
  at,
  call460,
  condor,
  entry,
  holding,
  order,
  put440,
  request,
  spxw,
  spy,
} from '../store/store-fixtures.js';

export interface StoreUnderTest {
  readonly store: StorePort;
  /** Closes `store` and opens another on the same data; null when the store keeps nothing. */
  readonly reopen: (() => Promise<StorePort>) | null;
}

export type MakeStore = () => Promise<StoreUnderTest>;

export function isCode(code: LegguardError['code'], text?: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(LegguardError.is(e), `expected a LegguardError, got ${String(e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    if (text) assert.match(e.message, text);
    return true;
  };
}

export function runStoreContract(name: string, make: MakeStore, opts: { skip?: string | false } = {}): void {
  describe(`store contract: ${name}`, { skip: opts.skip ?? false }, () => {
    const open: StorePort[] = [];
    afterEach(async () => {
      while (open.length > 0) await open.pop()!.close();
    });
    const fresh = async (): Promise<StoreUnderTest & { reopened(): Promise<StorePort> }> => {
      const s = await make();
      open.push(s.store);
      return {
        ...s,
        async reopened() {
          if (!s.reopen) return s.store;
          const next = await s.reopen();
          open.push(next);
          return next;
        },
      };
    };

    test('a new store loads empty, and init is idempotent', async () => {
      const { store } = await fresh();
      await store.init();
      const loaded = await store.load(ACCT);
      assert.deepEqual(loaded, {
        strategies: [],
        openOrders: [],
        outside: [],
        cursor: { lastExecutionAt: null, lastExecId: null, lastReconciledAt: null },
      });
      assert.deepEqual(await store.listStrategies(null), []);
      assert.deepEqual(await store.orders({ account: ACCT }), []);
      assert.equal((await store.recentExecIds(ACCT, at(0))).size, 0);
      assert.deepEqual(await store.unackedCritical(ACCT), []);
    });

    test('a closed store refuses work with a clear error', async () => {
      const { store } = await fresh();
      await store.close();
      await assert.rejects(store.load(ACCT), isCode('INTERNAL', /closed/));
      await assert.rejects(store.commit({ account: ACCT, journal: [entry('k', 'note', 0)] }), isCode('INTERNAL', /closed/));
    });

    test('load returns exactly what was committed, across accounts and (where durable) a reopen', async () => {
      const s = await fresh();
      const a = condor('ic-spy', { createdAt: at(0), broken: true, state: 'EMERGENCY_CLOSING' });
      const b = condor('ic-qqq', { createdAt: at(-5000) });
      const other = condor('ic-spy', { account: ACCT2, createdAt: at(-9000) });
      const planned = order(request('ic-spy', 'g0'), 'planned');
      const working = order(request('ic-spy', 'g1'), 'working', { orderId: '1002' });
      const filled = order(request('ic-spy', 'g2'), 'filled', { filled: 2, price: 1.35, orderId: '1003' });
      const outside = [holding(spy, 37), holding(spxw, -1)];
      await s.store.commit({
        account: ACCT,
        strategies: [a, b],
        orders: [planned, working, filled],
        outside,
        cursor: { lastExecutionAt: at(3000), lastExecId: ExecId.unsafe('0000e0d5.6571a8b2.01.01'), lastReconciledAt: at(4000) },
      });
      await s.store.commit({ account: ACCT2, strategies: [other] });
      const expectA = {
        strategies: [b, a],
        openOrders: [planned, working],
        outside,
        cursor: { lastExecutionAt: at(3000), lastExecId: '0000e0d5.6571a8b2.01.01', lastReconciledAt: at(4000) },
      };
      const check = async (store: StorePort): Promise<void> => {
        assert.deepEqual(await store.load(ACCT), expectA);
        assert.deepEqual(await store.load(ACCT2), {
          strategies: [other],
          openOrders: [],
          outside: [],
          cursor: { lastExecutionAt: null, lastExecId: null, lastReconciledAt: null },
        });
        assert.deepEqual(await store.listStrategies(ACCT), [b, a]);
        assert.deepEqual(await store.listStrategies(null), [other, b, a]);
        assert.deepEqual([...(await store.strategyIds(ACCT))].sort(), [a.definition.id, b.definition.id].sort(), 'the ids alone, of this account only');
        assert.deepEqual([...(await store.strategyIds(ACCT2))], [other.definition.id]);
        assert.deepEqual(await store.orders({ account: ACCT }), [planned, working, filled]);
      };
      await check(s.store);
      await check(await s.reopened());
    });

    test('a batch that fails part-way writes nothing', async () => {
      const { store } = await fresh();
      const before = condor('ic-spy');
      await store.commit({ account: ACCT, strategies: [before], journal: [entry('j1', 'note', 0)], orders: [order(request('ic-spy', 'g0'), 'planned')] });
      const snapshot = await store.load(ACCT);
      const bad = alert('bad', 'critical', 10, 'inc-1');
      // Strategies, history, journal and orders come before alerts in a batch; the alert's facts cannot be JSON.
      const poisoned = { ...bad, facts: { big: 10n } as unknown as typeof bad.facts };
      await assert.rejects(
        store.commit({
          account: ACCT,
          strategies: [condor('ic-spy', { broken: true }), condor('ic-new')],
          removeStrategies: [],
          stateChanges: [{ strategyId: StrategyId.unsafe('ic-spy'), from: 'OPEN', to: 'BROKEN', at: at(10), reason: 'assigned', incidentId: null }],
          journal: [entry('j2', 'detection', 10)],
          orders: [order(request('ic-spy', 'g0'), 'working'), order(request('ic-spy', 'g1'), 'planned')],
          alerts: [alert('fine', 'info', 10), poisoned],
          outside: [holding(spy, 100)],
          cursor: { lastReconciledAt: at(10) },
        }),
        isCode('INVALID_INPUT', /alert "bad" cannot be stored as JSON/),
      );
      assert.deepEqual(await store.load(ACCT), snapshot);
      assert.deepEqual((await store.journal({ account: ACCT })).map((e) => e.key), ['j1']);
      assert.deepEqual(await store.stateHistory({ account: ACCT }), []);
      assert.deepEqual(await store.dueDeliveries(ACCT, ['console'], at(100), 10), []);
      assert.equal((await store.orders({ account: ACCT })).length, 1);
    });

    test('records of another account, bad text and duplicate holdings are refused, naming the problem', async () => {
      const { store } = await fresh();
      await assert.rejects(
        store.commit({ account: ACCT, orders: [order(request('ic-spy', 'g0', { account: ACCT2 }), 'planned')] }),
        isCode('INVALID_INPUT', /order lg\/ic-spy\/.*\/g0\/1 belongs to account "DU222", not to the batch's account DU111/),
      );
      await assert.rejects(
        store.commit({ account: ACCT, strategies: [condor('x', { account: ACCT2 })] }),
        isCode('INVALID_INPUT', /strategy x belongs to account "DU222"/),
      );
      await assert.rejects(
        store.commit({ account: ACCT, journal: [{ ...entry('k', 'note', 0), account: ACCT2 }] }),
        isCode('INVALID_INPUT', /journal entry "k" belongs to account "DU222"/),
      );
      await assert.rejects(
        store.commit({ account: ACCT, orders: [order(request('ic-spy', 'g0'), 'rejected', { reason: 'bad\u0000reason' })] }),
        isCode('INVALID_INPUT', /reason must not contain a NUL/),
      );
      await assert.rejects(
        store.commit({ account: ACCT, strategies: [{ ...condor('dup'), holdings: [holding(spy, 1), holding(stock('spy'), 2)] }] }),
        isCode('INVALID_INPUT', /STK:SPY twice/),
      );
      await assert.rejects(
        store.commit({ account: ACCT, journal: [{ ...entry('u', 'note', 0), data: undefined }] }),
        isCode('INVALID_INPUT', /journal entry "u" data cannot be stored as JSON/),
      );
      await assert.rejects(
        store.commit({ account: ACCT, journal: [{ ...entry('t', 'note', 0), at: EpochMs.unsafe(1.5) }] }),
        isCode('INVALID_INPUT', /at must be a whole number/),
      );
      await assert.rejects(
        store.commit({ account: AccountId.unsafe('not an account!'), journal: [] }),
        isCode('INVALID_INPUT', /AccountId must be 1-32 letters or digits; got "not an account!"/),
      );
      await assert.rejects(store.load(AccountId.unsafe('')), isCode('INVALID_INPUT', /AccountId/));
      assert.deepEqual((await store.load(ACCT)).strategies, []);
      assert.deepEqual(await store.journal({ account: ACCT }), []);
    });

    test('journal keys are idempotent per account: appending an existing key is a no-op', async () => {
      const s = await fresh();
      const first = entry('exec:1', 'fill', 10, { price: 1.35 }, { strategy: 'ic-spy' });
      await s.store.commit({ account: ACCT, journal: [first, { ...first, data: { price: 9 } }] });
      await s.store.commit({ account: ACCT, journal: [{ ...first, at: at(99), data: { price: 2 } }, entry('exec:2', 'fill', 20)] });
      await s.store.commit({ account: ACCT2, journal: [entry('exec:1', 'fill', 30, { other: true }, { account: ACCT2 })] });
      const store = await s.reopened();
      assert.deepEqual(await store.journal({ account: ACCT }), [first, entry('exec:2', 'fill', 20)]);
      assert.deepEqual(await store.journal({ account: ACCT2 }), [entry('exec:1', 'fill', 30, { other: true }, { account: ACCT2 })]);
    });

    test('journal filters by strategy, incident and type; limit keeps the newest, oldest first', async () => {
      const { store } = await fresh();
      const es = [
        entry('a', 'broker-event', 1, { n: 1 }),
        entry('b', 'detection', 2, { n: 2 }, { strategy: 'ic-spy', incident: 'i1' }),
        entry('c', 'decision', 3, { n: 3 }, { strategy: 'ic-spy', incident: 'i1' }),
        entry('d', 'order', 4, { n: 4 }, { strategy: 'ic-qqq', incident: 'i2' }),
        entry('e', 'note', 5, 'just text', { strategy: 'ic-spy' }),
      ];
      await store.commit({ account: ACCT, journal: es });
      const keys = async (f: Omit<Parameters<StorePort['journal']>[0], 'account'>): Promise<string[]> =>
        (await store.journal({ account: ACCT, ...f })).map((e) => e.key);
      assert.deepEqual(await keys({}), ['a', 'b', 'c', 'd', 'e']);
      assert.deepEqual(await keys({ strategyId: StrategyId.unsafe('ic-spy') }), ['b', 'c', 'e']);
      assert.deepEqual(await keys({ incidentId: IncidentId.unsafe('i1') }), ['b', 'c']);
      assert.deepEqual(await keys({ types: ['order', 'broker-event'] }), ['a', 'd']);
      assert.deepEqual(await keys({ types: [] }), []);
      assert.deepEqual(await keys({ limit: 2 }), ['d', 'e']);
      assert.deepEqual(await keys({ strategyId: StrategyId.unsafe('ic-spy'), limit: 2 }), ['c', 'e']);
      assert.deepEqual(await keys({ limit: 0 }), []);
      await assert.rejects(store.journal({ account: ACCT, limit: -1 }), isCode('INVALID_INPUT', /journal limit/));
      assert.deepEqual((await store.journal({ account: ACCT, types: ['note'] }))[0], es[4]);
    });

    test('orders upsert by ref, keep their first position, and every status is listed', async () => {
      const s = await fresh();
      const g0 = request('ic-spy', 'g0');
      const g1 = request('ic-spy', 'g1');
      const q0 = request('ic-qqq', 'g0', { incident: null });
      await s.store.commit({ account: ACCT, orders: [order(g0, 'planned'), order(g1, 'planned'), order(q0, 'planned')] });
      await s.store.commit({ account: ACCT, orders: [order(g1, 'working', { updatedAt: 3000 })] });
      const g0filled = order(g0, 'filled', { filled: 2, price: 1.4, updatedAt: 4000, orderId: '77' });
      const g1rejected = order(g1, 'rejected', { updatedAt: 5000, reason: 'IB 201: order rejected - margin' });
      await s.store.commit({ account: ACCT, orders: [order(g0, 'partially-filled', { filled: 1, price: 1.3 }), g0filled, g1rejected] });
      // An order of the same ref on another account is another order.
      const other = order(request('ic-spy', 'g0', { account: ACCT2 }), 'planned');
      await s.store.commit({ account: ACCT2, orders: [other] });
      const store = await s.reopened();
      assert.deepEqual(await store.orders({ account: ACCT }), [g0filled, g1rejected, order(q0, 'planned')]);
      assert.deepEqual(await store.orders({ account: ACCT, strategyId: StrategyId.unsafe('ic-spy') }), [g0filled, g1rejected]);
      assert.deepEqual(await store.orders({ account: ACCT2 }), [other]);
      assert.deepEqual((await store.load(ACCT)).openOrders, [order(q0, 'planned')]);
    });

    test('strategies upsert by id with their holdings replaced; removal keeps history', async () => {
      const s = await fresh();
      const open = condor('ic-spy');
      await s.store.commit({
        account: ACCT,
        strategies: [open, condor('ic-qqq')],
        stateChanges: [
          { strategyId: StrategyId.unsafe('ic-spy'), from: null, to: 'OPEN', at: at(0), reason: 'guarded', incidentId: null },
          { strategyId: StrategyId.unsafe('ic-qqq'), from: null, to: 'OPEN', at: at(0), reason: 'guarded', incidentId: null },
        ],
      });
      const inc = IncidentId.unsafe('ic-spy:assignment:1');
      const broken = condor('ic-spy', { broken: true });
      const flat: StrategyRecord = { ...broken, state: 'CLOSED', holdings: [], updatedAt: at(9000) };
      await s.store.commit({
        account: ACCT,
        strategies: [broken, flat],
        removeStrategies: [StrategyId.unsafe('ic-qqq')],
        stateChanges: [
          { strategyId: StrategyId.unsafe('ic-spy'), from: 'OPEN', to: 'BROKEN', at: at(1000), reason: 'assigned', incidentId: inc },
          { strategyId: StrategyId.unsafe('ic-spy'), from: 'BROKEN', to: 'CLOSED', at: at(9000), reason: 'flat', incidentId: inc },
        ],
      });
      const store = await s.reopened();
      assert.deepEqual(await store.listStrategies(ACCT), [flat]);
      const history = await store.stateHistory({ account: ACCT });
      assert.deepEqual(
        history.map((h) => [h.strategyId, h.from, h.to, h.incidentId]),
        [
          ['ic-spy', null, 'OPEN', null],
          ['ic-qqq', null, 'OPEN', null],
          ['ic-spy', 'OPEN', 'BROKEN', inc],
          ['ic-spy', 'BROKEN', 'CLOSED', inc],
        ],
      );
      assert.deepEqual(history[2], { strategyId: 'ic-spy', from: 'OPEN', to: 'BROKEN', at: at(1000), reason: 'assigned', incidentId: inc });
      assert.deepEqual((await store.stateHistory({ account: ACCT, strategyId: StrategyId.unsafe('ic-spy'), limit: 2 })).map((h) => h.to), ['BROKEN', 'CLOSED']);
      assert.deepEqual(await store.stateHistory({ account: ACCT2 }), []);
      // Re-adding a removed id starts afresh.
      await store.commit({ account: ACCT, strategies: [condor('ic-qqq')] });
      assert.deepEqual((await store.listStrategies(ACCT)).map((r) => r.definition.id), ['ic-qqq', 'ic-spy'].sort());
    });

    test('outside holdings are replaced whole; a batch without them leaves them', async () => {
      const { store } = await fresh();
      await store.commit({ account: ACCT, outside: [holding(spy, 100), holding(put440, -1)] });
      await store.commit({ account: ACCT, journal: [entry('k', 'note', 0)] });
      assert.deepEqual((await store.load(ACCT)).outside, [holding(spy, 100), holding(put440, -1)]);
      await store.commit({ account: ACCT, outside: [holding(call460, 3)] });
      assert.deepEqual((await store.load(ACCT)).outside, [holding(call460, 3)]);
      await store.commit({ account: ACCT, outside: [] });
      assert.deepEqual((await store.load(ACCT)).outside, []);
    });

    test('the cursor changes only in the fields given; null clears one', async () => {
      const { store } = await fresh();
      await store.commit({ account: ACCT, cursor: { lastExecutionAt: at(1), lastExecId: ExecId.unsafe('e1') } });
      await store.commit({ account: ACCT, cursor: { lastReconciledAt: at(5) } });
      assert.deepEqual((await store.load(ACCT)).cursor, { lastExecutionAt: at(1), lastExecId: 'e1', lastReconciledAt: at(5) });
      await store.commit({ account: ACCT, cursor: { lastExecId: null } });
      assert.deepEqual((await store.load(ACCT)).cursor, { lastExecutionAt: at(1), lastExecId: null, lastReconciledAt: at(5) });
      await store.commit({ account: ACCT, cursor: {} });
      assert.deepEqual((await store.load(ACCT2)).cursor, { lastExecutionAt: null, lastExecId: null, lastReconciledAt: null });
    });

    test('recentExecIds: exec keys of fills and broker events at or after since, of this account only', async () => {
      const { store } = await fresh();
      await store.commit({
        account: ACCT,
        journal: [
          entry('exec:A.01', 'fill', 100),
          entry('exec:B.01', 'broker-event', 200),
          entry('exec:C.01', 'note', 300),
          entry('plan:lg/x/y/g0/1', 'order', 300),
          entry('commission:B.01', 'broker-event', 300),
          entry('exec:', 'broker-event', 300),
          entry('EXEC:D.01', 'fill', 300),
        ],
      });
      await store.commit({ account: ACCT2, journal: [entry('exec:E.01', 'fill', 300, {}, { account: ACCT2 })] });
      assert.deepEqual([...(await store.recentExecIds(ACCT, at(0)))].sort(), ['A.01', 'B.01']);
      assert.deepEqual([...(await store.recentExecIds(ACCT, at(200)))], ['B.01']);
      assert.deepEqual([...(await store.recentExecIds(ACCT, at(201)))], []);
      assert.deepEqual([...(await store.recentExecIds(ACCT2, at(0)))], ['E.01']);
    });

    test('outbox: each alert is due once per channel until delivered, retried when due, dead when given up', async () => {
      const { store } = await fresh();
      const a1 = alert('a1', 'critical', 10, 'inc-1');
      const a2 = alert('a2', 'info', 20);
      await store.commit({ account: ACCT, alerts: [a1] });
      await store.enqueueAlerts(ACCT, [a2, { ...a1, title: 'a different title' }]);
      const pairs = async (ms: number, limit = 10, channels = ['console', 'webhook']): Promise<string[]> =>
        (await store.dueDeliveries(ACCT, channels, at(ms), limit)).map((d) => `${d.alert.key}/${d.channel}/${d.attempts}/${d.lastError ?? '-'}`);
      assert.deepEqual(await pairs(0), ['a1/console/0/-', 'a1/webhook/0/-', 'a2/console/0/-', 'a2/webhook/0/-']);
      assert.deepEqual((await store.dueDeliveries(ACCT, ['console'], at(0), 1))[0], { account: ACCT, alert: a1, channel: 'console', attempts: 0, lastError: null });
      assert.deepEqual(await pairs(0, 3), ['a1/console/0/-', 'a1/webhook/0/-', 'a2/console/0/-']);
      assert.deepEqual(await pairs(0, 0), []);
      assert.deepEqual(await pairs(0, 10, []), []);

      await store.recordDelivery({ account: ACCT, alertKey: 'a1', channel: 'console', at: at(30), delivered: true, error: null, nextAttemptAt: null });
      await store.recordDelivery({ account: ACCT, alertKey: 'a1', channel: 'webhook', at: at(30), delivered: false, error: 'HTTP 503', nextAttemptAt: at(1000) });
      await store.recordDelivery({ account: ACCT, alertKey: 'a2', channel: 'webhook', at: at(30), delivered: false, error: 'HTTP 400', nextAttemptAt: null });
      assert.deepEqual(await pairs(999), ['a2/console/0/-']);
      assert.deepEqual(await pairs(1000), ['a1/webhook/1/HTTP 503', 'a2/console/0/-']);
      await store.recordDelivery({ account: ACCT, alertKey: 'a1', channel: 'webhook', at: at(1000), delivered: false, error: 'timeout', nextAttemptAt: at(2000) });
      assert.deepEqual(await pairs(5000), ['a1/webhook/2/timeout', 'a2/console/0/-']);
      // A late failure report about a delivered pair does not make it due again.
      await store.recordDelivery({ account: ACCT, alertKey: 'a1', channel: 'console', at: at(40), delivered: false, error: 'late', nextAttemptAt: at(50) });
      assert.deepEqual(await pairs(5000, 10, ['console']), ['a2/console/0/-']);
      // The first alert with a key is kept.
      assert.equal((await store.dueDeliveries(ACCT, ['webhook'], at(5000), 1))[0]!.alert.title, 'alert a1');
      // A new channel sees everything not delivered to it.
      assert.deepEqual(await pairs(5000, 10, ['email']), ['a1/email/0/-', 'a2/email/0/-']);
      await assert.rejects(
        store.recordDelivery({ account: ACCT, alertKey: 'nope', channel: 'console', at: at(1), delivered: true, error: null, nextAttemptAt: null }),
        isCode('NOT_FOUND', /no alert with key "nope"/),
      );
    });

    test('many accounts, one store: each account has its own outbox, deliveries and acknowledgements', async () => {
      const { store } = await fresh();
      // The same alert key and incident id in two accounts are two alerts and two incidents.
      await store.commit({ account: ACCT, alerts: [alert('k', 'critical', 10, 'inc-1')] });
      await store.commit({ account: ACCT2, alerts: [{ ...alert('k', 'critical', 20, 'inc-1'), title: 'of the second account' }] });
      await store.enqueueAlerts(ACCT2, [alert('only-2', 'info', 30)]);
      const due = async (account: typeof ACCT): Promise<string[]> =>
        (await store.dueDeliveries(account, ['phone'], at(100), 10)).map((d) => `${d.account}:${d.alert.key}:${d.alert.title}`);
      assert.deepEqual(await due(ACCT), [`${ACCT}:k:alert k`]);
      assert.deepEqual(await due(ACCT2), [`${ACCT2}:k:of the second account`, `${ACCT2}:only-2:alert only-2`]);
      await store.recordDelivery({ account: ACCT, alertKey: 'k', channel: 'phone', at: at(40), delivered: true, error: null, nextAttemptAt: null });
      assert.deepEqual(await due(ACCT), [], 'delivered in the first account');
      assert.deepEqual(await due(ACCT2), [`${ACCT2}:k:of the second account`, `${ACCT2}:only-2:alert only-2`], 'still due in the second');
      await assert.rejects(
        store.recordDelivery({ account: ACCT, alertKey: 'only-2', channel: 'phone', at: at(1), delivered: true, error: null, nextAttemptAt: null }),
        isCode('NOT_FOUND', /no alert with key "only-2"/),
      );
      assert.equal(await store.ackIncident(ACCT, IncidentId.unsafe('inc-1'), at(50), 'cli:alice'), true);
      assert.deepEqual((await store.unackedCritical(ACCT)).map((u) => u.incidentId), []);
      assert.deepEqual((await store.unackedCritical(ACCT2)).map((u) => `${u.incidentId}:${u.first.title}`), ['inc-1:of the second account']);
      assert.deepEqual(await store.acknowledgements(ACCT2, [IncidentId.unsafe('inc-1')]), []);
      assert.equal(await store.ackIncident(ACCT2, IncidentId.unsafe('only-in-1'), at(50), 'cli:alice'), false);
      assert.deepEqual(
        (await store.recentAlerts({ account: ACCT2, limit: 10 })).map((a) => a.key),
        ['k', 'only-2'],
      );
      assert.deepEqual(await store.outboxSummary(ACCT), { alerts: 1, channels: [{ channel: 'phone', delivered: 1, pending: 0, dead: 0, skipped: 0 }] });
      assert.deepEqual(await store.outboxSummary(ACCT2), { alerts: 2, channels: [] });
      assert.deepEqual((await store.outboxSummary(null)).alerts, 3);
      assert.deepEqual(
        (await store.deliveries({ account: null, statuses: ['delivered'], limit: 10 })).map((d) => `${d.account}:${d.alert.key}`),
        [`${ACCT}:k`],
      );
      assert.deepEqual(await store.deliveries({ account: ACCT2, statuses: ['delivered'], limit: 10 }), []);
      assert.deepEqual(await store.accounts(), [ACCT, ACCT2].sort());
    });

    test('unacked critical incidents: first critical alert, latest critical time; ack removes them', async () => {
      const { store } = await fresh();
      await store.enqueueAlerts(ACCT, [
        alert('w1', 'warning', 5, 'inc-1'),
        alert('c1', 'critical', 10, 'inc-1'),
        alert('c3', 'critical', 15, 'inc-3'),
        alert('w2', 'warning', 20, 'inc-2'),
        alert('c1-repeat', 'critical', 900, 'inc-1'),
        alert('i1', 'info', 950, 'inc-1'),
        alert('sys', 'critical', 30),
      ]);
      const got = await store.unackedCritical(ACCT);
      assert.deepEqual(
        got.map((u) => [u.incidentId, u.first.key, u.lastAt]),
        [
          ['inc-1', 'c1', at(900)],
          ['inc-3', 'c3', at(15)],
        ],
      );
      assert.deepEqual(got[0]!.first, alert('c1', 'critical', 10, 'inc-1'));
      // Every critical alert's key, in time order: escalation numbers its next repeat from them.
      assert.deepEqual(got.map((u) => u.keys), [['c1', 'c1-repeat'], ['c3']]);
      assert.equal(await store.ackIncident(ACCT, IncidentId.unsafe('inc-1'), at(1000), 'cli:alice'), true);
      assert.equal(await store.ackIncident(ACCT, IncidentId.unsafe('inc-1'), at(1001), 'cli:bob'), true);
      assert.equal(await store.ackIncident(ACCT, IncidentId.unsafe('inc-unknown'), at(1000), 'cli:alice'), false);
      assert.equal(await store.ackIncident(ACCT, IncidentId.unsafe('inc-2'), at(1000), 'cli:alice'), true);
      assert.deepEqual((await store.unackedCritical(ACCT)).map((u) => u.incidentId), ['inc-3']);
      // A new critical alert for an acknowledged incident does not bring it back.
      await store.enqueueAlerts(ACCT, [alert('c1-again', 'critical', 2000, 'inc-1')]);
      assert.deepEqual((await store.unackedCritical(ACCT)).map((u) => u.incidentId), ['inc-3']);
    });

    test('status views: recent alerts, acknowledgements, outbox counts, undelivered deliveries, the lock holder', async () => {
      const { store } = await fresh();
      assert.deepEqual(await store.outboxSummary(ACCT), { alerts: 0, channels: [] });
      assert.deepEqual(await store.recentAlerts({ account: ACCT, limit: 5 }), []);
      assert.equal(await store.lockHolder(ACCT), null);
      await store.enqueueAlerts(ACCT, [
        alert('c2', 'critical', 40, 'inc-2'),
        alert('i1', 'info', 10),
        alert('c1', 'critical', 20, 'inc-1'),
        alert('w1', 'warning', 30, 'inc-1'),
      ]);
      const keys = (xs: readonly { key: string }[]): string[] => xs.map((x) => x.key);
      assert.deepEqual(keys(await store.recentAlerts({ account: ACCT, limit: 10 })), ['i1', 'c1', 'w1', 'c2']);
      assert.deepEqual(keys(await store.recentAlerts({ account: ACCT, limit: 2 })), ['w1', 'c2']);
      assert.deepEqual(keys(await store.recentAlerts({ account: ACCT, severities: ['critical'], limit: 1 })), ['c2']);
      assert.deepEqual(keys(await store.recentAlerts({ account: ACCT, severities: ['critical', 'info'], limit: 10 })), ['i1', 'c1', 'c2']);
      assert.deepEqual(await store.recentAlerts({ account: ACCT, severities: [], limit: 10 }), []);
      assert.deepEqual((await store.recentAlerts({ account: ACCT, limit: 1 }))[0], alert('c2', 'critical', 40, 'inc-2'));

      await store.ackIncident(ACCT, IncidentId.unsafe('inc-2'), at(500), 'cli:alice');
      assert.deepEqual(await store.acknowledgements(ACCT, [IncidentId.unsafe('inc-1'), IncidentId.unsafe('inc-2'), IncidentId.unsafe('inc-2')]), [
        { incidentId: 'inc-2', at: at(500), by: 'cli:alice' },
      ]);
      assert.deepEqual(await store.acknowledgements(ACCT, []), []);

      const rec = (key: string, channel: string, ms: number, delivered: boolean, error: string | null, next: number | null): Promise<void> =>
        store.recordDelivery({ account: ACCT, alertKey: key, channel, at: at(ms), delivered, error, nextAttemptAt: next === null ? null : at(next) });
      await rec('c1', 'phone', 100, true, null, null);
      await rec('c1', 'hook', 100, false, 'HTTP 503', 1000);
      await rec('i1', 'phone', 110, false, 'skipped: info is below this channel\'s minimum (critical)', null);
      await rec('c2', 'hook', 120, false, 'HTTP 410 gone', null);
      await rec('w1', 'hook', 120, false, 'HTTP 400', null);
      assert.deepEqual(await store.outboxSummary(ACCT), {
        alerts: 4,
        channels: [
          { channel: 'hook', delivered: 0, pending: 1, dead: 2, skipped: 0 },
          { channel: 'phone', delivered: 1, pending: 0, dead: 1, skipped: 1 },
        ],
      });
      const list = await store.deliveries({ account: ACCT, statuses: ['pending', 'dead'], limit: 10 });
      assert.deepEqual(
        list.map((d) => `${d.alert.key}/${d.channel}/${d.status}/${d.attempts}/${d.lastError ?? '-'}`),
        [
          'w1/hook/dead/1/HTTP 400',
          'c2/hook/dead/1/HTTP 410 gone',
          "i1/phone/dead/1/skipped: info is below this channel's minimum (critical)",
          'c1/hook/pending/1/HTTP 503',
        ],
        'the most recently updated first; ties by alert time',
      );
      assert.deepEqual(list[3], {
        account: ACCT,
        alert: alert('c1', 'critical', 20, 'inc-1'),
        channel: 'hook',
        status: 'pending',
        attempts: 1,
        nextAttemptAt: at(1000),
        lastError: 'HTTP 503',
        updatedAt: at(100),
      });
      assert.deepEqual(
        (await store.deliveries({ account: ACCT, statuses: ['dead'], limit: 1 })).map((d) => d.alert.key),
        ['w1'],
        'ties on the update time go by alert time: w1 (30) before c2 (40)',
      );
      assert.deepEqual((await store.deliveries({ account: ACCT, statuses: ['delivered'], limit: 10 })).map((d) => `${d.alert.key}/${d.channel}`), ['c1/phone']);
      assert.deepEqual(await store.deliveries({ account: ACCT, statuses: [], limit: 10 }), []);

      await store.acquireLock(ACCT, 'host-a:100', at(0), 30_000);
      assert.deepEqual(await store.lockHolder(ACCT), { owner: 'host-a:100', acquiredAt: at(0), expiresAt: at(30_000) });
      assert.equal(await store.lockHolder(ACCT2), null);
      await store.releaseLock(ACCT, 'host-a:100');
      assert.equal(await store.lockHolder(ACCT), null);
    });

    test('trading state: ACTIVE until set, per account, replaced with its journal entry in one commit, durable', async () => {
      const s = await fresh();
      const { store } = s;
      assert.deepEqual(await store.tradingState(ACCT), { state: 'ACTIVE', reason: null, by: null, at: null });
      const halt = { state: 'HALTED', reason: 'vol spike', by: 'alice', at: at(100) } as const;
      await store.commit({
        account: ACCT,
        tradingState: halt,
        journal: [{ key: 'cli:trading-state:100', at: at(100), type: 'trading-state', account: ACCT, strategyId: null, incidentId: null, data: { from: 'ACTIVE', to: 'HALTED' } }],
      });
      assert.deepEqual(await store.tradingState(ACCT), halt);
      assert.deepEqual(await store.tradingState(ACCT2), { state: 'ACTIVE', reason: null, by: null, at: null }, 'another account is untouched');
      assert.deepEqual(
        (await store.journal({ account: ACCT, types: ['trading-state'] })).map((j) => j.data),
        [{ from: 'ACTIVE', to: 'HALTED' }],
      );
      await store.commit({ account: ACCT, tradingState: { state: 'REDUCING', reason: null, by: 'bob', at: at(200) } });
      assert.deepEqual(await store.tradingState(ACCT), { state: 'REDUCING', reason: null, by: 'bob', at: at(200) });
      const again = await s.reopened();
      assert.deepEqual(await again.tradingState(ACCT), { state: 'REDUCING', reason: null, by: 'bob', at: at(200) });
      await assert.rejects(
        again.commit({ account: ACCT, tradingState: { state: 'PAUSED' as never, reason: null, by: null, at: at(300) } }),
        isCode('INVALID_INPUT', /trading state/),
      );
      assert.equal((await again.tradingState(ACCT)).state, 'REDUCING', 'a refused commit changes nothing');
    });

    test('lock: one live owner per account; expired locks are taken over; refresh and release', async () => {
      const { store } = await fresh();
      const A = 'host-a:100';
      const B = 'host-b:200';
      await store.acquireLock(ACCT, A, at(0), 30_000);
      await store.acquireLock(ACCT2, B, at(0), 30_000);
      await assert.rejects(store.acquireLock(ACCT, B, at(1000), 30_000), (e: unknown) => {
        isCode('LOCK_HELD', /account DU111 is locked: another guard, "host-a:100", holds it until 2026-01-28 09:30:30 ET/)(e);
        assert.deepEqual((e as LegguardError).details, { account: ACCT, owner: A, expiresAt: at(30_000) });
        return true;
      });
      await store.acquireLock(ACCT, A, at(10_000), 30_000); // the owner again: extends to 40 s
      await assert.rejects(store.acquireLock(ACCT, B, at(39_999), 30_000), isCode('LOCK_HELD', /until 2026-01-28 09:30:40 ET/));
      await store.refreshLock(ACCT, A, at(20_000), 30_000); // to 50 s
      await assert.rejects(store.acquireLock(ACCT, B, at(49_999), 30_000), isCode('LOCK_HELD'));
      await store.acquireLock(ACCT, B, at(50_000), 30_000); // expired: taken over
      await assert.rejects(store.refreshLock(ACCT, A, at(50_001), 30_000), isCode('LOCK_HELD', /taken over by "host-b:200"/));
      await store.releaseLock(ACCT, A); // not A's any more: no effect
      await assert.rejects(store.acquireLock(ACCT, A, at(50_002), 30_000), isCode('LOCK_HELD', /"host-b:200"/));
      await store.releaseLock(ACCT, B);
      await assert.rejects(store.refreshLock(ACCT, B, at(50_003), 30_000), isCode('LOCK_HELD', /no longer holds the lock.*released/));
      await store.acquireLock(ACCT, A, at(50_004), 30_000);
      await store.refreshLock(ACCT2, B, at(50_004), 30_000); // the other account's lock was never touched
      await assert.rejects(store.acquireLock(ACCT, A, at(0), 0), isCode('INVALID_INPUT', /ttlMs/));
      await assert.rejects(store.acquireLock(ACCT, '', at(0), 10), isCode('INVALID_INPUT', /lock owner/));
    });

    test("lease: one leader per account, a monotonic epoch, standbys recorded; the store's clock times it", async () => {
      const { store } = await fresh();
      const A = 'host-a/100';
      const B = 'host-b/200';
      assert.deepEqual(await store.leadership(ACCT, 60_000), { lease: null, standbys: [] });
      const a1 = await store.acquireLease(ACCT, A, 60_000);
      assert.equal(a1.acquired, true);
      assert.equal(a1.lease.holder, A);
      assert.equal(a1.lease.epoch, 1);
      assert.equal(a1.lease.leaseUntil, a1.lease.now + 60_000, "until the store's now plus the lease length");
      const b1 = await store.acquireLease(ACCT, B, 60_000);
      assert.deepEqual({ acquired: b1.acquired, holder: b1.lease.holder, epoch: b1.lease.epoch }, { acquired: false, holder: A, epoch: 1 });
      const seen = await store.leadership(ACCT, 60_000);
      assert.deepEqual({ holder: seen.lease?.holder, epoch: seen.lease?.epoch }, { holder: A, epoch: 1 });
      assert.deepEqual(seen.standbys.map((x) => x.holder), [B]);
      assert.deepEqual(await store.leadership(ACCT2, 60_000), { lease: null, standbys: [] }, 'per account');
      const a2 = await store.acquireLease(ACCT, A, 60_000);
      assert.deepEqual({ acquired: a2.acquired, epoch: a2.lease.epoch }, { acquired: true, epoch: 1 }, 'the holder again extends at its epoch');
      const renewed = await store.renewLease(ACCT, A, 1, 90_000);
      assert.equal(renewed.leaseUntil, renewed.now + 90_000);
      await assert.rejects(store.renewLease(ACCT, B, 1, 60_000), isCode('FENCED', /refused to renew the lease from epoch 1 .* held by "host-a\/100"/));
      // Released: the next guard takes it at the next epoch, and is no longer a standby.
      await store.releaseLease(ACCT, A, 1);
      const b2 = await store.acquireLease(ACCT, B, 60_000);
      assert.deepEqual({ acquired: b2.acquired, holder: b2.lease.holder, epoch: b2.lease.epoch }, { acquired: true, holder: B, epoch: 2 });
      assert.deepEqual((await store.leadership(ACCT, 60_000)).standbys, []);
      await assert.rejects(store.renewLease(ACCT, A, 1, 60_000), isCode('FENCED', /epoch 2, held by "host-b\/200"/));
      await store.releaseLease(ACCT, A, 1); // not A's: no effect
      assert.equal((await store.acquireLease(ACCT, A, 60_000)).acquired, false);
      // A holder known dead is taken from at once, at the next epoch.
      const a3 = await store.acquireLease(ACCT, A, 60_000, { takeFrom: B });
      assert.deepEqual({ acquired: a3.acquired, epoch: a3.lease.epoch }, { acquired: true, epoch: 3 });
      await assert.rejects(store.acquireLease(ACCT, A, 0), isCode('INVALID_INPUT', /ttlMs/));
      await assert.rejects(store.acquireLease(ACCT, '', 10), isCode('INVALID_INPUT', /lease holder/));
      await assert.rejects(store.renewLease(ACCT, A, 0, 10), isCode('INVALID_INPUT', /epoch/));
    });

    test('lease: a lapsed lease is taken at the next epoch; one not taken is renewed by its holder at its epoch', async () => {
      const { store } = await fresh();
      const lapse = (): Promise<void> => new Promise((r) => setTimeout(r, 25));
      await store.acquireLease(ACCT, 'a', 1);
      await lapse();
      const renewed = await store.renewLease(ACCT, 'a', 1, 1); // nobody took it: the epoch proves nobody else led
      assert.equal(renewed.epoch, 1);
      await lapse();
      const b = await store.acquireLease(ACCT, 'b', 60_000);
      assert.deepEqual({ acquired: b.acquired, epoch: b.lease.epoch }, { acquired: true, epoch: 2 });
      await assert.rejects(store.renewLease(ACCT, 'a', 1, 60_000), isCode('FENCED'));
      await store.releaseLease(ACCT, 'b', 2);
      await lapse();
      const again = await store.acquireLease(ACCT, 'b', 60_000);
      assert.equal(again.lease.epoch, 3, 'taken again after it lapsed: a new epoch');
    });

    test('lease: a commit carrying an older epoch is refused whole (FENCED); the current epoch and no epoch commit', async () => {
      const { store } = await fresh();
      await assert.rejects(store.commit({ account: ACCT, epoch: 1, journal: [entry('n0', 'note', 0)] }), isCode('FENCED', /no guard holds the lease/));
      await store.acquireLease(ACCT, 'a', 60_000);
      await store.commit({ account: ACCT, epoch: 1, journal: [entry('n1', 'note', 1)] });
      await store.acquireLease(ACCT, 'b', 60_000, { takeFrom: 'a' });
      await assert.rejects(
        store.commit({ account: ACCT, epoch: 1, journal: [entry('n2', 'note', 2)], orders: [order(request('ic', 'g0'), 'planned')], strategies: [condor('ic')] }),
        (e: unknown) => {
          isCode('FENCED', /refused a commit from epoch 1 for account DU111: the lease is at epoch 2, held by "b"/)(e);
          assert.deepEqual((e as LegguardError).details, { account: ACCT, epoch: 1, currentEpoch: 2, holder: 'b' });
          return true;
        },
      );
      assert.deepEqual((await store.journal({ account: ACCT })).map((j) => j.key), ['n1'], 'nothing of the fenced batch');
      assert.deepEqual(await store.orders({ account: ACCT }), []);
      assert.deepEqual(await store.listStrategies(ACCT), []);
      await store.commit({ account: ACCT, epoch: 2, journal: [entry('n3', 'note', 3)] });
      await store.commit({ account: ACCT, journal: [entry('n4', 'note', 4)] }); // tools without a lease (CLI) are not fenced
      await store.commit({ account: ACCT2, journal: [entry('n5', 'note', 5, {}, { account: ACCT2 })] });
      await assert.rejects(store.commit({ account: ACCT2, epoch: 2, journal: [] , strategies: [condor('x', { account: ACCT2 })] }), isCode('FENCED'), 'per account');
      assert.deepEqual((await store.journal({ account: ACCT })).map((j) => j.key), ['n1', 'n3', 'n4']);
    });

    test('lease: guards racing for a fresh lease: exactly one acquires', async () => {
      const { store } = await fresh();
      const got = await Promise.all(['a', 'b', 'c', 'd'].map((h) => store.acquireLease(ACCT, h, 60_000)));
      assert.equal(got.filter((g) => g.acquired).length, 1);
      assert.ok(got.every((g) => g.lease.epoch === 1));
    });

    test('concurrent commits and reads all land, each batch whole', async () => {
      const { store } = await fresh();
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.commit({
            account: ACCT,
            strategies: [condor(`c${String(i).padStart(2, '0')}`, { createdAt: at(i) })],
            journal: [entry(`exec:${i}`, 'fill', i), entry(`note:${i}`, 'note', i)],
            orders: [order(request(`c${String(i).padStart(2, '0')}`, 'g0'), 'planned')],
          }),
        ).concat([store.load(ACCT).then(() => undefined)]),
      );
      const loaded = await store.load(ACCT);
      assert.equal(loaded.strategies.length, 20);
      assert.equal(loaded.openOrders.length, 20);
      assert.equal((await store.journal({ account: ACCT })).length, 40);
    });

    test('large batches round-trip (more rows than one INSERT takes)', async () => {
      const { store } = await fresh();
      const many = Array.from({ length: 450 }, (_, i) => condor(`s${String(i).padStart(4, '0')}`, { createdAt: at(i) }));
      const journal = Array.from({ length: 900 }, (_, i) => entry(`exec:${i}`, 'fill', i));
      await store.commit({ account: ACCT, strategies: many, journal });
      assert.deepEqual((await store.load(ACCT)).strategies, many);
      assert.equal((await store.recentExecIds(ACCT, at(0))).size, 900);
      await store.commit({ account: ACCT, removeStrategies: many.slice(0, 440).map((r) => r.definition.id) });
      assert.deepEqual((await store.listStrategies(ACCT)).map((r) => r.definition.id), many.slice(440).map((r) => r.definition.id));
    });

    test('property: any strategy and order records round-trip exactly', async () => {
      const { store } = await fresh();
      let n = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(arbStrategy(), { minLength: 1, maxLength: 3 }), fc.array(arbOrder(), { maxLength: 3 }), async (strategies, orders) => {
          n++;
          const account = AccountId.unsafe(`P${n}`);
          const ss = uniqueBy(strategies.map((s) => ({ ...s, definition: { ...s.definition, account } })), (s) => s.definition.id);
          const os = uniqueBy(
            orders.map((o) => ({ ...o, request: { ...o.request, account } })),
            (o) => o.request.ref,
          );
          await store.commit({ account, strategies: ss, orders: os });
          const loaded = await store.load(account);
          const byCreated = [...ss].sort((a, b) => a.definition.createdAt - b.definition.createdAt || (a.definition.id < b.definition.id ? -1 : 1));
          assert.deepEqual(loaded.strategies, byCreated);
          assert.deepEqual(await store.orders({ account }), os);
        }),
        { numRuns: 25 },
      );
    });
  });
}

function uniqueBy<T>(xs: T[], key: (x: T) => string): T[] {
  const seen = new Set<string>();
  return xs.filter((x) => !seen.has(key(x)) && (seen.add(key(x)), true));
}

// Text that any store keeps exactly: well-formed, without NUL (the codec refuses those, with a clear error).
const arbText = fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !s.includes('\u0000'));
const arbId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/);
const arbMoney = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 }).map((x) => (x === 0 ? 0 : x));
const arbTime = fc.integer({ min: 0, max: 4_102_444_800_000 });
const arbContract: fc.Arbitrary<Contract> = fc.oneof(
  fc.constantFrom('SPY', 'QQQ', 'AAPL').map((s) => stock(s)),
  fc
    .record({
      symbol: fc.constantFrom('SPY', 'SPX', 'IWM'),
      right: fc.constantFrom('C' as const, 'P' as const),
      strike: fc.double({ min: 0.5, max: 10_000, noNaN: true }),
      expiry: fc.constantFrom('2026-01-30', '2027-12-17'),
      multiplier: fc.constantFrom(100, 10, 1),
      tradingClass: fc.option(fc.constantFrom('SPXW', 'SPY'), { nil: undefined }),
    })
    .map(({ tradingClass, ...r }) => option({ ...r, ...(tradingClass !== undefined ? { tradingClass } : {}) })),
);
// fc.record makes null-prototype objects; records from the engine are plain ones.
const arbHoldings = fc
  .uniqueArray(fc.tuple(arbContract, fc.integer({ min: -1e6, max: 1e6 })), { maxLength: 5, selector: ([c]) => contractKey(c) })
  .map((hs) => hs.map(([contract, qty]) => ({ contract, qty: Qty.unsafe(qty) })));

function arbStrategy(): fc.Arbitrary<StrategyRecord> {
  return fc.record({
    id: arbId,
    kind: fc.constantFrom('iron-condor' as const, 'custom' as const, 'covered-call' as const),
    legs: arbHoldings,
    holdings: arbHoldings,
    policy: fc.option(fc.constantFrom('close' as const, 'hedge' as const, 'alert' as const), { nil: undefined }),
    createdAt: arbTime,
    updatedAt: arbTime,
    state: fc.constantFrom('OPEN' as const, 'BROKEN' as const, 'EMERGENCY_CLOSING' as const, 'CLOSED' as const),
    broken: fc.option(fc.record({ reason: arbText, qty: fc.integer({ min: -1000, max: 1000 }), at: arbTime, leg: arbText }), { nil: null }),
  }).map((r) => ({
    definition: {
      id: StrategyId.unsafe(r.id),
      account: ACCT,
      kind: r.kind,
      legs: r.legs,
      ...(r.policy !== undefined ? { policy: r.policy } : {}),
      createdAt: EpochMs.unsafe(r.createdAt),
    },
    state: r.state,
    broken:
      r.broken === null
        ? null
        : { cause: 'manual', kind: null, incidentId: IncidentId.unsafe(`${r.id}:manual:1`), leg: r.broken.leg, qty: r.broken.qty, at: EpochMs.unsafe(r.broken.at), reason: r.broken.reason },
    holdings: r.holdings,
    updatedAt: EpochMs.unsafe(r.updatedAt),
  }));
}

function arbOrder(): fc.Arbitrary<OrderRecord> {
  return fc
    .record({
      strategy: arbId,
      group: fc.stringMatching(/^g[0-9]{1,2}$/),
      contracts: fc.uniqueArray(arbContract, { minLength: 1, maxLength: 3, selector: (c) => contractKey(c) }),
      qty: fc.integer({ min: 1, max: 500 }),
      limit: fc.option(arbMoney, { nil: null }),
      status: fc.constantFrom('planned' as const, 'working' as const, 'partially-filled' as const, 'filled' as const, 'rejected' as const),
      filled: fc.integer({ min: 0, max: 500 }),
      avg: fc.option(arbMoney, { nil: null }),
      placedAt: fc.option(arbTime, { nil: null }),
      reason: fc.option(arbText, { nil: null }),
      orderId: fc.option(fc.stringMatching(/^[0-9]{1,9}$/), { nil: null }),
      updatedAt: arbTime,
      incident: fc.option(arbId, { nil: null }),
    })
    .map((r) => ({
      request: {
        ...request(r.strategy, r.group, { incident: r.incident }),
        legs: r.contracts.map((c, i) => ({ contract: c, action: i % 2 === 0 ? ('BUY' as const) : ('SELL' as const), ratio: i + 1 })),
        quantity: Qty.unsafe(r.qty),
        orderType: r.limit === null ? ('MKT' as const) : ('LMT' as const),
        limitPrice: r.limit === null ? null : Price.unsafe(r.limit),
      },
      orderId: r.orderId === null ? null : (r.orderId as OrderRecord['orderId']),
      status: r.status,
      filledQty: Qty.unsafe(r.filled),
      avgFillPrice: r.avg === null ? null : Price.unsafe(r.avg),
      placedAt: r.placedAt === null ? null : EpochMs.unsafe(r.placedAt),
      positionBefore: Object.fromEntries(r.contracts.map((c, i) => [contractKey(c), i - 1])) as OrderRecord['positionBefore'],
      reason: r.reason,
      updatedAt: EpochMs.unsafe(r.updatedAt),
    }));
}
