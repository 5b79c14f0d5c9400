import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Book } from '../../src/core/book.js';
import { contractKey, type Contract } from '../../src/core/contract.js';
import { detect } from '../../src/core/detector.js';
import type { ExecutionReport, OrderStatus, PositionReport } from '../../src/core/events.js';
import { AccountId, BrokerOrderId, ExecId, OrderRef } from '../../src/core/ids.js';
import { orderRef, type OrderRequest } from '../../src/core/order.js';
import { EpochMs, Price, Qty } from '../../src/core/quantity.js';
import { reconcile, type ReconcileInput } from '../../src/core/reconcile.js';
import type { BrokerSnapshot, OpenOrderReport } from '../../src/ports/broker.js';
import type { OrderRecord, StoredOrderStatus } from '../../src/ports/store.js';
import { call, put, sid, SPY } from './fixtures.js';

const ACC = AccountId.unsafe('DU1');
const AT = EpochMs.unsafe(Date.parse('2026-01-28T09:00:00-05:00'));

function pos(c: Contract, qty: number, account = ACC): PositionReport {
  return { kind: 'position', account, contract: c, qty: Qty.unsafe(qty), avgCost: null, tsEvent: AT, tsInit: AT };
}
function execution(id: string, c: Contract, side: 'BUY' | 'SELL', qty: number, ref: string | null = null, at = AT - 60_000): ExecutionReport {
  return {
    kind: 'execution', account: ACC, execId: ExecId.unsafe(id), orderId: null, orderRef: ref === null ? null : OrderRef.unsafe(ref),
    contract: c, side, qty: Qty.unsafe(qty), price: Price.unsafe(1), liquidation: false, tsEvent: EpochMs.unsafe(at), tsInit: EpochMs.unsafe(at),
  };
}
function request(group: string, c: Contract, action: 'BUY' | 'SELL', qty: number): OrderRequest {
  return {
    ref: orderRef('ic', 'ic:assignment:1', group, 0), strategyId: sid('ic'), incidentId: null, account: ACC,
    legs: [{ contract: c, action, ratio: 1 }], quantity: Qty.unsafe(qty), orderType: 'LMT', limitPrice: Price.unsafe(1),
    outsideRth: false, purpose: 'emergency', tier: 0,
  };
}
function stored(r: OrderRequest, status: StoredOrderStatus, orderId: string | null, filled = 0): OrderRecord {
  return {
    request: r, orderId: orderId === null ? null : BrokerOrderId.unsafe(orderId), status, filledQty: Qty.unsafe(filled), avgFillPrice: null,
    placedAt: null, positionBefore: {}, reason: null, updatedAt: AT,
  };
}
function open(r: OrderRequest, orderId: string, status: OrderStatus = 'working', filled = 0): OpenOrderReport {
  return {
    orderId: BrokerOrderId.unsafe(orderId), orderRef: r.ref, account: ACC, legs: r.legs, quantity: r.quantity, limitPrice: r.limitPrice,
    status, filledQty: Qty.unsafe(filled), remainingQty: Qty.unsafe(r.quantity - filled),
  };
}

function icBook(): Book {
  const b = new Book();
  b.addStrategy(sid('ic'));
  b.set(sid('ic'), put(435), Qty.unsafe(2));
  b.set(sid('ic'), put(440), Qty.unsafe(-2));
  b.set(sid('ic'), call(460), Qty.unsafe(-2));
  b.set(sid('ic'), call(465), Qty.unsafe(2));
  return b;
}

function input(snapshot: Partial<BrokerSnapshot>, extra: Partial<ReconcileInput> = {}): ReconcileInput {
  return {
    snapshot: { account: ACC, at: AT, positions: [], openOrders: [], executions: [], ...snapshot },
    book: icBook(),
    storeOrders: [],
    isKnownExecution: () => false,
    executionsSince: null,
    now: EpochMs.unsafe(AT + 5),
    ...extra,
  };
}

describe('reconcile: positions', () => {
  test('an assignment missed while disconnected comes out as the live path would see it, and the detector classifies it', () => {
    const book = icBook();
    const r = reconcile(input({ positions: [pos(put(435), 2), pos(call(460), -2), pos(call(465), 2), pos(SPY, 200)] }, { book }));
    assert.deepEqual(
      r.discrepancies.map((d) => d.key),
      ['leg-missing:OPT:SPY:2026-01-30:P:440:-2->0', 'unexpected-position:STK:SPY:0->200'],
    );
    assert.deepEqual(r.positions.map((p) => [contractKey(p.contract), p.qty, p.reconciled, p.tsEvent]), [
      ['OPT:SPY:2026-01-30:P:440', 0, true, AT],
      ['STK:SPY', 200, true, AT],
    ]);
    const out = detect({
      book,
      changes: r.positions.map((p) => ({ contract: p.contract, brokerQty: p.qty, brokerAt: p.tsEvent, firstSeenAt: p.tsEvent })),
      foreignExecutions: r.executions,
      now: AT,
      pairingWindowMs: 3000,
      underlyingPrice: () => null,
    });
    assert.deepEqual(out.detections.map((d) => `${d.strategyId} ${d.cause} ${d.kind} ${d.change}`), ['ic assignment EARLY 2', 'ic assignment EARLY 200']);
  });

  test('quantity mismatch; nothing where the broker agrees; other accounts are ignored', () => {
    const r = reconcile(
      input({ positions: [pos(put(435), 2), pos(put(440), -1), pos(call(460), -2), pos(call(465), 2), pos(SPY, 500, AccountId.unsafe('U999'))] }),
    );
    assert.deepEqual(r.discrepancies.map((d) => [d.kind, d.bookQty, d.brokerQty, d.strategies]), [['quantity-mismatch', -2, -1, ['ic']]]);
    assert.equal(r.positions.length, 1);
    assert.match(r.discrepancies[0]!.message, /the broker shows -1 SPY 2026-01-30 440 P; the book has -2/);
  });

  test('keys do not depend on when the reconciliation ran', () => {
    const snap = { positions: [pos(put(435), 2), pos(call(460), -2), pos(call(465), 2)] };
    const a = reconcile(input(snap));
    const b = reconcile(input({ ...snap, at: EpochMs.unsafe(AT + 3_600_000) }, { now: EpochMs.unsafe(AT + 3_600_100) }));
    assert.deepEqual(a.discrepancies.map((d) => d.key), b.discrepancies.map((d) => d.key));
  });
});

describe('reconcile: executions and the cursor', () => {
  test('known executions are not handed on; duplicates count once; oldest first; other accounts ignored', () => {
    const x1 = execution('x1', put(435), 'SELL', 1, null, AT - 50_000);
    const x2 = execution('x2', put(435), 'SELL', 1, null, AT - 90_000);
    const other = { ...execution('x3', put(435), 'SELL', 1), account: AccountId.unsafe('U999') };
    const r = reconcile(input({ executions: [x1, x2, x1, other], positions: [pos(put(440), -2), pos(call(460), -2), pos(call(465), 2)] }, { isKnownExecution: (id) => id === 'x0' }));
    assert.deepEqual(r.executions.map((x) => x.execId), ['x2', 'x1']);
    assert.ok(r.executions.every((x) => x.reconciled === true));
    assert.deepEqual(r.events.map((e) => e.kind), ['execution', 'execution', 'position']);
    const known = reconcile(input({ executions: [x1, x2] }, { isKnownExecution: (id) => id === 'x1' }));
    assert.deepEqual(known.executions.map((x) => x.execId), ['x2']);
  });

  test('the cursor keeps a lookback so a lost report is asked for again, and never goes back', () => {
    assert.equal(reconcile(input({})).cursor.executionsSince, AT - 600_000);
    assert.equal(reconcile(input({}, { executionLookbackMs: 60_000 })).cursor.executionsSince, AT - 60_000);
    assert.equal(reconcile(input({}, { executionsSince: EpochMs.unsafe(AT - 1000) })).cursor.executionsSince, AT - 1000);
    const r = reconcile(input({ executions: [execution('a', SPY, 'BUY', 1, null, AT - 5), execution('b', SPY, 'BUY', 1, null, AT - 9)] }));
    assert.equal(r.cursor.lastExecId, 'a');
  });
});

describe('reconcile: orders', () => {
  const working = request('t0.SPY.C460.260130', call(460), 'BUY', 2);
  const planned = request('t3.SPY.P435.260130', put(435), 'SELL', 2);

  test('a store order working at the broker is matched; a changed status becomes an order-status report', () => {
    const r = reconcile(input({ openOrders: [open(working, '7', 'partially-filled', 1)] }, { storeOrders: [stored(working, 'working', '7')] }));
    assert.deepEqual(r.matchedOrders.map((m) => [m.ref, m.orderId, m.storeStatus]), [[working.ref, '7', 'working']]);
    const status = r.events.filter((e) => e.kind === 'order-status');
    assert.deepEqual(status.map((s) => [s.orderRef, s.status, s.filledQty, s.remainingQty]), [[working.ref, 'partially-filled', 1, 1]]);
    assert.equal(r.discrepancies.filter((d) => d.kind === 'orphan-order').length, 0);
    // A planned order found at the broker (sent just before a crash) is matched by its ref, not sent again.
    const p = reconcile(input({ openOrders: [open(planned, '8')] }, { storeOrders: [stored(planned, 'planned', null)] }));
    assert.deepEqual(p.matchedOrders.map((m) => [m.ref, m.orderId, m.storeStatus]), [[planned.ref, '8', 'planned']]);
  });

  test('orphans: a legguard order the store does not know, and a store order the broker no longer works', () => {
    const unknown = request('t9.SPY.STK', SPY, 'SELL', 100);
    const r = reconcile(
      input(
        {
          openOrders: [open(unknown, '9'), { ...open(unknown, '10'), orderRef: OrderRef.unsafe('manual-1') }],
          executions: [execution('e1', call(460), 'BUY', 1, working.ref)],
        },
        { storeOrders: [stored(working, 'working', '7'), stored(planned, 'planned', null)] },
      ),
    );
    const orphans = r.discrepancies.filter((d) => d.kind === 'orphan-order');
    assert.deepEqual(orphans.map((d) => [d.where, d.orderRef, d.executedUnits]), [
      ['broker', unknown.ref, null],
      ['store', working.ref, 1],
    ]);
    assert.match(orphans[1]!.message, /working in the store but not working at the broker; its executions here account for 1 of 2/);
    // A planned order with executions went out before the store knew; an lg/ execution nobody knows is an orphan.
    const lost = request('t1.SPY.STK', SPY, 'SELL', 100);
    const q = reconcile(
      input({ executions: [execution('e2', put(435), 'SELL', 2, planned.ref), execution('e3', SPY, 'SELL', 100, lost.ref)] }, { storeOrders: [stored(planned, 'planned', null)] }),
    );
    assert.deepEqual(q.discrepancies.filter((d) => d.kind === 'orphan-order').map((d) => [d.key, d.executedUnits]), [
      [`orphan-order:broker:${lost.ref}:executed`, null],
      [`orphan-order:store:${planned.ref}`, 2],
    ]);
  });

  test('finished store orders: their executions are the guard\'s own; one still working is an orphan, never reopened', () => {
    const sold = request('t1.SPY.STK', SPY, 'SELL', 200);
    const gone = request('t0.SPY.C460.260130', call(460), 'BUY', 2);
    const lost = request('t9.SPY.STK', SPY, 'SELL', 100);
    const r = reconcile(
      input(
        {
          executions: [execution('s1', SPY, 'SELL', 200, sold.ref), execution('l1', SPY, 'SELL', 100, lost.ref)],
          openOrders: [open(gone, '12')],
        },
        { storeOrders: [stored(sold, 'filled', '11', 200), stored(gone, 'cancelled', '12')] },
      ),
    );
    assert.deepEqual(r.matchedOrders, [], 'a cancelled order is not matched (it would reopen)');
    assert.deepEqual(r.events.filter((e) => e.kind === 'order-status'), []);
    const orphans = r.discrepancies.filter((d) => d.kind === 'orphan-order');
    assert.deepEqual(orphans.map((d) => [d.key, d.where]), [
      [`orphan-order:broker:${gone.ref}:12`, 'broker'],
      [`orphan-order:broker:${lost.ref}:executed`, 'broker'],
    ]);
    assert.match(orphans[0]!.message, /is working at the broker, yet the store has it cancelled/);
    assert.match(orphans[1]!.message, /SELL 100 SPY under .*t9\.SPY\.STK.*, which the store does not know/);
  });
});
