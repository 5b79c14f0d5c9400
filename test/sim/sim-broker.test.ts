import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { option, stock } from '../../src/core/contract.js';
import { LegguardError } from '../../src/core/errors.js';
import { AccountId, BrokerOrderId } from '../../src/core/ids.js';
import { EpochMs } from '../../src/core/quantity.js';
import { SimMarket } from '../../src/adapters/sim/sim-market.js';
import { SimBroker } from '../../src/adapters/sim/sim-broker.js';
import { SystemClock } from '../../src/adapters/clock/system-clock.js';
import { ACCOUNT, SPY, makeSim, order, spy } from './fixtures.js';

const P440 = spy('P', 440);
const P435 = spy('P', 435);
const C460 = spy('C', 460);

const isDisconnected = (e: unknown): boolean => LegguardError.is(e, 'BROKER_DISCONNECTED');

describe('SimBroker: positions and snapshot', () => {
  test('reports one net position per contract; snapshot lists non-zero ones', async () => {
    const f = await makeSim({ connect: false });
    f.sim.setPosition(P440, -2);
    f.sim.setPosition(P435, 2);
    f.sim.setPosition(SPY, 100);
    f.sim.setPosition(C460, 0);
    await f.sim.connect();
    const snap = await f.sim.snapshot({ executionsSince: null });
    assert.equal(snap.account, ACCOUNT);
    assert.deepEqual(
      snap.positions.map((p) => [p.contract.secType === 'OPT' ? `${p.contract.strike}${p.contract.right}` : p.contract.symbol, p.qty]).sort(),
      [['435P', 2], ['440P', -2], ['SPY', 100]],
    );
    assert.deepEqual(snap.openOrders, []);
    assert.deepEqual(snap.executions, []);
    // Nothing set before the connection was delivered; the connection itself was.
    await f.settle();
    assert.deepEqual(f.events.map((e) => e.kind), ['connection']);
  });

  test('a position set while connected is reported as a position event with IB-style average cost', async () => {
    const f = await makeSim();
    f.sim.setPosition(SPY, 100, 440.5);
    f.sim.setPosition(P440, -1, 350);
    await f.settle();
    const pos = f.of('position');
    assert.equal(pos.length, 2);
    assert.equal(pos[0]!.qty, 100);
    assert.equal(pos[0]!.avgCost, 440.5);
    assert.equal(pos[1]!.qty, -1);
    assert.equal(pos[1]!.avgCost, 350);
  });

  test('bad control input is refused', async () => {
    const f = await makeSim();
    assert.throws(() => f.sim.setPosition(stock('QQQ'), 1), /no underlying QQQ/);
    assert.throws(() => f.sim.setPosition(SPY, 1.5), (e: unknown) => LegguardError.is(e, 'INVALID_INPUT'));
  });
});

describe('SimBroker: single orders', () => {
  test('a marketable buy fills at the ask: working, execution with orderRef, filled, position, commission', async () => {
    const f = await makeSim();
    f.sim.setPosition(P440, -2);
    await f.settle();
    f.clear();
    const q = (await f.sim.quote(P440))!;
    assert.ok(q.bid !== null && q.ask !== null && q.bid < q.ask, 'q.bid !== null && q.ask !== null && q.bid < q.ask');
    const req = order([{ contract: P440, action: 'BUY' }], 2, q.ask + 0.05);
    const ack = await f.sim.placeOrder(req);
    // Nothing is delivered before the acknowledgement.
    assert.equal(f.events.length, 0);
    await f.settle();
    assert.deepEqual(
      f.events.map((e) => (e.kind === 'order-status' ? `status:${e.status}` : e.kind)),
      ['order-status', 'execution', 'order-status', 'position', 'commission'].map((k, i) => (k === 'order-status' ? `status:${i === 0 ? 'working' : 'filled'}` : k)),
    );
    const exec = f.of('execution')[0]!;
    assert.equal(exec.orderId, ack.orderId);
    assert.equal(exec.orderRef, req.ref);
    assert.equal(exec.side, 'BUY');
    assert.equal(exec.qty, 2);
    assert.equal(exec.price, q.ask);
    assert.equal(exec.liquidation, false);
    const filled = f.of('order-status')[1]!;
    assert.equal(filled.filledQty, 2);
    assert.equal(filled.remainingQty, 0);
    assert.equal(filled.avgFillPrice, q.ask);
    assert.equal(f.of('position')[0]!.qty, 0);
    assert.equal(f.of('commission')[0]!.execId, exec.execId);
    assert.equal(f.sim.position(P440), 0);
  });

  test('a sell fills at the bid when the limit is at or below it, and rests when above', async () => {
    const f = await makeSim();
    f.sim.setPosition(P435, 2);
    const q = (await f.sim.quote(P435))!;
    const resting = await f.sim.placeOrder(order([{ contract: P435, action: 'SELL' }], 1, q.bid! + 0.5));
    const filling = await f.sim.placeOrder(order([{ contract: P435, action: 'SELL' }], 1, q.bid));
    await f.settle();
    const execs = f.of('execution');
    assert.equal(execs.length, 1);
    assert.equal(execs[0]!.orderId, filling.orderId);
    assert.equal(execs[0]!.price, q.bid);
    const filled = f.of('order-status').find((s) => s.orderId === filling.orderId && s.status === 'filled')!;
    assert.equal(filled.avgFillPrice, q.bid, 'a sell reports the positive price received');
    const snap = await f.sim.snapshot({ executionsSince: null });
    assert.deepEqual(snap.openOrders.map((o) => o.orderId), [resting.orderId]);
    assert.equal(f.sim.position(P435), 1);
  });

  test('a resting order fills when the market comes to it', async () => {
    const f = await makeSim();
    const c = spy('C', 450, '2026-03-20');
    const before = (await f.sim.quote(c))!;
    assert.ok(before.ask! > 5, 'before.ask! > 5');
    const ack = await f.sim.placeOrder(order([{ contract: c, action: 'BUY' }], 1, before.ask! - 2));
    await f.settle();
    assert.equal(f.of('execution').length, 0);
    f.sim.setPrice('SPY', 430);
    await f.settle();
    const exec = f.of('execution');
    assert.equal(exec.length, 1);
    assert.equal(exec[0]!.orderId, ack.orderId);
    assert.ok(exec[0]!.price <= before.ask! - 2 + 1e-9, 'exec[0]!.price <= before.ask! - 2 + 1e-9');
  });

  test('cancel: a working order is cancelled; cancelling again or an unknown id is a notice', async () => {
    const f = await makeSim();
    const ack = await f.sim.placeOrder(order([{ contract: P440, action: 'BUY' }], 1, 0.01));
    await f.sim.cancelOrder(ack.orderId);
    await f.sim.cancelOrder(ack.orderId);
    await f.sim.cancelOrder(BrokerOrderId.unsafe('999'));
    await f.settle();
    const statuses = f.of('order-status').map((s) => s.status);
    assert.deepEqual(statuses, ['working', 'cancelled']);
    assert.deepEqual(f.of('notice').map((n) => n.code), [161, 10147]);
    assert.deepEqual((await f.sim.snapshot({ executionsSince: null })).openOrders, []);
  });

  test('the broker rejects what it cannot trade, as order-status events naming the problem', async () => {
    const f = await makeSim({ underlyings: [{ symbol: 'SPY', price: 445 }, { symbol: 'SPX', price: 5000, kind: 'index' }] });
    const cases = [
      [order([{ contract: stock('QQQ'), action: 'BUY' }], 1, 400), /No security definition/],
      [order([{ contract: stock('SPX'), action: 'BUY' }], 1, 5000), /index/],
      [order([{ contract: spy('P', 440, '2026-01-23'), action: 'BUY' }], 1, 1), /expired/],
    ] as const;
    // The order's shape (core/order-shape.ts, the gate's rule too) and the account: thrown, nothing placed.
    const malformed = [
      [order([{ contract: P440, action: 'BUY' }], 1, 1, { account: AccountId.unsafe('DU9999999') }), /account DU9999999/, 'account'],
      [order([{ contract: P440, action: 'BUY' }], 0, 1), /quantity/, 'quantity'],
      [{ ...order([{ contract: P440, action: 'BUY' }], 1, 1), limitPrice: null }, /limit price/, 'limit-price'],
      [order([{ contract: P440, action: 'BUY' }, { contract: option({ symbol: 'SPX', right: 'P', strike: 4900, expiry: '2026-01-30' }), action: 'SELL' }], 1, 1), /one underlying/, 'mixed-underlyings'],
      [order([{ contract: P440, action: 'BUY' }, { contract: P440, action: 'SELL' }], 1, 1), /twice/, 'contract-twice'],
    ] as const;
    for (const [req, why, rule] of malformed) {
      await assert.rejects(f.sim.placeOrder(req), (e) => LegguardError.is(e, 'INVALID_INPUT') && why.test(e.message) && String(e.details.rules).split(',').includes(rule));
    }
    for (const [req] of cases) await f.sim.placeOrder(req);
    await f.settle();
    const rejects = f.of('order-status');
    assert.equal(rejects.length, cases.length);
    rejects.forEach((r, i) => {
      assert.equal(r.status, 'rejected');
      assert.match(r.reason ?? '', cases[i]![1]);
      assert.ok(r.code !== null, 'r.code !== null');
    });
    assert.equal(f.of('execution').length, 0);
  });
});

describe('SimBroker: combo orders', () => {
  test('a combo fills at the net of the far sides, one execution per leg with the order ref', async () => {
    const f = await makeSim();
    f.sim.setPosition(P440, -2);
    f.sim.setPosition(P435, 2);
    const q440 = (await f.sim.quote(P440))!;
    const q435 = (await f.sim.quote(P435))!;
    const net = Number((q440.ask! - q435.bid!).toFixed(6));
    // A limit a cent below the net does not fill; at the net it does.
    const low = await f.sim.placeOrder(order([{ contract: P440, action: 'BUY' }, { contract: P435, action: 'SELL' }], 2, net - 0.01));
    await f.settle();
    assert.equal(f.of('execution').length, 0);
    await f.sim.cancelOrder(low.orderId);
    const req = order([{ contract: P440, action: 'BUY' }, { contract: P435, action: 'SELL' }], 2, net);
    const ack = await f.sim.placeOrder(req);
    await f.settle();
    const execs = f.of('execution');
    assert.equal(execs.length, 2);
    assert.ok(execs.every((e) => e.orderId === ack.orderId && e.orderRef === req.ref && e.qty === 2), 'execs.every((e) => e.orderId === ack.orderId && e.orderRef === req....');
    assert.deepEqual(execs.map((e) => [e.side, e.price]), [['BUY', q440.ask], ['SELL', q435.bid]]);
    const done = f.of('order-status').filter((s) => s.orderId === ack.orderId);
    assert.deepEqual(done.map((s) => s.status), ['working', 'filled']);
    assert.ok(Math.abs(done[1]!.avgFillPrice! - net) < 1e-9, 'Math.abs(done[1]!.avgFillPrice! - net) < 1e-9');
    assert.equal(f.sim.position(P440), 0);
    assert.equal(f.sim.position(P435), 0);
  });

  test('a credit combo (negative limit) and leg ratios', async () => {
    const f = await makeSim();
    const body = spy('C', 450);
    const wing1 = spy('C', 445);
    const wing2 = spy('C', 455);
    const qs = await Promise.all([wing1, body, wing2].map((c) => f.sim.quote(c)));
    // Sell the butterfly: sell the wings, buy two bodies; that pays a debit or a credit depending on the quotes.
    const net = 2 * qs[1]!.ask! - qs[0]!.bid! - qs[2]!.bid!;
    const req = order(
      [
        { contract: wing1, action: 'SELL' },
        { contract: body, action: 'BUY', ratio: 2 },
        { contract: wing2, action: 'SELL' },
      ],
      3,
      Number(net.toFixed(2)) + 0.01,
    );
    await f.sim.placeOrder(req);
    await f.settle();
    assert.deepEqual(f.of('execution').map((e) => e.qty), [3, 6, 3]);
    assert.equal(f.sim.position(body), 6);
    assert.equal(f.sim.position(wing1), -3);
  });
});

describe('SimBroker: fill models', () => {
  test('delayed: fills in full after the delay, nothing before', async () => {
    const f = await makeSim({ fills: { mode: 'delayed', delayMs: 5000 } });
    const q = (await f.sim.quote(P440))!;
    await f.sim.placeOrder(order([{ contract: P440, action: 'BUY' }], 2, q.ask));
    await f.sim.advance(4999);
    assert.equal(f.of('execution').length, 0);
    await f.sim.advance(1);
    assert.equal(f.of('execution').length, 1);
    assert.equal(f.sim.position(P440), 2);
  });

  test('partial: a part fills at once and the rest works until the mode changes or it is cancelled', async () => {
    const f = await makeSim({ fills: { mode: 'partial', fraction: 0.5 } });
    const q = (await f.sim.quote(P440))!;
    const ack = await f.sim.placeOrder(order([{ contract: P440, action: 'BUY' }], 5, q.ask));
    const one = await f.sim.placeOrder(order([{ contract: P440, action: 'BUY' }], 1, q.ask));
    await f.sim.advance(120_000);
    const st = f.of('order-status').filter((s) => s.orderId === ack.orderId);
    assert.deepEqual(st.map((s) => [s.status, s.filledQty, s.remainingQty]), [
      ['working', 0, 5],
      ['partially-filled', 2, 3],
    ]);
    assert.equal(f.sim.position(P440), 2, 'a one-lot cannot fill partly: it rests');
    await f.sim.cancelOrder(one.orderId);
    f.sim.setFillModel({ mode: 'immediate' });
    await f.settle();
    const last = f.of('order-status').filter((s) => s.orderId === ack.orderId).at(-1)!;
    assert.equal(last.status, 'filled');
    assert.equal(last.filledQty, 5);
    assert.equal(f.sim.position(P440), 5);
  });

  test('reject: new orders are rejected with code 201, positions untouched', async () => {
    const f = await makeSim({ fills: { mode: 'reject', rejectReason: 'margin' } });
    const ack = await f.sim.placeOrder(order([{ contract: P440, action: 'BUY' }], 1, null));
    await f.settle();
    const st = f.of('order-status');
    assert.equal(st.length, 1);
    assert.equal(st[0]!.orderId, ack.orderId);
    assert.equal(st[0]!.status, 'rejected');
    assert.equal(st[0]!.code, 201);
    assert.match(st[0]!.reason!, /margin/);
    assert.equal(f.sim.position(P440), 0);
  });

  test('position-first reporting puts the position before the execution', async () => {
    const f = await makeSim({ fills: { positionFirst: true } });
    f.clear();
    await f.sim.placeOrder(order([{ contract: P440, action: 'BUY' }], 1, null));
    await f.settle();
    assert.deepEqual(f.events.map((e) => e.kind), ['order-status', 'position', 'execution', 'order-status', 'commission']);
  });

  test('a bad fill model is refused naming the field', async () => {
    const f = await makeSim();
    assert.throws(() => f.sim.setFillModel({ fraction: 1.5 }), /fraction/);
    assert.throws(() => f.sim.setFillModel({ mode: 'sometimes' as never }), /mode/);
  });
});

describe('SimBroker: trading calendar', () => {
  test('an option order at 02:30 is pending and works and fills at the 09:30 open', async () => {
    const f = await makeSim({ start: '2026-01-28T02:30:00-05:00' });
    f.sim.setPosition(P440, -1);
    // outsideRth on an option is refused for its shape (core/order-shape.ts), as the gate refuses it.
    await assert.rejects(f.sim.placeOrder(order([{ contract: P440, action: 'BUY' }], 1, null, { outsideRth: true })), /options trade only in regular hours/);
    const ack = await f.sim.placeOrder(order([{ contract: P440, action: 'BUY' }], 1, null));
    await f.to('2026-01-28T09:29:59-05:00');
    assert.deepEqual(f.of('order-status').map((s) => s.status), ['pending']);
    assert.equal(f.sim.position(P440), -1);
    await f.to('2026-01-28T09:30:00-05:00');
    const st = f.of('order-status').filter((s) => s.orderId === ack.orderId);
    assert.deepEqual(st.map((s) => s.status), ['pending', 'working', 'filled']);
    assert.equal(f.of('execution')[0]!.tsEvent, Date.parse('2026-01-28T09:30:00-05:00'));
    assert.equal(f.sim.position(P440), 0);
  });

  test('stock trades pre-market only with outsideRth; without it, at the open', async () => {
    const f = await makeSim({ start: '2026-01-28T02:30:00-05:00' });
    f.sim.setPosition(SPY, 200);
    const rth = await f.sim.placeOrder(order([{ contract: SPY, action: 'SELL' }], 100, null));
    const ext = await f.sim.placeOrder(order([{ contract: SPY, action: 'SELL' }], 100, null, { outsideRth: true }));
    await f.to('2026-01-28T04:00:00-05:00');
    const fills = () => f.of('execution').map((e) => [e.orderId, e.tsEvent]);
    assert.deepEqual(fills(), [[ext.orderId, Date.parse('2026-01-28T04:00:00-05:00')]]);
    await f.to('2026-01-28T09:30:00-05:00');
    assert.deepEqual(fills()[1], [rth.orderId, Date.parse('2026-01-28T09:30:00-05:00')]);
    assert.equal(f.sim.position(SPY), 0);
  });

  test('after 20:00 an outsideRth stock order waits for 04:00 on the next trading day (skipping the weekend)', async () => {
    const f = await makeSim({ start: '2026-01-30T20:30:00-05:00' });
    await f.sim.placeOrder(order([{ contract: SPY, action: 'BUY' }], 10, null, { outsideRth: true }));
    await f.to('2026-02-02T03:59:00-05:00');
    assert.equal(f.of('execution').length, 0);
    await f.to('2026-02-02T04:00:00-05:00');
    assert.equal(f.of('execution').length, 1);
  });

  test('manual trades and liquidations outside their session are refused', async () => {
    const f = await makeSim({ start: '2026-01-28T02:30:00-05:00' });
    f.sim.setPosition(P440, -1);
    assert.throws(() => f.sim.manualTrade(P440, 1), /does not trade now/);
    assert.throws(() => f.sim.liquidate(P440, 1), /does not trade now/);
  });
});

describe('SimBroker: connection', () => {
  test('a dropped link: connection event, commands reject, changes are not delivered, state keeps changing', async () => {
    const f = await makeSim();
    f.sim.setPosition(P440, -2);
    const q = (await f.sim.quote(P440))!;
    const resting = await f.sim.placeOrder(order([{ contract: P440, action: 'BUY' }], 1, q.ask! - 1));
    await f.settle();
    f.clear();
    const droppedAt = f.sim.now();
    f.sim.dropConnection();
    assert.equal(f.sim.isConnected(), false);
    await f.settle();
    assert.deepEqual(f.events.map((e) => (e.kind === 'connection' ? e.state : e.kind)), ['disconnected']);
    await assert.rejects(f.sim.placeOrder(order([{ contract: P440, action: 'BUY' }], 1, null)), isDisconnected);
    await assert.rejects(f.sim.snapshot({ executionsSince: null }), isDisconnected);
    await assert.rejects(f.sim.cancelOrder(resting.orderId), isDisconnected);
    await assert.rejects(f.sim.quote(P440), isDisconnected);
    await assert.rejects(f.sim.connect(), isDisconnected);
    // The market moves and the resting order fills at the broker; the account is assigned. Nobody is told.
    await f.sim.advance(60_000);
    f.sim.setPrice('SPY', 460);
    f.sim.postAssignment(P440, 1);
    await f.sim.advance(60_000);
    assert.deepEqual(f.events.map((e) => e.kind), ['connection']);
    assert.equal(f.sim.position(P440), 0);
    f.sim.restoreConnection({ dataLost: true });
    await f.settle();
    const conn = f.of('connection');
    assert.deepEqual(conn.map((c) => [c.state, c.dataLost]), [['disconnected', false], ['connected', true]]);
    assert.equal(f.events.length, 2, 'missed events are not replayed');
    const snap = await f.sim.snapshot({ executionsSince: droppedAt });
    assert.equal(snap.executions.length, 1);
    assert.equal(snap.executions[0]!.orderId, resting.orderId);
    assert.deepEqual(snap.positions.map((p) => [p.contract.symbol, p.contract.secType, p.qty]), [['SPY', 'STK', 100]]);
  });

  test('client disconnect and connect are reported', async () => {
    const f = await makeSim();
    await f.sim.disconnect();
    await f.sim.connect();
    await f.settle();
    assert.deepEqual(f.of('connection').map((c) => c.state), ['connected', 'disconnected', 'connected']);
  });
});

describe('SimBroker: trades outside legguard and liquidations', () => {
  test('a manual trade is an execution with no order id and no ref', async () => {
    const f = await makeSim();
    f.sim.setPosition(P435, 2);
    await f.settle();
    f.clear();
    f.sim.manualTrade(P435, -2);
    await f.settle();
    assert.deepEqual(f.events.map((e) => e.kind), ['execution', 'position', 'commission']);
    const e = f.of('execution')[0]!;
    assert.equal(e.orderId, null);
    assert.equal(e.orderRef, null);
    assert.equal(e.side, 'SELL');
    assert.equal(e.liquidation, false);
    assert.equal(f.of('position')[0]!.qty, 0);
  });

  test('a combo trade is checked whole before any leg fills: a leg that cannot trade, a repeated leg or one leg fills nothing', async () => {
    const f = await makeSim();
    await f.settle();
    f.clear();
    const unknown = { ...P435, symbol: 'QQQ' };
    assert.throws(() => f.sim.manualCombo([{ contract: P440, qty: -1 }, { contract: unknown, qty: 1 }]), /QQQ/);
    assert.throws(() => f.sim.manualCombo([{ contract: P440, qty: -1 }, { contract: P440, qty: 1 }]), /given twice/);
    assert.throws(() => f.sim.manualCombo([{ contract: P440, qty: -1 }]), /at least 2 legs/);
    assert.throws(() => f.sim.manualCombo([{ contract: P440, qty: -1 }, { contract: P435, qty: 0 }]), /non-zero/);
    await f.settle();
    assert.deepEqual(f.events, [], 'nothing filled, nothing reported');
    assert.equal(f.sim.position(P440), 0);
    const night = await makeSim({ start: '2026-01-28T02:30:00-05:00' });
    assert.throws(() => night.sim.manualCombo([{ contract: P440, qty: -1 }, { contract: P435, qty: 1 }]), /does not trade now/);
    assert.equal(night.sim.position(P440), 0);
  });

  test('a liquidation closes toward zero, no more than held, marked liquidation', async () => {
    const f = await makeSim();
    f.sim.setPosition(C460, -1);
    f.sim.liquidate(C460, 2);
    await f.settle();
    const e = f.of('execution')[0]!;
    assert.equal(e.liquidation, true);
    assert.equal(e.side, 'BUY');
    assert.equal(e.qty, 1);
    assert.equal(f.sim.position(C460), 0);
    assert.throws(() => f.sim.liquidate(C460, 1), /holds none/);
  });
});

describe('SimBroker: assignment and exercise posted by the clearing house', () => {
  test('an assignment is position events (option, then stock netted with shares held) and no execution', async () => {
    const f = await makeSim();
    f.sim.setPosition(P440, -2);
    f.sim.setPosition(SPY, 100);
    await f.settle();
    f.clear();
    f.sim.postAssignment(P440, 1);
    await f.settle();
    assert.deepEqual(f.events.map((e) => e.kind), ['position', 'position']);
    const [opt, stk] = f.of('position');
    assert.equal(opt!.contract.secType, 'OPT');
    assert.equal(opt!.qty, -1);
    assert.equal(stk!.contract.secType, 'STK');
    assert.equal(stk!.qty, 200);
    assert.throws(() => f.sim.postAssignment(P440, 2), /short 1/);
    assert.throws(() => f.sim.postExercise(P435, 1), /long 0/);
  });

  test('exercising a long call delivers shares; a European index option cannot be assigned early', async () => {
    const f = await makeSim({ underlyings: [{ symbol: 'SPY', price: 470 }, { symbol: 'SPX', price: 5000, kind: 'index' }] });
    const c465 = spy('C', 465);
    f.sim.setPosition(c465, 1);
    f.sim.postExercise(c465, 1);
    assert.equal(f.sim.position(SPY), 100);
    const spx = option({ symbol: 'SPX', right: 'P', strike: 5100, expiry: '2026-01-30' });
    f.sim.setPosition(spx, -1);
    assert.throws(() => f.sim.postAssignment(spx, 1), /European/);
  });
});

describe('SimBroker: quotes and underlyings', () => {
  test('option quotes straddle the model value; stock quotes a cent each side; index last only', async () => {
    const f = await makeSim({ underlyings: [{ symbol: 'SPY', price: 445, volatility: 0.18 }, { symbol: 'SPX', price: 5000, kind: 'index' }] });
    const q = (await f.sim.quote(P440))!;
    const value = f.market.optionValue(P440);
    assert.ok(q.bid! <= value && value <= q.ask!, 'q.bid! <= value && value <= q.ask!');
    assert.equal(q.underlying, 445);
    const s = (await f.sim.quote(SPY))!;
    assert.deepEqual([s.bid, s.ask, s.last], [444.99, 445.01, 445]);
    const i = (await f.sim.quote(stock('SPX')))!;
    assert.deepEqual([i.bid, i.ask, i.last], [null, null, 5000]);
    assert.equal(await f.sim.quote(stock('QQQ')), null);
    assert.equal(await f.sim.quote(spy('P', 440, '2026-01-23')), null);
  });

  test('the underlying reports upcoming dividends; the price drops by the dividend at the ex-date', async () => {
    const f = await makeSim({ underlyings: [{ symbol: 'SPY', price: 445, dividends: [{ exDate: '2026-01-29' as never, amount: 1.74 }] }] });
    const info = await f.sim.underlying('SPY');
    assert.deepEqual(info.dividends, [{ exDate: '2026-01-29', amount: 1.74 }]);
    assert.equal(info.price, 445);
    await f.to('2026-01-29T00:00:00-05:00');
    assert.ok(Math.abs(f.market.price('SPY') - 443.26) < 1e-9, 'Math.abs(f.market.price(\'SPY\') - 443.26) < 1e-9');
    assert.deepEqual(f.of('quote').map((q) => q.last), [443.26]);
    assert.deepEqual((await f.sim.underlying('QQQ')).dividends, []);
  });

  test('a price at or below the dividends still to come is refused', async () => {
    const f = await makeSim({ underlyings: [{ symbol: 'SPY', price: 445, dividends: [{ exDate: '2026-01-29' as never, amount: 1.74 }] }] });
    assert.throws(() => f.sim.setPrice('SPY', 1.74), /not above the 1.74 of dividends still to come/);
    assert.throws(() => new SimMarket(f.clock, [{ symbol: 'X', price: 1, dividends: [{ exDate: '2026-02-02' as never, amount: 1 }] }]), /not above/);
  });

  test('advance() refuses a real clock', async () => {
    const clock = new SystemClock();
    const sim = new SimBroker({ account: ACCOUNT, clock, market: new SimMarket(clock, [{ symbol: 'SPY', price: 1 }]) });
    await assert.rejects(sim.advance(1), /VirtualClock/);
  });
});

describe('SimBroker: executions since a time', () => {
  test('snapshot returns executions at or after the given time', async () => {
    const f = await makeSim();
    await f.sim.placeOrder(order([{ contract: P440, action: 'BUY' }], 1, null));
    await f.sim.advance(300_000);
    const t2 = f.sim.now();
    await f.sim.placeOrder(order([{ contract: P440, action: 'SELL' }], 1, null));
    await f.settle();
    assert.equal((await f.sim.snapshot({ executionsSince: null })).executions.length, 2);
    const since = (await f.sim.snapshot({ executionsSince: EpochMs.unsafe(t2) })).executions;
    assert.equal(since.length, 1);
    assert.equal(since[0]!.side, 'SELL');
  });
});
