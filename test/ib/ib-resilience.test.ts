import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { AccountId, IncidentId, OrderRef, StrategyId } from '../../src/core/ids.js';
import type { OrderRequest, RiskTier } from '../../src/core/order.js';
import { Price, Qty } from '../../src/core/quantity.js';
import { LegguardError } from '../../src/core/errors.js';
import type { Contract } from '../../src/core/contract.js';
import { TestClient } from '../tws-sim/harness.js';
import { t0 } from '../tws-sim/memory-broker.js';
import { ACCT, put435, put440, rig, spy, type Rig } from './ib-harness.js';

let seq = 0;
function buy(contract: Contract, qty: number, limit: number, tier: RiskTier = 0): OrderRequest {
  seq++;
  return {
    ref: OrderRef.unsafe(`lg/s/inc-${seq}/g${tier}/1`),
    strategyId: StrategyId.unsafe('s'),
    incidentId: IncidentId.unsafe(`inc-${seq}`),
    account: AccountId.unsafe(ACCT),
    legs: [{ contract, action: 'BUY', ratio: 1 }],
    quantity: Qty.unsafe(qty),
    orderType: 'LMT',
    limitPrice: Price.unsafe(limit),
    outsideRth: false,
    purpose: 'emergency',
    tier,
  };
}

describe('IB adapter: connection faults', () => {
  let r: Rig | null = null;
  afterEach(async () => {
    await r?.stop();
    r = null;
  });

  test('a dropped connection: disconnected, reconnect with backoff, connected with dataLost, streams resume', async () => {
    r = await rig({ setup: (b) => b.setPosition(put440, -2, 150) });
    const m = r.rec.mark();
    r.rg.gw.dropConnections();
    await r.rec.waitFor('connection', (c) => c.state === 'disconnected', m);
    // While the guard is away an assignment posts: it must show up once the connection is back.
    r.broker.setPosition(put440, 0);
    r.broker.setPosition(spy, 200, 440);
    const back = await r.rec.waitFor('connection', (c) => c.state === 'connected', m);
    assert.equal(back.dataLost, true, 'a reconnect lost whatever was sent meanwhile: reconcile');
    const snap = await r.ib.snapshot({ executionsSince: null });
    assert.deepEqual(snap.positions.map((p) => [p.contract.secType, p.qty]), [['STK', 200]]);
    const m2 = r.rec.mark();
    r.broker.setPosition(spy, 100, 440);
    await r.rec.waitFor('position', (p) => p.qty === 100, m2);
    assert.ok(r.log.some((l) => /reconnecting in \d+ ms/.test(l)));
  });

  test('connections refused for a while (a restart, the nightly reset): retries until TWS is back', async () => {
    r = await rig();
    const m = r.rec.mark();
    r.rg.gw.refuseConnections(true);
    r.rg.gw.dropConnections();
    await r.rec.waitFor('connection', (c) => c.state === 'disconnected', m);
    await new Promise((res) => setTimeout(res, 120));
    assert.equal(r.ib.isConnected(), false);
    r.rg.gw.refuseConnections(false);
    await r.rec.waitFor('connection', (c) => c.state === 'connected', m);
    assert.ok(r.rg.log.filter((l) => /refused a connection/.test(l)).length >= 2, 'it kept trying');
  });

  test('1100: disconnected and commands refused; 1102: connected, data kept; 1101: connected, data lost, resubscribed', async () => {
    r = await rig();
    let m = r.rec.mark();
    r.rg.gw.notice(1100);
    const down = await r.rec.waitFor('connection', () => true, m);
    assert.deepEqual([down.state, down.dataLost], ['disconnected', false]);
    assert.match(down.reason!, /1100/);
    assert.equal(r.ib.isConnected(), false);
    await assert.rejects(r.ib.placeOrder(buy(put440, 1, 1.3)), (e) => LegguardError.is(e, 'BROKER_DISCONNECTED') && /1100/.test(e.message));
    r.rg.gw.notice(1102);
    const up = await r.rec.waitFor('connection', (c) => c.state === 'connected', m);
    assert.equal(up.dataLost, false);

    m = r.rec.mark();
    r.rg.gw.notice(1100);
    r.rg.gw.notice(1101);
    const lost = await r.rec.waitFor('connection', (c) => c.state === 'connected', m);
    assert.equal(lost.dataLost, true);
    // TWS dropped the position subscription on 1101; the adapter made it again, so changes flow.
    const m2 = r.rec.mark();
    r.broker.setPosition(put435, 3, 70);
    await r.rec.waitFor('position', (p) => p.qty === 3, m2);
    r.rg.gw.notice(2110);
    const n = await r.rec.waitFor('notice', (x) => x.code === 2110);
    assert.match(n.message, /will be restored automatically/);
  });

  test('garbage from TWS (a message id no one knows): a notice, and the connection keeps working', async () => {
    r = await rig();
    r.rg.gw.sendGarbage(Buffer.from([0, 0, 0, 6, 0x39, 0x39, 0x39, 0, 0x31, 0]));
    const n = await r.rec.waitFor('notice', (x) => /No parser implementation/.test(x.message));
    assert.equal(n.orderId, null);
    const ack = await r.ib.placeOrder(buy(put440, 1, 1.3));
    await r.rec.waitFor('order-status', (s) => s.orderId === ack.orderId && s.status === 'filled');
  });

  test('a frame cut short, then the socket closes: the adapter reconnects; nothing throws', async () => {
    r = await rig();
    const m = r.rec.mark();
    r.rg.gw.sendGarbage(Buffer.from([0, 0, 0, 40, 0x31, 0]));
    r.rg.gw.dropConnections();
    await r.rec.waitFor('connection', (c) => c.state === 'connected', m);
    assert.equal(r.ib.isConnected(), true);
  });

  test('duplicated and reordered messages: every execution arrives (repeats are dropped once, by execId, in the engine), no status goes back from filled', async () => {
    r = await rig();
    r.rg.gw.shapeOutgoing({ duplicateRate: 0.6, reorderWindow: 3, reorderFlushMs: 5, seed: 3 });
    const acks = [];
    for (let i = 0; i < 4; i++) acks.push(await r.ib.placeOrder(buy(put440, 1, 1.3)));
    for (const a of acks) await r.rec.waitFor('order-status', (s) => s.orderId === a.orderId && s.status === 'filled');
    r.rg.gw.shapeOutgoing(null);
    const ids = r.rec.of('execution').map((x) => x.execId);
    assert.equal(new Set(ids).size, 4, 'the execution of every order arrived');
    assert.ok(ids.length >= 4, 'duplicates pass: the engine, which must drop the repeats a reconciliation brings anyway, drops them');
    const statuses = r.rec.of('order-status');
    for (const a of acks) {
      const seqOf: string[] = statuses.filter((s) => s.orderId === a.orderId).map((s) => s.status);
      assert.equal(seqOf.at(-1), 'filled', `order ${a.orderId}: ${seqOf.join(' > ')}`);
      assert.equal(seqOf.filter((s) => s === 'filled').length, 1);
    }
  });

  test('a client id already in use: connect keeps trying, then fails naming the id', async () => {
    r = await rig({ connect: false, ib: { connectTimeoutMs: 250 } });
    const squatter = await TestClient.connect(r.rg.port, 17);
    try {
      await assert.rejects(r.ib.connect(), (e) => LegguardError.is(e, 'BROKER_DISCONNECTED') && /client id 17 is already in use/.test(e.message));
    } finally {
      squatter.close();
    }
  });
});

describe('IB adapter: pacing', () => {
  test('orders queue below the message limit and leave most dangerous first', async () => {
    const clock = new VirtualClock(t0);
    const r = await rig({ clock, ib: { maxMessagesPerSecond: 2 } });
    try {
      // The two subscriptions made at connect used this second's slots: everything now queues.
      const tiers: RiskTier[] = [3, 2, 1, 0, 3, 0];
      const sent = tiers.map((t) => r.ib.placeOrder(buy(put440, 1, 1.3, t)));
      await new Promise((res) => setImmediate(res));
      assert.equal(r.broker.placed.length, 0);
      for (let i = 0; i < 3; i++) {
        await clock.advanceTo(clock.now() + 1000);
        await Promise.race([Promise.all(sent), new Promise((res) => setTimeout(res, 50))]);
      }
      await Promise.all(sent);
      await waitUntil(() => r.broker.placed.length === 6);
      // The tier does not travel on the wire; these refs carry it as their group (`g<tier>`).
      assert.deepEqual(r.broker.placed.map((o) => Number(/\/g(\d)\//.exec(o.ref)![1])), [0, 0, 1, 2, 3, 3]);
      const ids = (await Promise.all(sent)).map((a) => Number(a.orderId));
      assert.deepEqual([...ids].sort((a, b) => a - b), [...new Set(ids)].sort((a, b) => a - b), 'distinct ids');
    } finally {
      await r.stop();
    }
  });

  test('orders still queued when the connection drops are rejected, never sent', async () => {
    const clock = new VirtualClock(t0);
    const r = await rig({ clock, ib: { maxMessagesPerSecond: 1 } });
    try {
      const queued = [r.ib.placeOrder(buy(put440, 1, 1.3, 1)), r.ib.placeOrder(buy(put435, 1, 0.7, 1))];
      await new Promise((res) => setImmediate(res));
      r.rg.gw.dropConnections();
      for (const q of queued) await assert.rejects(q, (e) => LegguardError.is(e, 'BROKER_DISCONNECTED'));
      assert.equal(r.broker.placed.length, 0);
    } finally {
      await r.stop();
    }
  });
});

async function waitUntil(cond: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((res) => setTimeout(res, 5));
  }
}

describe('IB adapter: what happened while it was away', () => {
  test('an order cancelled while disconnected: its final status arrives from completed orders after the reconnect', async () => {
    const r = await rig();
    try {
      r.broker.fillMode = 'working';
      const ack = await r.ib.placeOrder(buy(put440, 1, 1.0));
      await r.rec.waitFor('order-status', (s) => s.orderId === ack.orderId && s.status === 'working');
      const m = r.rec.mark();
      r.rg.gw.refuseConnections(true);
      r.rg.gw.dropConnections();
      await r.rec.waitFor('connection', (c) => c.state === 'disconnected', m);
      // The order ends at the broker while nobody listens (the exchange cancels it, say).
      const [atBroker] = (await r.broker.snapshot({ executionsSince: null })).openOrders;
      await r.broker.cancelOrder(atBroker!.orderId);
      await new Promise((res) => setImmediate(res));
      r.rg.gw.refuseConnections(false);
      const done = await r.rec.waitFor('order-status', (s) => s.orderId === ack.orderId && s.status === 'cancelled', m);
      assert.equal(done.reconciled, true);
      assert.equal(done.orderRef, r.broker.placed[0]!.ref);
    } finally {
      await r.stop();
    }
  });
});
