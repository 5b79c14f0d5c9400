// The gateway logs every order a client sends, by the client's own ref, before any check: the crash drills count
// what reached the broker from it (a ref sent twice is a double order, whatever the broker then made of it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventName, OptionType, OrderAction, OrderType, SecType, TimeInForce, type Order } from '@stoqey/ib';
import { option } from '../../src/core/contract.js';
import { MemoryBroker, t0 } from './memory-broker.js';
import { OffsetClock, startGateway, TestClient } from './harness.js';

const ACCT = 'DU0000001';

function sell(ref: string): Order {
  return { action: OrderAction.SELL, totalQuantity: 1, orderType: OrderType.LMT, lmtPrice: 2, orderRef: ref, transmit: true, account: ACCT, tif: TimeInForce.DAY };
}

test('every order a client places is logged with its client, id and ref, a refused one too', async () => {
  const broker = new MemoryBroker(ACCT, new OffsetClock(t0));
  broker.setUnderlying('SPY', 445.1);
  broker.setQuote(option({ symbol: 'SPY', right: 'P', strike: 435, expiry: '2026-01-30' }), 0.6, 0.7, 0.65, 445.01);
  const rg = await startGateway(broker.backend());
  const c = await TestClient.connect(rg.port, 7);
  try {
    const put435 = { symbol: 'SPY', secType: SecType.OPT, lastTradeDateOrContractMonth: '20260130', strike: 435, right: OptionType.Put, multiplier: 100, exchange: 'SMART', currency: 'USD' };
    c.ib.placeOrder(1, put435, sell('lg/ic-spy/inc-1/t3.SPY.P435.260130/0'));
    await c.waitFor(EventName.orderStatus, (a) => a[0] === 1);
    // The same id again: refused with 103, and still logged (it reached the gateway).
    c.ib.placeOrder(1, put435, sell('lg/ic-spy/inc-1/t3.SPY.P435.260130/1'));
    await c.waitFor(EventName.error, (a) => a[1] === 103);
    const placed = rg.log.filter((l) => l.startsWith('client 7 placed order'));
    assert.deepEqual(placed, [
      'client 7 placed order 1 lg/ic-spy/inc-1/t3.SPY.P435.260130/0: SELL 1 SPY OPT',
      'client 7 placed order 1 lg/ic-spy/inc-1/t3.SPY.P435.260130/1: SELL 1 SPY OPT',
    ]);
  } finally {
    c.close();
    await rg.gw.stop();
  }
});
