import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { AccountId, BrokerOrderId, IncidentId, OrderRef, StrategyId } from '../../src/core/ids.js';
import type { OrderAction, OrderRequest, RiskTier } from '../../src/core/order.js';
import { EpochMs, Price, Qty } from '../../src/core/quantity.js';
import { LegguardError } from '../../src/core/errors.js';
import { option, type Contract } from '../../src/core/contract.js';
import { IbBroker } from '../../src/adapters/ib/ib-broker.js';
import { EventName, OrderAction as IbAction, OrderType as IbOrderType, SecType, type ContractDetails } from '@stoqey/ib';
import { toIbContract } from '../../src/adapters/ib/ib-contracts.js';
import { OffsetClock, TestClient } from '../tws-sim/harness.js';
import { t0 } from '../tws-sim/memory-broker.js';
import { ACCT, call460, put435, put440, rig, spy, type Rig } from './ib-harness.js';

let seq = 0;
function order(legs: { contract: Contract; action: OrderAction; ratio?: number }[], qty: number, limit: number | null, tier: RiskTier = 0): OrderRequest {
  seq++;
  return {
    ref: OrderRef.unsafe(`lg/ic-spy/ic-spy:assignment:${seq}/g0/1`),
    strategyId: StrategyId.unsafe('ic-spy'),
    incidentId: IncidentId.unsafe(`ic-spy:assignment:${seq}`),
    account: AccountId.unsafe(ACCT),
    legs: legs.map((l) => ({ contract: l.contract, action: l.action, ratio: l.ratio ?? 1 })),
    quantity: Qty.unsafe(qty),
    orderType: limit === null ? 'MKT' : 'LMT',
    limitPrice: limit === null ? null : Price.unsafe(limit),
    outsideRth: false,
    purpose: 'emergency',
    tier,
  };
}

describe('IB adapter over the sim gateway', () => {
  let r: Rig | null = null;
  afterEach(async () => {
    await r?.stop();
    r = null;
  });

  test('connect: a connection event, then positions as they stand, then live changes (an assignment)', async () => {
    r = await rig({ setup: (b) => b.setPosition(put440, -2, 150) });
    assert.equal(r.ib.isConnected(), true);
    const conn = r.rec.of('connection')[0]!;
    assert.deepEqual([conn.state, conn.dataLost], ['connected', false]);
    for (let i = 0; i < 200 && r.ib.accountValue('AccountCode') === null; i++) await new Promise((res) => setTimeout(res, 5));
    assert.equal(r.ib.accountValue('AccountCode'), ACCT, 'account updates are subscribed');
    const first = await r.rec.waitFor('position', (p) => p.contract.secType === 'OPT');
    assert.equal(first.qty, -2);
    assert.equal(first.avgCost, 150);
    assert.deepEqual(first.contract, put440, 'the same legguard contract, style and settlement included');
    const m = r.rec.mark();
    r.broker.setPosition(put440, 0);
    r.broker.setPosition(spy, 200, 440);
    await r.rec.waitFor('position', (p) => p.contract.secType === 'STK', m);
    assert.deepEqual(r.rec.of('position', m).map((p) => [p.contract.secType, p.qty]), [['OPT', 0], ['STK', 200]]);
  });

  test('snapshot: non-zero positions, working orders (combos with their legs), executions since a time', async () => {
    r = await rig({ setup: (b) => b.setPosition(put440, -2, 150) });
    r.broker.fillMode = 'working';
    const combo = await r.ib.placeOrder(order([{ contract: put440, action: 'BUY' }, { contract: put435, action: 'SELL' }], 2, 0.6, 2));
    await r.rec.waitFor('order-status', (s) => s.orderId === combo.orderId && s.status === 'working');
    r.broker.manualTrade(spy, 'BUY', 100, 445);
    await r.rec.waitFor('execution');
    const snap = await r.ib.snapshot({ executionsSince: EpochMs.unsafe(t0 - 60_000) });
    assert.deepEqual(snap.positions.map((p) => [p.contract.secType, p.qty, p.reconciled]).sort(), [['OPT', -2, true], ['STK', 100, true]]);
    assert.equal(snap.openOrders.length, 1);
    const o = snap.openOrders[0]!;
    assert.equal(o.orderId, combo.orderId);
    assert.equal(o.status, 'working');
    assert.deepEqual(o.legs.map((l) => [l.contract, l.action, l.ratio]), [[put440, 'BUY', 1], [put435, 'SELL', 1]]);
    assert.equal(o.limitPrice, 0.6);
    assert.equal(o.quantity, 2);
    assert.equal(snap.executions.length, 1);
    assert.deepEqual([snap.executions[0]!.orderId, snap.executions[0]!.orderRef, snap.executions[0]!.side], [null, null, 'BUY']);
    const later = await r.ib.snapshot({ executionsSince: EpochMs.unsafe(Date.now() + 3_600_000 * 24 * 365 * 10) });
    assert.equal(later.executions.length, 0);
  });

  test('snapshot: a combo another client sold shows as the same combo bought with legs reversed, at the negated price', async () => {
    r = await rig();
    r.broker.fillMode = 'working';
    const other = await TestClient.connect(r.rg.port, 5);
    try {
      const m = other.mark();
      other.ib.reqContractDetails(1, toIbContract(put440));
      other.ib.reqContractDetails(2, toIbContract(put435));
      await other.waitFor(EventName.contractDetailsEnd, (a) => a[0] === 2, m);
      const ids = other.all(EventName.contractDetails, m).map((a) => (a[1] as ContractDetails).contract.conId!);
      other.ib.placeOrder(
        9,
        { symbol: 'SPY', secType: SecType.BAG, currency: 'USD', exchange: 'SMART', comboLegs: [
          { conId: ids[0]!, ratio: 1, action: IbAction.BUY, exchange: 'SMART' },
          { conId: ids[1]!, ratio: 1, action: IbAction.SELL, exchange: 'SMART' },
        ] },
        { action: IbAction.SELL, totalQuantity: 3, orderType: IbOrderType.LMT, lmtPrice: 0.5, transmit: true, orderRef: 'manual spread' },
      );
      await other.waitFor(EventName.orderStatus, (a) => a[0] === 9 && a[1] === 'Submitted');
      const snap = await r.ib.snapshot({ executionsSince: null });
      const o = snap.openOrders.find((x) => x.orderId === 'c5-9')!;
      assert.ok(o, `open orders: ${snap.openOrders.map((x) => x.orderId).join(', ')}`);
      assert.deepEqual(o.legs.map((l) => [l.contract, l.action]), [[put440, 'SELL'], [put435, 'BUY']]);
      assert.equal(o.limitPrice, -0.5);
      assert.equal(o.orderRef, null, 'a ref that is not an OrderRef is not reported as one');
    } finally {
      other.close();
    }
  });

  test('a single order: sent with transmit, ref and limit; working, filled, one execution and one commission', async () => {
    r = await rig();
    const req = order([{ contract: put440, action: 'BUY' }], 2, 1.3, 0);
    const ack = await r.ib.placeOrder(req);
    assert.match(ack.orderId, /^\d+$/);
    const filled = await r.rec.waitFor('order-status', (s) => s.status === 'filled');
    assert.equal(filled.orderId, ack.orderId);
    assert.equal(filled.orderRef, req.ref);
    assert.equal(filled.filledQty, 2);
    assert.equal(filled.avgFillPrice, 1.3);
    const x = await r.rec.waitFor('execution');
    assert.deepEqual([x.orderId, x.orderRef, x.side, x.qty, x.price, x.liquidation], [ack.orderId, req.ref, 'BUY', 2, 1.3, false]);
    assert.deepEqual(x.contract, put440);
    assert.ok(Math.abs(x.tsEvent - t0) < 60_000, 'execution time from the TWS time string');
    const c = await r.rec.waitFor('commission');
    assert.equal(c.execId, x.execId);
    const sent = r.broker.placed[0]!;
    assert.deepEqual([sent.ref, sent.limitPrice, sent.quantity, sent.legs[0]!.action], [req.ref, 1.3, 2, 'BUY']);
    assert.equal(r.rec.of('execution').length, 1);
    assert.equal(r.rec.of('commission').length, 1);
  });

  test('a combo order: conIds fetched, one BAG at the net credit, the broker sees the legs as defined', async () => {
    r = await rig();
    const req = order([{ contract: put440, action: 'SELL' }, { contract: put435, action: 'BUY' }], 1, -0.55, 2);
    const ack = await r.ib.placeOrder(req);
    await r.rec.waitFor('order-status', (s) => s.orderId === ack.orderId && s.status === 'filled');
    const sent = r.broker.placed[0]!;
    assert.deepEqual(sent.legs.map((l) => [l.contract, l.action, l.ratio]), [[put440, 'SELL', 1], [put435, 'BUY', 1]]);
    assert.equal(sent.limitPrice, -0.55);
    assert.equal(r.rec.of('execution').length, 2, 'one execution per leg, none for the BAG');
  });

  test('a reject: order-status rejected with IB code and reason; a cancel: cancelled', async () => {
    r = await rig();
    r.broker.fillMode = 'reject';
    const bad = await r.ib.placeOrder(order([{ contract: put440, action: 'BUY' }], 1, 1.3));
    const rej = await r.rec.waitFor('order-status', (s) => s.orderId === bad.orderId && s.status === 'rejected');
    assert.equal(rej.code, 201);
    assert.match(rej.reason!, /no liquidity/);
    r.broker.fillMode = 'working';
    const ok = await r.ib.placeOrder(order([{ contract: put440, action: 'BUY' }], 1, 1.0));
    await r.rec.waitFor('order-status', (s) => s.orderId === ok.orderId && s.status === 'working');
    await r.ib.cancelOrder(ok.orderId);
    const cx = await r.rec.waitFor('order-status', (s) => s.orderId === ok.orderId && s.status === 'cancelled');
    assert.equal(cx.code, 202);
    assert.equal(r.rec.of('order-status').filter((s) => s.orderId === bad.orderId).length, 1, 'nothing after a terminal status');
    await assert.rejects(r.ib.cancelOrder(BrokerOrderId.unsafe('perm-77')), /was not placed by this client/);
  });

  test('orders the gateway refuses become rejected with the code (a contract the broker does not trade: 200)', async () => {
    r = await rig();
    const ghost = option({ symbol: 'ZZZZ', right: 'P', strike: 10, expiry: '2026-01-30' });
    const ack = await r.ib.placeOrder(order([{ contract: ghost, action: 'BUY' }], 1, 1));
    const rej = await r.rec.waitFor('order-status', (s) => s.orderId === ack.orderId);
    assert.deepEqual([rej.status, rej.code], ['rejected', 200]);
    await assert.rejects(r.ib.placeOrder({ ...order([{ contract: put440, action: 'BUY' }], 1, 1), account: AccountId.unsafe('U1') }), (e) => LegguardError.is(e, 'INVALID_INPUT') && /account U1/.test(e.message));
    await assert.rejects(r.ib.placeOrder(order([{ contract: ghost, action: 'BUY' }, { contract: put440, action: 'SELL' }], 1, 1)), /share one underlying/);
  });

  test('quotes: bid, ask, last and the underlying; none: null; an unknown contract: NOT_FOUND', async () => {
    r = await rig();
    const q = await r.ib.quote(put440);
    assert.deepEqual([q?.bid, q?.ask, q?.last, q?.underlying], [1.2, 1.3, 1.25, 445.01]);
    assert.equal(await r.ib.quote(call460), null);
    await assert.rejects(r.ib.quote(option({ symbol: 'ZZZZ', right: 'C', strike: 1, expiry: '2026-01-30' })), (e) => LegguardError.is(e, 'NOT_FOUND'));
  });

  test('underlying: the price and the next dividend from generic tick 456; an index: price only', async () => {
    r = await rig();
    const u = await r.ib.underlying('SPY');
    assert.equal(u.price, 445.01);
    assert.deepEqual(u.dividends, [{ exDate: '2026-03-20', amount: 1.74 }]);
    const x = await r.ib.underlying('SPX');
    assert.deepEqual([x.price, x.dividends], [5010, []]);
  });

  test('a manual trade by the account holder: execution with no order id and no ref', async () => {
    r = await rig();
    r.broker.manualTrade(put440, 'SELL', 1, 1.2);
    const x = await r.rec.waitFor('execution');
    assert.deepEqual([x.orderId, x.orderRef, x.side, x.qty], [null, null, 'SELL', 1]);
  });

  test('connect refuses an account this login does not manage, naming the accounts it does', async () => {
    r = await rig({ connect: false });
    const other = new IbBroker({ host: '127.0.0.1', port: r.rg.port, clientId: 30, account: AccountId.unsafe('U7654321'), clock: new OffsetClock(t0) });
    await assert.rejects(other.connect(), (e) => LegguardError.is(e, 'INVALID_INPUT') && /account U7654321 is not managed .* \(it manages DU0000001\)/.test(e.message));
    assert.equal(other.isConnected(), false);
  });

  test('connect gives up after its timeout when nothing listens, naming the address and the cause', async () => {
    const srv = createServer();
    await new Promise<void>((res) => srv.listen(0, '127.0.0.1', () => res()));
    const port = (srv.address() as { port: number }).port;
    await new Promise<void>((res) => srv.close(() => res()));
    const ib = new IbBroker({ host: '127.0.0.1', port, clientId: 1, account: AccountId.unsafe(ACCT), clock: new OffsetClock(t0), connectTimeoutMs: 150, backoff: { initialMs: 20, maxMs: 40 } });
    await assert.rejects(ib.connect(), (e) => LegguardError.is(e, 'BROKER_DISCONNECTED') && new RegExp(`127\\.0\\.0\\.1:${port}.*ECONNREFUSED`).test(e.message));
    await assert.rejects(ib.snapshot({ executionsSince: null }), (e) => LegguardError.is(e, 'BROKER_DISCONNECTED'));
  });

  test('commands while disconnected reject with BROKER_DISCONNECTED and send nothing', async () => {
    r = await rig();
    await r.ib.disconnect();
    await assert.rejects(r.ib.placeOrder(order([{ contract: put440, action: 'BUY' }], 1, 1.3)), (e) => LegguardError.is(e, 'BROKER_DISCONNECTED'));
    assert.equal(r.broker.placed.length, 0);
    assert.deepEqual(r.rec.of('connection').map((c) => c.state), ['connected', 'disconnected']);
  });
});
