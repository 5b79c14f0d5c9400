// Group commit: what the engine decides while draining its queue goes to the store in one transaction, and still
// ahead of anything sent: no order leaves before the commit holding its plan has resolved, also when that commit
// throws (the order waits, planned, for a commit that succeeds).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../../src/adapters/store/memory-store.js';
import type { OrderRef } from '../../src/core/ids.js';
import { LegguardError } from '../../src/core/errors.js';
import type { StoreBatch, StorePort } from '../../src/ports/store.js';
import { GuardHarness } from '../support/guard-harness.js';

const SCENARIO = `name: three strategies assigned in one posting, intraday
start: "2026-01-27T09:59:00-05:00"
account: DU0000001
underlyings:
  SPY: { price: 436.10, volatility: 0.18 }
  QQQ: { price: 380.00, volatility: 0.22 }
  IWM: { price: 198.00, volatility: 0.25 }
strategies:
  - id: ic-spy
    legs:
      - { symbol: SPY, right: P, strike: 440, expiry: "2026-02-20", qty: -1 }
      - { symbol: SPY, right: P, strike: 430, expiry: "2026-02-20", qty: 1 }
      - { symbol: SPY, right: C, strike: 450, expiry: "2026-02-20", qty: -1 }
      - { symbol: SPY, right: C, strike: 455, expiry: "2026-02-20", qty: 1 }
  - id: ps-qqq
    legs:
      - { symbol: QQQ, right: P, strike: 385, expiry: "2026-02-20", qty: -1 }
      - { symbol: QQQ, right: P, strike: 375, expiry: "2026-02-20", qty: 1 }
  - id: ps-iwm
    legs:
      - { symbol: IWM, right: P, strike: 200, expiry: "2026-02-20", qty: -1 }
      - { symbol: IWM, right: P, strike: 195, expiry: "2026-02-20", qty: 1 }
guard: { onAssignment: close, timeExitDte: null }
events:
  - { at: "2026-01-27T10:00:00-05:00", assign: { symbol: SPY, right: P, strike: 440, expiry: "2026-02-20", qty: 1 } }
  - { at: "2026-01-27T10:00:00-05:00", assign: { symbol: QQQ, right: P, strike: 385, expiry: "2026-02-20", qty: 1 } }
  - { at: "2026-01-27T10:00:00-05:00", assign: { symbol: IWM, right: P, strike: 200, expiry: "2026-02-20", qty: 1 } }
until: "2026-01-27T11:00:00-05:00"
`;

/** A memory store that records which plans are durable, and can fail the next commit holding plans. */
function watchedStore(): { store: StorePort; durable: Set<OrderRef>; planCommits: StoreBatch[]; failNextPlan: () => void } {
  const inner = new MemoryStore();
  const durable = new Set<OrderRef>();
  const planCommits: StoreBatch[] = [];
  let fail = false;
  const store = new Proxy(inner, {
    get(target, p, receiver) {
      if (p === 'commit') {
        return async (batch: StoreBatch) => {
          const plans = (batch.orders ?? []).filter((o) => o.status === 'planned');
          if (plans.length > 0 && fail) {
            fail = false;
            throw new LegguardError('STORE_UNWRITABLE', 'simulated: the disk refused the write');
          }
          await target.commit(batch);
          if (plans.length > 0) planCommits.push(batch);
          for (const o of plans) durable.add(o.request.ref);
        };
      }
      const v: unknown = Reflect.get(target, p, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { store, durable, planCommits, failNextPlan: () => (fail = true) };
}

async function harness(w: ReturnType<typeof watchedStore>): Promise<{ h: GuardHarness; sentEarly: string[] }> {
  const h = await GuardHarness.create(SCENARIO, { openStore: async () => (await w.store.init(), w.store) });
  const sentEarly: string[] = [];
  const place = h.broker.placeOrder.bind(h.broker);
  h.broker.placeOrder = (o) => {
    if (!w.durable.has(o.ref)) sentEarly.push(o.ref);
    return place(o);
  };
  return { h, sentEarly };
}

test('the plans of every strategy broken in one burst are written in one transaction, before the first order', async () => {
  const w = watchedStore();
  const { h, sentEarly } = await harness(w);
  await h.start();
  const final = await h.finish();
  assert.deepEqual(sentEarly, [], 'no order sent before its plan was committed');
  assert.ok(h.broker.sent.length >= 3, `orders went out:\n${h.describeSent()}`);
  const first = w.planCommits[0]!;
  const strategies = new Set((first.orders ?? []).filter((o) => o.status === 'planned').map((o) => o.request.strategyId));
  assert.deepEqual([...strategies].sort(), ['ic-spy', 'ps-iwm', 'ps-qqq'], 'one commit holds the three plans');
  assert.deepEqual(final.strategies.map((s) => `${s.id} ${s.state}`).sort(), ['ic-spy CLOSED', 'ps-iwm CLOSED', 'ps-qqq CLOSED']);
  assert.deepEqual(final.positions, [], 'flat');
});

test('a commit of plans that throws sends nothing; the orders go once a later commit writes them', async () => {
  const w = watchedStore();
  const { h, sentEarly } = await harness(w);
  await h.start();
  w.failNextPlan();
  await h.runTo('2026-01-27T10:00:01-05:00');
  assert.deepEqual(sentEarly, [], 'nothing sent ahead of its plan');
  const final = await h.finish();
  assert.deepEqual(sentEarly, [], 'nothing sent ahead of its plan, later either');
  for (const ref of h.broker.sent.map((o) => o.ref)) assert.ok(w.durable.has(ref), `${ref} was committed`);
  assert.ok(final.strategies.every((s) => s.state !== 'OPEN'), 'every strategy was handled');
});
