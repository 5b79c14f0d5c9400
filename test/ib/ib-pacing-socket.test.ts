// IB disconnects a client that writes more than about 50 messages a second. The adapter writes every message through
// one pacer (adapters/ib/ib-connection.ts): new orders, cancels and re-prices (a cancel and a new order), and the data
// requests of its start. Counted where the socket would see them, on a fake transport, on the virtual clock: no
// second holds more than the limit, whatever the mix, and cancels go ahead of orders queued behind them.
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventName, type IBApi } from '@stoqey/ib';
import { VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { IbBroker } from '../../src/adapters/ib/ib-broker.js';
import { option, stock, type Contract } from '../../src/core/contract.js';
import { AccountId, IncidentId, OrderRef, StrategyId, type BrokerOrderId } from '../../src/core/ids.js';
import type { OrderRequest, RiskTier } from '../../src/core/order.js';
import { Price, Qty } from '../../src/core/quantity.js';

const ACCT = 'DU0000001';
const LIMIT = 50;

/** An IBApi that writes nothing anywhere: it records each request as the message it would put on the socket. */
class FakeTransport extends EventEmitter {
  readonly written: { at: number; what: string }[] = [];
  readonly serverVersion = 176;
  constructor(private readonly clock: VirtualClock) {
    super();
  }
  connect(): this {
    queueMicrotask(() => {
      this.emit(EventName.connected);
      this.emit(EventName.nextValidId, 1);
      this.emit(EventName.managedAccounts, ACCT);
    });
    return this;
  }
  disconnect(): this {
    return this;
  }
  asApi(): IBApi {
    // Every other IBApi method is a request: one message written.
    return new Proxy(this, {
      get: (target, p, receiver) => {
        if (typeof p === 'string' && !(p in target)) {
          return () => {
            target.written.push({ at: this.clock.now(), what: p });
          };
        }
        return Reflect.get(target, p, receiver) as unknown;
      },
    }) as unknown as IBApi;
  }
}

function order(i: number, contract: Contract, tier: RiskTier, attempt = 0): OrderRequest {
  return {
    ref: OrderRef.unsafe(`lg/s${i}/inc-${i}/g${tier}/${attempt}`),
    strategyId: StrategyId.unsafe(`s${i}`),
    incidentId: IncidentId.unsafe(`inc-${i}`),
    account: AccountId.unsafe(ACCT),
    legs: [{ contract, action: 'SELL', ratio: 1 }],
    quantity: Qty.unsafe(1),
    orderType: 'LMT',
    limitPrice: Price.unsafe(1.25),
    outsideRth: false,
    purpose: 'emergency',
    tier,
  };
}

/** The most messages written in any window of 1,000 ms. */
function busiestSecond(at: readonly number[]): number {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < at.length; hi++) {
    while (at[hi]! - at[lo]! >= 1000) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

test('orders, cancels and re-prices of a burst never put more than 50 messages in any second on the socket', async () => {
  const clock = new VirtualClock(Date.parse('2026-01-27T10:00:00-05:00'));
  const transport = new FakeTransport(clock);
  const broker = new IbBroker({ host: '127.0.0.1', port: 4002, clientId: 7, account: AccountId.unsafe(ACCT), clock, maxMessagesPerSecond: LIMIT, createApi: () => transport.asApi() });
  await broker.connect();
  const put = (i: number): Contract => option({ symbol: 'SPY', right: 'P', strike: 400 + (i % 40), expiry: '2026-02-20' });
  const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  // 150 new orders at once, of every tier; then each third is cancelled, and each third after that re-priced (its
  // cancel, and a new order at another price), while the first ones still wait for their slots.
  const placed: Promise<BrokerOrderId>[] = [];
  for (let i = 0; i < 150; i++) placed.push(broker.placeOrder(order(i, i % 5 === 0 ? stock('SPY') : put(i), ((i % 4) as RiskTier))).then((a) => a.orderId));
  const follow: Promise<unknown>[] = [];
  for (let i = 0; i < 150; i++) {
    if (i % 3 === 0) follow.push(placed[i]!.then((id) => broker.cancelOrder(id)));
    if (i % 3 === 1) follow.push(placed[i]!.then(async (id) => {
      await broker.cancelOrder(id);
      await broker.placeOrder(order(i, put(i), 3, 1));
    }));
  }
  let done = false;
  void Promise.all([...placed, ...follow]).then(() => {
    done = true;
  });
  for (let s = 0; s < 600 && !done; s++) {
    await settled();
    await clock.advanceTo(clock.now() + 100, settled);
  }
  assert.ok(done, 'every order, cancel and re-price went out');

  const kinds = (what: string): number => transport.written.filter((w) => w.what === what).length;
  assert.equal(kinds('placeOrder'), 150 + 50, 'new orders and re-priced ones');
  assert.equal(kinds('cancelOrder'), 50 + 50, 'cancels, and the cancels of re-prices');
  const at = transport.written.map((w) => w.at);
  assert.deepEqual(at, [...at].sort((a, b) => a - b), 'written in time order');
  // The start's requests count too; the burst fills every slot it may and no more.
  assert.equal(busiestSecond(at), LIMIT, `busiest second: ${busiestSecond(at)} messages`);
  broker.disconnect();
});

test('cancels waiting for a slot go before orders waiting for one', async () => {
  const clock = new VirtualClock(Date.parse('2026-01-27T10:00:00-05:00'));
  const transport = new FakeTransport(clock);
  const broker = new IbBroker({ host: '127.0.0.1', port: 4002, clientId: 7, account: AccountId.unsafe(ACCT), clock, maxMessagesPerSecond: 5, createApi: () => transport.asApi() });
  await broker.connect();
  const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  await clock.advanceTo(clock.now() + 2000, settled);
  const from = transport.written.length;
  const orders = Array.from({ length: 12 }, (_, i) => broker.placeOrder(order(i, stock('SPY'), 1)));
  // The first five went at once; two of them are cancelled while seven orders still wait.
  const first = await Promise.all(orders.slice(0, 5));
  const cancels = [broker.cancelOrder(first[0]!.orderId), broker.cancelOrder(first[1]!.orderId)];
  for (let s = 0; s < 50; s++) await clock.advanceTo(clock.now() + 100, settled);
  await Promise.all([...orders, ...cancels]);
  const seq = transport.written.slice(from).map((w) => w.what);
  assert.deepEqual(seq, [...Array<string>(5).fill('placeOrder'), 'cancelOrder', 'cancelOrder', ...Array<string>(7).fill('placeOrder')]);
  assert.ok(busiestSecond(transport.written.slice(from).map((w) => w.at)) <= 5);
  broker.disconnect();
});
