import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Book } from '../../src/core/book.js';
import { contractKey, isOption } from '../../src/core/contract.js';
import type { ExecutionReport, OrderStatus, PositionReport } from '../../src/core/events.js';
import { AccountId, BrokerOrderId, ExecId, OrderRef, type StrategyId } from '../../src/core/ids.js';
import { orderRef, type OrderRequest } from '../../src/core/order.js';
import { EpochMs, Price, Qty } from '../../src/core/quantity.js';
import { reconcile, type ReconcileResult } from '../../src/core/reconcile.js';
import type { BrokerSnapshot, OpenOrderReport } from '../../src/ports/broker.js';
import type { OrderRecord } from '../../src/ports/store.js';
import { bookSpecArb, buildBook, legQty, permutationKeysArb, permute, strategyName, UNIVERSE } from './arbitraries.js';

const ACC = AccountId.unsafe('DU1');
const AT = EpochMs.unsafe(Date.parse('2026-01-28T09:00:00-05:00'));

interface Spec {
  skew: number[];
  execs: { ci: number; buy: boolean; qty: number; age: number; order: number | null }[];
  orders: { ci: number; status: 'planned' | 'working' | 'partially-filled'; atBroker: boolean }[];
  orphans: number;
}

const specArb: fc.Arbitrary<Spec> = fc.record({
  skew: fc.array(fc.constantFrom(0, 0, 0, -1, 1, 2), { minLength: UNIVERSE.length, maxLength: UNIVERSE.length }),
  execs: fc.array(
    fc.record({ ci: fc.integer({ min: 0, max: UNIVERSE.length - 1 }), buy: fc.boolean(), qty: fc.integer({ min: 1, max: 3 }), age: fc.integer({ min: 0, max: 500_000 }), order: fc.option(fc.nat(3), { nil: null }) }),
    { maxLength: 6 },
  ),
  orders: fc.array(
    fc.record({ ci: fc.integer({ min: 0, max: UNIVERSE.length - 1 }), status: fc.constantFrom('planned' as const, 'working' as const, 'partially-filled' as const), atBroker: fc.boolean() }),
    { maxLength: 4 },
  ),
  orphans: fc.nat(2),
});

interface World {
  book: Book;
  snapshot: BrokerSnapshot;
  store: OrderRecord[];
}

function request(i: number, ci: number, sid: StrategyId): OrderRequest {
  const c = UNIVERSE[ci]!;
  return {
    ref: orderRef(sid, 'inc', `g${i}`, 0), strategyId: sid, incidentId: null, account: ACC, legs: [{ contract: c, action: 'BUY', ratio: 1 }],
    quantity: Qty.unsafe(isOption(c) ? 2 : 200), orderType: 'LMT', limitPrice: Price.unsafe(1), outsideRth: false, purpose: 'emergency', tier: 0,
  };
}

function world(bookSpec: Parameters<typeof buildBook>[0], s: Spec): World {
  const book = buildBook(bookSpec);
  const positions: PositionReport[] = [];
  UNIVERSE.forEach((c, i) => {
    const q = book.net(contractKey(c)) + legQty(c, s.skew[i]!);
    if (q !== 0) positions.push({ kind: 'position', account: ACC, contract: c, qty: Qty.unsafe(q), avgCost: null, tsEvent: AT, tsInit: AT });
  });
  const sid = strategyName(0);
  const requests = s.orders.map((o, i) => request(i, o.ci, sid));
  const store: OrderRecord[] = s.orders.map((o, i) => ({
    request: requests[i]!, orderId: o.status === 'planned' ? null : BrokerOrderId.unsafe(`${100 + i}`), status: o.status, filledQty: Qty.zero,
    avgFillPrice: null, placedAt: null, positionBefore: {}, reason: null, updatedAt: AT,
  }));
  const openOrders: OpenOrderReport[] = [];
  s.orders.forEach((o, i) => {
    if (!o.atBroker) return;
    const r = requests[i]!;
    const status: OrderStatus = o.status === 'partially-filled' ? 'partially-filled' : 'working';
    openOrders.push({ orderId: BrokerOrderId.unsafe(`${100 + i}`), orderRef: r.ref, account: ACC, legs: r.legs, quantity: r.quantity, limitPrice: r.limitPrice, status, filledQty: Qty.zero, remainingQty: r.quantity });
  });
  for (let j = 0; j < s.orphans; j++) {
    const r = request(50 + j, j, sid);
    openOrders.push({ orderId: BrokerOrderId.unsafe(`${900 + j}`), orderRef: r.ref, account: ACC, legs: r.legs, quantity: r.quantity, limitPrice: null, status: 'working', filledQty: Qty.zero, remainingQty: r.quantity });
  }
  const executions: ExecutionReport[] = s.execs.map((x, i) => ({
    kind: 'execution', account: ACC, execId: ExecId.unsafe(`e${i}`), orderId: null,
    orderRef: x.order === null || requests.length === 0 ? null : OrderRef.unsafe(requests[x.order % requests.length]!.ref),
    contract: UNIVERSE[x.ci]!, side: x.buy ? 'BUY' : 'SELL', qty: Qty.unsafe(x.qty), price: Price.unsafe(1), liquidation: false,
    tsEvent: EpochMs.unsafe(AT - x.age), tsInit: EpochMs.unsafe(AT - x.age),
  }));
  return { book, snapshot: { account: ACC, at: AT, positions, openOrders, executions }, store };
}

/** Stands in for the engine: what a reconciliation's result does to the state the next one starts from. */
interface State {
  book: Book;
  known: Set<string>;
  store: OrderRecord[];
  since: EpochMs | null;
}

function run(st: State, snapshot: BrokerSnapshot): ReconcileResult {
  const visible = st.since === null ? snapshot.executions : snapshot.executions.filter((x) => x.tsEvent >= st.since!);
  return reconcile({
    snapshot: { ...snapshot, executions: visible },
    book: st.book,
    storeOrders: st.store,
    isKnownExecution: (id) => st.known.has(id),
    executionsSince: st.since,
    now: EpochMs.unsafe(AT + 1),
  });
}

function apply(st: State, r: ReconcileResult): void {
  for (const x of r.executions) st.known.add(x.execId);
  for (const p of r.positions) st.book.apply(null, p.contract, p.qty - st.book.net(contractKey(p.contract)));
  for (const m of r.matchedOrders) {
    const i = st.store.findIndex((o) => o.request.ref === m.ref);
    st.store[i] = { ...st.store[i]!, orderId: m.orderId, status: m.broker.status, filledQty: m.broker.filledQty };
  }
  st.since = r.cursor.executionsSince;
}

function fresh(w: World): State {
  return { book: w.book.clone(), known: new Set(), store: [...w.store], since: null };
}


describe('reconciliation properties', () => {
  test('shuffled and duplicated reports give the same outcome', () => {
    fc.assert(
      fc.property(bookSpecArb, specArb, fc.array(fc.nat(), { maxLength: 4 }), permutationKeysArb, permutationKeysArb, permutationKeysArb, (bookSpec, s, dups, k1, k2, k3) => {
        const w = world(bookSpec, s);
        const base = run(fresh(w), w.snapshot);
        const snap = w.snapshot;
        const dup = <T>(xs: readonly T[]): T[] => (xs.length === 0 ? [] : [...xs, ...dups.map((d) => xs[d % xs.length]!)]);
        const messy: BrokerSnapshot = {
          ...snap,
          positions: permute(dup(snap.positions), k1),
          openOrders: permute(dup(snap.openOrders), k2),
          executions: permute(dup(snap.executions), k3),
        };
        assert.deepEqual(run(fresh(w), messy), base);
      }),
      { numRuns: 300 },
    );
  });

  test('a dropped report is found at the next reconciliation, which ends where a full one does; a second full one finds nothing', () => {
    fc.assert(
      fc.property(bookSpecArb, specArb, fc.constantFrom('positions' as const, 'openOrders' as const, 'executions' as const), fc.nat(), (bookSpec, s, kind, pick) => {
        const w = world(bookSpec, s);
        const list = w.snapshot[kind] as readonly unknown[];
        fc.pre(list.length > 0);
        const i = pick % list.length;
        const dropped = list[i];
        const partial: BrokerSnapshot = { ...w.snapshot, [kind]: list.filter((_, j) => j !== i) };

        const a = fresh(w);
        apply(a, run(a, partial));
        const second = run(a, w.snapshot);
        if (kind === 'positions') {
          const p = dropped as PositionReport;
          assert.ok(second.positions.some((x) => contractKey(x.contract) === contractKey(p.contract) && x.qty === p.qty), 'the dropped position is reported');
        } else if (kind === 'executions') {
          assert.ok(second.executions.some((x) => x.execId === (dropped as ExecutionReport).execId), 'the dropped execution is handed on');
        } else {
          const o = dropped as OpenOrderReport;
          const found = second.matchedOrders.some((m) => m.orderId === o.orderId) || second.discrepancies.some((d) => d.kind === 'orphan-order' && d.orderId === o.orderId);
          assert.ok(found, 'the dropped open order is matched or reported');
        }
        apply(a, second);

        const b = fresh(w);
        apply(b, run(b, w.snapshot));
        for (const c of UNIVERSE) assert.equal(a.book.net(contractKey(c)), b.book.net(contractKey(c)), `net of ${contractKey(c)}`);
        assert.deepEqual([...a.known].sort(), [...b.known].sort());
        assert.deepEqual(a.store.map((o) => [o.request.ref, o.status, o.orderId]), b.store.map((o) => [o.request.ref, o.status, o.orderId]));

        const again = run(b, w.snapshot);
        assert.deepEqual([again.positions, again.executions, again.events], [[], [], []], 'nothing left to hand on');
      }),
      { numRuns: 300 },
    );
  });
});
