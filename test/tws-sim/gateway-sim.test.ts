import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventName, OptionType, OrderAction, OrderType, SecType, type Contract as IbContract, type Execution } from '@stoqey/ib';
import { simBackend } from '../../src/adapters/tws-sim/sim-backend.js';
import { IsoDate } from '../../src/core/contract.js';
import { makeSim, spy, SPY } from '../sim/fixtures.js';
import { startGateway, TestClient } from './harness.js';

/**
 * The gateway in front of legguard's simulator on a virtual clock: what the simulator does (an assignment posted
 * overnight, a fill, a manual trade) reaches a real @stoqey/ib client as IB would show it.
 */
test('gateway + SimBroker: an overnight assignment arrives as position changes; orders fill; dividends tick', async () => {
  const f = await makeSim({
    start: '2026-01-27T10:00:00-05:00',
    underlyings: [{ symbol: 'SPY', price: 436, volatility: 0.18, dividends: [{ exDate: IsoDate.unsafe('2026-03-20'), amount: 1.74 }] }],
  });
  const put440 = spy('P', 440);
  f.sim.setPosition(put440, -2, 300);
  await f.settle();
  const rg = await startGateway(simBackend(f.sim));
  const c = await TestClient.connect(rg.port, 1);
  try {
    c.ib.reqPositions();
    await c.waitFor(EventName.positionEnd);
    assert.deepEqual(c.all(EventName.position).map((a) => [(a[1] as IbContract).strike, a[2]]), [[440, -2]]);

    const m = c.mark();
    f.sim.postAssignment(put440, 2);
    await f.settle();
    await c.waitFor(EventName.position, (a) => (a[1] as IbContract).secType === SecType.STK, m);
    assert.deepEqual(
      c.all(EventName.position, m).map((a) => [(a[1] as IbContract).secType, a[2]]),
      [[SecType.OPT, 0], [SecType.STK, 200]],
      'the option leaves, the stock arrives (no execution)',
    );
    assert.equal(c.all(EventName.execDetails, m).length, 0);

    const m2 = c.mark();
    const q = await f.sim.quote(SPY);
    c.ib.placeOrder(1, { symbol: 'SPY', secType: SecType.STK, exchange: 'SMART', currency: 'USD' }, {
      action: OrderAction.SELL,
      totalQuantity: 200,
      orderType: OrderType.LMT,
      lmtPrice: q!.bid!,
      orderRef: 'lg/ic-spy/inc-1/g0/1',
      transmit: true,
    });
    // The simulator delivers on its clock: let it run while the client's order travels.
    for (let i = 0; i < 50 && c.all(EventName.orderStatus, m2).every((a) => a[1] !== 'Filled'); i++) {
      await new Promise((r) => setTimeout(r, 5));
      await f.settle();
    }
    const x = c.all(EventName.execDetails, m2)[0]![2] as Execution;
    assert.equal(x.side, 'SLD');
    assert.equal(x.shares, 200);
    assert.equal(x.orderRef, 'lg/ic-spy/inc-1/g0/1');
    assert.equal(f.sim.position(SPY), 0);

    c.ib.reqMktData(5, { symbol: 'SPY', secType: SecType.STK, exchange: 'SMART', currency: 'USD' }, '456', false, false);
    const [, , div] = (await c.waitFor(EventName.tickString, (a) => a[0] === 5)) as [number, number, string];
    assert.equal(div, '0,1.74,20260320,1.74');
    c.ib.reqContractDetails(6, { symbol: 'SPY', secType: SecType.OPT, lastTradeDateOrContractMonth: '20260130', strike: 440, right: OptionType.Put, exchange: 'SMART', currency: 'USD' });
    await c.waitFor(EventName.contractDetailsEnd, (a) => a[0] === 6);
    assert.deepEqual(c.decodeFailures(), []);
    assert.deepEqual(rg.protocolErrors, []);
  } finally {
    c.close();
    await rg.gw.stop();
  }
});
