// Issue 16: several accounts behind one login at the sim gateway, and the IB adapter of each account seeing only its
// own: the two accounts hold the same contract in different sizes, and use the same order ref.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventName } from '@stoqey/ib';
import { SystemClock } from '../../src/adapters/clock/system-clock.js';
import { IbBroker } from '../../src/adapters/ib/ib-broker.js';
import { parseScenario } from '../../src/adapters/sim/load-scenario.js';
import { ScenarioRun } from '../../src/adapters/sim/scenario-run.js';
import { simLoginBackend } from '../../src/adapters/tws-sim/sim-backend.js';
import { contractKey, option, stock, type Contract } from '../../src/core/contract.js';
import type { BrokerEvent } from '../../src/core/events.js';
import { AccountId, IncidentId, OrderRef, StrategyId } from '../../src/core/ids.js';
import type { OrderAction, OrderRequest } from '../../src/core/order.js';
import { Price, Qty } from '../../src/core/quantity.js';
import { startGateway, TestClient, type RunningGateway } from './harness.js';

const A = AccountId.unsafe('DU0000001');
const B = AccountId.unsafe('DU0000002');
const put440 = option({ symbol: 'SPY', right: 'P', strike: 440, expiry: '2026-02-20' });
const spy = stock('SPY');

function scenario(account: string): ScenarioRun['scenario'] {
  return parseScenario(
    [
      `name: login ${account}`,
      'start: "2026-01-28T10:00:00-05:00"',
      `account: ${account}`,
      'underlyings: { SPY: { price: 436.10, volatility: 0.18 } }',
      'fills: { mode: immediate }',
      'until: "2026-01-28T16:00:00-05:00"',
    ].join('\n'),
    '(test)',
  );
}

/** The same ref in both accounts: the same strategy id and incident (identical books in two accounts). */
function order(account: AccountId, contract: Contract, action: OrderAction, qty: number, limit: number): OrderRequest {
  return {
    ref: OrderRef.unsafe('lg/ic/ic:assignment:1/g0/1'),
    strategyId: StrategyId.unsafe('ic'),
    incidentId: IncidentId.unsafe('ic:assignment:1'),
    account,
    legs: [{ contract, action, ratio: 1 }],
    quantity: Qty.unsafe(qty),
    orderType: 'LMT',
    limitPrice: Price.unsafe(limit),
    outsideRth: false,
    purpose: 'emergency',
    tier: 0,
  };
}

const held = (ps: readonly { contract: Contract; qty: number }[]): [string, number][] =>
  ps.filter((p) => p.qty !== 0).map((p) => [contractKey(p.contract), p.qty] as [string, number]).sort((x, y) => (x[0] < y[0] ? -1 : 1));

describe('one login, two accounts (sim gateway + IB adapter)', () => {
  const runA = new ScenarioRun(scenario(A));
  const runB = new ScenarioRun(scenario(B), { clock: runA.clock, market: runA.market, idSpace: 1 });
  runA.broker.setPosition(put440, -2, 300);
  runB.broker.setPosition(put440, -5, 300);
  runB.broker.setPosition(spy, 100, 436);
  let rg: RunningGateway;
  let ibA: IbBroker;
  let ibB: IbBroker;
  const eventsA: BrokerEvent[] = [];
  const eventsB: BrokerEvent[] = [];
  const settle = async (until: () => boolean): Promise<void> => {
    for (let i = 0; i < 60 && !until(); i++) {
      await runA.clock.advanceTo(runA.clock.now() + 1000, () => new Promise((r) => setImmediate(r)));
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  before(async () => {
    await runA.clock.advanceTo(runA.clock.now(), () => new Promise((r) => setImmediate(r)));
    rg = await startGateway(simLoginBackend([runA.broker, runB.broker]));
    ibA = new IbBroker({ host: '127.0.0.1', port: rg.port, clientId: 17, account: A, clock: new SystemClock(), connectTimeoutMs: 5000 });
    ibB = new IbBroker({ host: '127.0.0.1', port: rg.port, clientId: 18, account: B, clock: new SystemClock(), connectTimeoutMs: 5000 });
    ibA.subscribe((e) => eventsA.push(e));
    ibB.subscribe((e) => eventsB.push(e));
    await ibA.connect();
    await ibB.connect();
  });
  after(async () => {
    await ibA.disconnect();
    await ibB.disconnect();
    await rg.gw.stop();
  });

  test('the login lists both accounts; each adapter sees its own positions of the same contract', async () => {
    const c = await TestClient.connect(rg.port, 5);
    try {
      c.ib.reqManagedAccts();
      const [list] = await c.waitFor(EventName.managedAccounts);
      assert.equal(list, `${A},${B}`);
    } finally {
      c.close();
    }
    const [a, b] = [await ibA.snapshot({ executionsSince: null }), await ibB.snapshot({ executionsSince: null })];
    assert.deepEqual(held(a.positions), [[contractKey(put440), -2]]);
    assert.deepEqual(held(b.positions), [[contractKey(put440), -5], [contractKey(spy), 100]]);
    assert.ok(a.positions.every((p) => p.account === A) && b.positions.every((p) => p.account === B));
  });

  test("an order goes to the account it names; the other account's orders, fills and positions never reach an adapter, though the refs are the same", async () => {
    const q = await runA.broker.quote(put440);
    // B's order rests (far below the market); A's fills at the ask: the same ref in both accounts.
    const restB = await ibB.placeOrder(order(B, put440, 'BUY', 1, 0.05));
    const fillA = await ibA.placeOrder(order(A, put440, 'BUY', 1, q!.ask! + 1));
    await settle(() => eventsA.some((e) => e.kind === 'order-status' && e.orderId === fillA.orderId && e.status === 'filled'));
    assert.ok(eventsA.some((e) => e.kind === 'order-status' && e.orderId === fillA.orderId && e.status === 'filled'), 'A filled');

    assert.deepEqual(held(runA.broker.allPositions()), [[contractKey(put440), -1]]);
    assert.deepEqual(held(runB.broker.allPositions()), [[contractKey(put440), -5], [contractKey(spy), 100]], "B's account untouched by A's order");
    const [a, b] = [await ibA.snapshot({ executionsSince: null }), await ibB.snapshot({ executionsSince: null })];
    assert.deepEqual(held(a.positions), [[contractKey(put440), -1]]);
    assert.deepEqual(held(b.positions), [[contractKey(put440), -5], [contractKey(spy), 100]]);
    assert.deepEqual(a.executions.map((x) => [x.account, x.orderId, x.qty]), [[A, fillA.orderId, 1]]);
    assert.deepEqual(b.executions, []);
    // TWS lists every client's open orders to each (reqAllOpenOrders): B's resting order, with A's ref, is not A's.
    assert.deepEqual(a.openOrders.map((o) => o.orderId), []);
    assert.deepEqual(b.openOrders.map((o) => [o.orderId, o.account, o.status]), [[restB.orderId, B, 'working']]);
    assert.ok(eventsA.every((e) => !('account' in e) || e.account === A), "no event of B's account reached A's adapter");
    assert.ok(eventsB.every((e) => !('account' in e) || e.account === B));
    // Commission reports name no account: A's never reach B's adapter (TWS sends them wherever the execution went).
    const execsA = new Set(eventsA.flatMap((e) => (e.kind === 'execution' ? [e.execId as string] : [])));
    await settle(() => eventsA.some((e) => e.kind === 'commission'));
    assert.ok(eventsA.some((e) => e.kind === 'commission' && execsA.has(e.execId)), "A's commission reached A");
    assert.deepEqual(eventsB.filter((e) => e.kind === 'commission' && execsA.has(e.execId)), [], "A's commission never reached B's adapter");
    // Each adapter numbers its own orders (both may have an order 1): each heard of its own order only.
    assert.ok(eventsA.every((e) => e.kind !== 'order-status' || e.orderId === fillA.orderId), "B's order's status never reached A's adapter");
    assert.ok(eventsB.every((e) => e.kind !== 'order-status' || e.orderId === restB.orderId), "A's order's status never reached B's adapter");
    await ibB.cancelOrder(restB.orderId);
    await settle(() => eventsB.some((e) => e.kind === 'order-status' && e.orderId === restB.orderId && e.status === 'cancelled'));
    assert.ok(eventsB.some((e) => e.kind === "order-status" && e.orderId === restB.orderId && e.status === "cancelled"), `${JSON.stringify(eventsB.filter((e) => e.kind === "order-status"))}\n${rg.log.slice(-15).join("\n")}`);
  });

  test('an order or account request naming an account the login does not manage is refused', async () => {
    await assert.rejects(
      async () => {
        const ack = await ibA.placeOrder(order(A, put440, 'BUY', 1, 0.05));
        await ibA.cancelOrder(ack.orderId);
        // The adapter checks an order's account against its own: one for another account is refused before it is sent.
        await ibA.placeOrder(order(AccountId.unsafe('DU0000009'), put440, 'BUY', 1, 0.05));
      },
      /account/,
    );
  });
});
