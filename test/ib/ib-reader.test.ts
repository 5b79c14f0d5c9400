// `legguard risk --config` reads the broker through `ibReader`: it must not be able to send an order, a cancel or an
// exercise. The reader has no such method; the IbBroker behind it refuses them before anything is sent.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SystemClock } from '../../src/adapters/clock/system-clock.js';
import { ibReader } from '../../src/adapters/ib/ib-reader.js';
import { LegguardError } from '../../src/core/errors.js';
import { AccountId, BrokerOrderId, IncidentId, OrderRef, StrategyId } from '../../src/core/ids.js';
import type { OrderRequest } from '../../src/core/order.js';
import { Price, Qty } from '../../src/core/quantity.js';
import { ACCT, put435, put440, rig, type Rig } from './ib-harness.js';

const order: OrderRequest = {
  ref: OrderRef.unsafe('lg/s/inc-1/g0/1'),
  strategyId: StrategyId.unsafe('s'),
  incidentId: IncidentId.unsafe('inc-1'),
  account: AccountId.unsafe(ACCT),
  legs: [{ contract: put440, action: 'BUY', ratio: 1 }],
  quantity: Qty.unsafe(1),
  orderType: 'LMT',
  limitPrice: Price.unsafe(1.3),
  outsideRth: false,
  purpose: 'emergency',
  tier: 0,
};

describe('IB read-only', () => {
  let r: Rig | null = null;
  afterEach(async () => {
    await r?.stop();
    r = null;
  });

  test('the reader offers only reads', () => {
    const reader = ibReader({ host: '127.0.0.1', port: 7497, clientId: 1017, account: AccountId.unsafe(ACCT), clock: new SystemClock() });
    assert.deepEqual(Object.keys(reader).sort(), ['account', 'connect', 'currentTime', 'disconnect', 'name', 'positions', 'quote', 'underlying']);
    assert.ok(Object.isFrozen(reader));
  });

  test('a read-only IbBroker, connected, refuses orders, cancels and exercises; the gateway gets none; reads work', async () => {
    r = await rig({ ib: { readOnly: true }, setup: (b) => b.setPosition(put440, -2, 150) });
    const refused = (e: unknown): boolean => LegguardError.is(e, 'BROKER_REJECTED') && /read-only/.test(e.message);
    await assert.rejects(r.ib.placeOrder(order), refused);
    await assert.rejects(r.ib.cancelOrder(BrokerOrderId.unsafe('1')), refused);
    await assert.rejects(
      r.ib.exerciseOptions({ ref: order.ref, account: AccountId.unsafe(ACCT), contract: put435, quantity: Qty.unsafe(1), action: 'exercise', override: false }),
      refused,
    );
    const snap = await r.ib.snapshot({ executionsSince: null });
    assert.deepEqual(snap.positions.map((p) => p.qty), [-2]);
    assert.equal((await r.ib.quote(put440))?.bid, 1.2);
    assert.deepEqual(r.broker.placed, []);
    assert.deepEqual(r.broker.exerciseRequests, []);
  });
});
