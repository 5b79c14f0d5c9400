/**
 * The broker contract: one suite every `BrokerPort` passes. The simulated broker runs it directly
 * (`test/sim/broker.contract.test.ts`); the IB adapter runs it against the TWS-protocol gateway in front of a
 * SimBroker. Each test asks `setup()` for a fresh broker under test and the control handle of the simulator behind
 * it, built with `createContractSim()` so the suite knows the world it starts from.
 *
 * The suite never assumes events arrive synchronously: it records what the broker delivers and waits (a bounded
 * wait in real time, pumping the simulator's clock) until what it expects has arrived.
 *
 * @example
 *   runBrokerContract('SimBroker', async () => {
 *     const sim = createContractSim();
 *     return { broker: sim, control: sim, teardown: async () => {} };
 *   });
 *
 *   runBrokerContract('IB adapter via sim-gateway', async () => {
 *     const sim = createContractSim();
 *     const gateway = await startSimGateway(sim, { port: 0 });
 *     const broker = new IbBroker({ host: '127.0.0.1', port: gateway.port, ... });
 *     return { broker, control: sim, teardown: async () => { await broker.disconnect(); await gateway.close(); } };
 *   });
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { SimBroker } from '../../src/adapters/sim/sim-broker.js';
import { SimMarket } from '../../src/adapters/sim/sim-market.js';
import type { SimControl } from '../../src/adapters/sim/sim-control.js';
import { contractKey, option, stock, type Contract, type IsoDate, type OptionContract } from '../../src/core/contract.js';
import { LegguardError } from '../../src/core/errors.js';
import type { BrokerEvent, ExecutionReport, OrderStatusReport, PositionReport } from '../../src/core/events.js';
import { AccountId, IncidentId, OrderRef, StrategyId, type BrokerOrderId } from '../../src/core/ids.js';
import type { OrderAction, OrderRequest } from '../../src/core/order.js';
import { Price, Qty } from '../../src/core/quantity.js';
import type { BrokerPort, ExerciseRequest } from '../../src/ports/broker.js';

/** The world every broker under test starts from. */
export const CONTRACT_WORLD = {
  account: AccountId.unsafe('DU0000001'),
  /** Tuesday, options and stock in their regular session. */
  start: Date.parse('2026-01-27T10:00:00-05:00'),
  spy: { symbol: 'SPY', price: 445, volatility: 0.18, dividends: [{ exDate: '2026-03-20' as IsoDate, amount: 1.74 }] },
} as const;

export const P440: OptionContract = option({ symbol: 'SPY', right: 'P', strike: 440, expiry: '2026-01-30' });
export const P435: OptionContract = option({ symbol: 'SPY', right: 'P', strike: 435, expiry: '2026-01-30' });
export const SPY = stock('SPY');

/** The simulator a setup must put behind its broker: account DU0000001, SPY at 445, 2026-01-27 10:00 New York. */
export function createContractSim(): SimBroker {
  const clock = new VirtualClock(CONTRACT_WORLD.start);
  const market = new SimMarket(clock, [CONTRACT_WORLD.spy]);
  return new SimBroker({ account: CONTRACT_WORLD.account, clock, market, name: 'contract-sim' });
}

export interface BrokerUnderTest {
  readonly broker: BrokerPort;
  /** The simulator's handle (never the port's): positions, assignments, fill modes, the link, time. */
  readonly control: SimControl;
  teardown(): Promise<void>;
}

export interface ContractOptions {
  /** Real milliseconds to wait for an expected event before failing (default 5000). */
  readonly waitMs?: number;
}

let refSeq = 0;

function request(
  legs: readonly { contract: Contract; action: OrderAction; ratio?: number }[],
  quantity: number,
  limitPrice: number | null,
  outsideRth = false,
): OrderRequest {
  refSeq++;
  const incident = IncidentId.unsafe(`contract-${refSeq}`);
  return {
    ref: OrderRef.unsafe(`lg/contract/${incident}/g0/1`),
    strategyId: StrategyId.unsafe('contract'),
    incidentId: incident,
    account: CONTRACT_WORLD.account,
    legs: legs.map((l) => ({ contract: l.contract, action: l.action, ratio: l.ratio ?? 1 })),
    quantity: Qty.unsafe(quantity),
    orderType: limitPrice === null ? 'MKT' : 'LMT',
    limitPrice: limitPrice === null ? null : Price.round(limitPrice),
    outsideRth,
    purpose: 'emergency',
    tier: 0,
  };
}

function exerciseRequest(contract: OptionContract, quantity: number, action: 'exercise' | 'lapse', override = false): ExerciseRequest {
  refSeq++;
  return {
    ref: OrderRef.unsafe(`lg/contract/contract-${refSeq}/x0/1`),
    account: CONTRACT_WORLD.account,
    contract,
    quantity: Qty.unsafe(quantity),
    action,
    override,
  };
}

/** Records what the broker delivers and waits for what a test expects. */
class Recorder {
  readonly events: BrokerEvent[] = [];
  private readonly off: () => void;

  constructor(
    broker: BrokerPort,
    private readonly control: SimControl,
    private readonly waitMs: number,
  ) {
    this.off = broker.subscribe((e) => this.events.push(e));
  }

  stop(): void {
    this.off();
  }

  of<K extends BrokerEvent['kind']>(kind: K): Extract<BrokerEvent, { kind: K }>[] {
    return this.events.filter((e): e is Extract<BrokerEvent, { kind: K }> => e.kind === kind);
  }

  statuses(orderId: BrokerOrderId): OrderStatusReport[] {
    return this.of('order-status').filter((s) => s.orderId === orderId);
  }

  executionsOf(ref: OrderRef): ExecutionReport[] {
    return this.of('execution').filter((e) => e.orderRef === ref);
  }

  lastPosition(c: Contract): PositionReport | undefined {
    const key = contractKey(c);
    return this.of('position').filter((p) => contractKey(p.contract) === key).at(-1);
  }

  /** Pumps the simulator (no simulated time passes) and yields to the real event loop until `check` holds. */
  async until<T>(what: string, check: () => T | undefined | false | null): Promise<T> {
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      const v = check();
      if (v !== undefined && v !== false && v !== null) return v;
      if (Date.now() > deadline) {
        const seen = this.events.map((e) => (e.kind === 'order-status' ? `order-status:${e.orderId}:${e.status}` : e.kind)).join(', ');
        assert.fail(`waited ${this.waitMs} ms for ${what}; events seen: ${seen || 'none'}`);
      }
      await this.control.advance(0);
      await sleep(2);
    }
  }

  /** Gives the broker a fair chance to deliver anything still in flight. */
  async drain(): Promise<void> {
    for (let i = 0; i < 10; i++) {
      await this.control.advance(0);
      await sleep(5);
    }
  }
}

async function withBroker(
  setup: () => Promise<BrokerUnderTest>,
  opts: ContractOptions,
  body: (b: BrokerPort, c: SimControl, r: Recorder) => Promise<void>,
): Promise<void> {
  const u = await setup();
  const r = new Recorder(u.broker, u.control, opts.waitMs ?? 5000);
  try {
    await body(u.broker, u.control, r);
  } finally {
    r.stop();
    await u.teardown();
  }
}

async function connected(b: BrokerPort, r: Recorder): Promise<void> {
  await b.connect();
  await r.until('the broker to say it is connected', () => b.isConnected());
}

async function positionsOf(b: BrokerPort): Promise<Map<string, number>> {
  const snap = await b.snapshot({ executionsSince: null });
  return new Map(snap.positions.map((p) => [contractKey(p.contract), p.qty]));
}

export function runBrokerContract(name: string, setup: () => Promise<BrokerUnderTest>, opts: ContractOptions = {}): void {
  describe(`broker contract: ${name}`, () => {
    test('connects and reports the account, its net positions and no open orders', async () => {
      await withBroker(setup, opts, async (b, c, r) => {
        c.setPosition(SPY, 100);
        c.setPosition(P440, -2);
        c.setPosition(P435, 2);
        await connected(b, r);
        assert.equal(b.account, CONTRACT_WORLD.account);
        const snap = await b.snapshot({ executionsSince: null });
        assert.equal(snap.account, CONTRACT_WORLD.account);
        assert.deepEqual(
          new Map(snap.positions.map((p) => [contractKey(p.contract), p.qty])),
          new Map([
            [contractKey(SPY), 100],
            [contractKey(P440), -2],
            [contractKey(P435), 2],
          ]),
        );
        const opt = snap.positions.find((p) => contractKey(p.contract) === contractKey(P440))!;
        assert.equal(opt.contract.secType, 'OPT');
        if (opt.contract.secType === 'OPT') {
          assert.equal(opt.contract.multiplier, 100);
          assert.equal(opt.contract.style, 'american');
        }
        assert.deepEqual(snap.openOrders, []);
      });
    });

    test('quotes an option and its underlying, and reports the underlying with its dividends', async () => {
      await withBroker(setup, opts, async (b, _c, r) => {
        await connected(b, r);
        const q = await b.quote(P440);
        assert.ok(q !== null && q.bid !== null && q.ask !== null, 'an option quote with both sides');
        assert.ok(q.bid > 0 && q.bid < q.ask, `bid ${q.bid} below ask ${q.ask}`);
        const s = await b.quote(SPY);
        assert.ok(s !== null && s.bid !== null && s.ask !== null && s.bid <= 445 && s.ask >= 445, 'SPY quote around 445');
        const u = await b.underlying('SPY');
        assert.equal(u.price, 445);
        assert.deepEqual(u.dividends, [{ exDate: '2026-03-20', amount: 1.74 }]);
      });
    });

    test('a single order fills: order status, an execution with the order ref, the new position', async () => {
      await withBroker(setup, opts, async (b, c, r) => {
        c.setPosition(P440, -2);
        await connected(b, r);
        const q = (await b.quote(P440))!;
        const req = request([{ contract: P440, action: 'BUY' }], 1, q.ask! + 0.05);
        const ack = await b.placeOrder(req);
        const exec = await r.until('the execution', () => r.executionsOf(req.ref)[0]);
        assert.equal(exec.orderId, ack.orderId);
        assert.equal(exec.side, 'BUY');
        assert.equal(exec.qty, 1);
        assert.equal(contractKey(exec.contract), contractKey(P440));
        assert.ok(exec.price > 0 && exec.price <= q.ask! + 0.05, `filled at ${exec.price}, within the limit`);
        assert.equal(exec.liquidation, false);
        const filled = await r.until('the filled status', () => r.statuses(ack.orderId).find((s) => s.status === 'filled'));
        assert.equal(filled.filledQty, 1);
        assert.equal(filled.remainingQty, 0);
        assert.equal(filled.orderRef, req.ref);
        await r.until('the position -1', () => r.lastPosition(P440)?.qty === -1);
        assert.equal((await positionsOf(b)).get(contractKey(P440)), -1);
        assert.equal(c.position(P440), -1);
      });
    });

    test('a combo order fills every leg under one order ref', async () => {
      await withBroker(setup, opts, async (b, c, r) => {
        c.setPosition(P440, -2);
        c.setPosition(P435, 2);
        await connected(b, r);
        const q440 = (await b.quote(P440))!;
        const q435 = (await b.quote(P435))!;
        const req = request(
          [
            { contract: P440, action: 'BUY' },
            { contract: P435, action: 'SELL' },
          ],
          2,
          q440.ask! - q435.bid! + 0.05,
        );
        const ack = await b.placeOrder(req);
        await r.until('two leg executions', () => r.executionsOf(req.ref).length === 2);
        const execs = r.executionsOf(req.ref);
        assert.deepEqual(execs.map((e) => [contractKey(e.contract), e.side, e.qty]).sort(), [
          [contractKey(P435), 'SELL', 2],
          [contractKey(P440), 'BUY', 2],
        ]);
        assert.ok(execs.every((e) => e.orderId === ack.orderId), 'executions carry the order id');
        const filled = await r.until('the combo filled', () => r.statuses(ack.orderId).find((s) => s.status === 'filled'));
        assert.equal(filled.filledQty, 2);
        await r.until('both positions flat', () => r.lastPosition(P440)?.qty === 0 && r.lastPosition(P435)?.qty === 0);
        const pos = await positionsOf(b);
        assert.equal(pos.get(contractKey(P440)), undefined);
        assert.equal(pos.get(contractKey(P435)), undefined);
      });
    });

    test('a rejected order: a rejected status with a reason, no execution, no position change', async () => {
      await withBroker(setup, opts, async (b, c, r) => {
        c.setPosition(P440, -2);
        c.setFillModel({ mode: 'reject', rejectReason: 'insufficient margin' });
        await connected(b, r);
        const req = request([{ contract: P440, action: 'BUY' }], 1, null);
        const ack = await b.placeOrder(req);
        const rej = await r.until('the reject', () => r.statuses(ack.orderId).find((s) => s.status === 'rejected'));
        assert.ok(rej.reason !== null && rej.reason.length > 0, 'a reject says why');
        await r.drain();
        assert.deepEqual(r.executionsOf(req.ref), []);
        assert.equal((await positionsOf(b)).get(contractKey(P440)), -2);
        assert.deepEqual((await b.snapshot({ executionsSince: null })).openOrders, []);
      });
    });

    test('partial fills: part fills, the rest works and shows as open; cancelling ends it', async () => {
      await withBroker(setup, opts, async (b, c, r) => {
        c.setPosition(P440, -4);
        c.setFillModel({ mode: 'partial', fraction: 0.5 });
        await connected(b, r);
        const q = (await b.quote(P440))!;
        const req = request([{ contract: P440, action: 'BUY' }], 4, q.ask! + 0.05);
        const ack = await b.placeOrder(req);
        const part = await r.until('a partial fill', () => r.statuses(ack.orderId).find((s) => s.status === 'partially-filled'));
        assert.equal(part.filledQty, 2);
        assert.equal(part.remainingQty, 2);
        await r.until('executions for 2', () => r.executionsOf(req.ref).reduce((n, e) => n + e.qty, 0) === 2);
        const open = (await b.snapshot({ executionsSince: null })).openOrders.find((o) => o.orderId === ack.orderId);
        assert.ok(open !== undefined, 'the rest is an open order');
        assert.equal(open.filledQty, 2);
        assert.equal(open.remainingQty, 2);
        assert.equal(open.orderRef, req.ref);
        await b.cancelOrder(ack.orderId);
        const done = await r.until('the cancel', () => r.statuses(ack.orderId).find((s) => s.status === 'cancelled'));
        assert.equal(done.filledQty, 2);
        assert.equal((await positionsOf(b)).get(contractKey(P440)), -2);
      });
    });

    test('cancel: a working order rests, shows as open, and is cancelled on request', async () => {
      await withBroker(setup, opts, async (b, _c, r) => {
        await connected(b, r);
        const req = request([{ contract: P440, action: 'BUY' }], 1, 0.01);
        const ack = await b.placeOrder(req);
        await r.until('the order working', () => r.statuses(ack.orderId).find((s) => s.status === 'working'));
        const open = (await b.snapshot({ executionsSince: null })).openOrders;
        assert.deepEqual(open.map((o) => [o.orderId, o.orderRef, o.quantity, o.limitPrice]), [[ack.orderId, req.ref, 1, 0.01]]);
        await b.cancelOrder(ack.orderId);
        await r.until('the cancel', () => r.statuses(ack.orderId).find((s) => s.status === 'cancelled'));
        assert.deepEqual((await b.snapshot({ executionsSince: null })).openOrders, []);
        assert.deepEqual(r.executionsOf(req.ref), []);
      });
    });

    test('disconnect: a connection event, commands refused, nothing delivered while down, the new state on return', async () => {
      await withBroker(setup, opts, async (b, c, r) => {
        c.setPosition(P440, -2);
        await connected(b, r);
        await r.drain();
        const before = r.events.length;
        c.dropConnection();
        await r.until('the disconnected event', () => r.of('connection').find((e) => e.state === 'disconnected'));
        await r.until('isConnected() false', () => !b.isConnected());
        await assert.rejects(b.placeOrder(request([{ contract: P440, action: 'BUY' }], 1, null)), (e: unknown) =>
          LegguardError.is(e, 'BROKER_DISCONNECTED'),
        );
        // The account keeps changing while the link is down.
        c.postAssignment(P440, 1);
        await c.advance(60_000);
        await r.drain();
        const during = r.events.slice(before).filter((e) => e.kind !== 'connection');
        assert.deepEqual(during.map((e) => e.kind), [], 'nothing but connection events while disconnected');
        const down = r.events.findIndex((e) => e.kind === 'connection' && e.state === 'disconnected');
        c.restoreConnection();
        await r.until('the connected event', () => r.events.slice(down + 1).some((e) => e.kind === 'connection' && e.state === 'connected'));
        await r.until('isConnected() true', () => b.isConnected());
        const pos = await positionsOf(b);
        assert.equal(pos.get(contractKey(P440)), -1);
        assert.equal(pos.get(contractKey(SPY)), 100);
      });
    });

    test('executions since a time: only the later fill', async () => {
      await withBroker(setup, opts, async (b, c, r) => {
        await connected(b, r);
        const first = request([{ contract: SPY, action: 'BUY' }], 10, null);
        await b.placeOrder(first);
        await r.until('the first execution', () => r.executionsOf(first.ref)[0]);
        await c.advance(5 * 60_000);
        const t2 = c.now();
        const second = request([{ contract: SPY, action: 'SELL' }], 10, null);
        await b.placeOrder(second);
        await r.until('the second execution', () => r.executionsOf(second.ref)[0]);
        const all = (await b.snapshot({ executionsSince: null })).executions;
        assert.deepEqual(new Set(all.map((e) => e.orderRef)), new Set([first.ref, second.ref]));
        const since = (await b.snapshot({ executionsSince: t2 })).executions;
        assert.deepEqual(since.map((e) => e.orderRef), [second.ref]);
      });
    });

    test('an assignment shows as position events (option and stock) and no execution', async () => {
      await withBroker(setup, opts, async (b, c, r) => {
        c.setPosition(P440, -2);
        c.setPosition(SPY, 100);
        await connected(b, r);
        await r.drain();
        const from = c.now();
        c.postAssignment(P440, 2);
        await r.until('the option position 0', () => r.lastPosition(P440)?.qty === 0);
        await r.until('the stock position 300', () => r.lastPosition(SPY)?.qty === 300);
        // A later order's execution is the barrier: anything the assignment produced has arrived by then.
        const barrier = request([{ contract: SPY, action: 'SELL' }], 1, null);
        await b.placeOrder(barrier);
        await r.until('the barrier execution', () => r.executionsOf(barrier.ref)[0]);
        assert.deepEqual(
          r.of('execution').filter((e) => e.orderRef !== barrier.ref).map((e) => e.execId),
          [],
          'no execution for an assignment',
        );
        const since = (await b.snapshot({ executionsSince: from })).executions;
        assert.deepEqual(since.map((e) => e.orderRef), [barrier.ref]);
      });
    });

    test('trades outside legguard have no order id and no ref; broker liquidations are marked', async () => {
      await withBroker(setup, opts, async (b, c, r) => {
        c.setPosition(P435, 2);
        c.setPosition(P440, -1);
        await connected(b, r);
        c.manualTrade(P435, -2);
        const manual = await r.until('the manual execution', () => r.of('execution').find((e) => contractKey(e.contract) === contractKey(P435)));
        assert.equal(manual.orderRef, null);
        assert.equal(manual.side, 'SELL');
        assert.equal(manual.qty, 2);
        assert.equal(manual.liquidation, false);
        c.liquidate(P440, 1);
        const liq = await r.until('the liquidation', () => r.of('execution').find((e) => contractKey(e.contract) === contractKey(P440)));
        assert.equal(liq.liquidation, true);
        assert.equal(liq.orderRef, null);
        assert.equal(liq.side, 'BUY');
        await r.until('both positions flat', () => r.lastPosition(P435)?.qty === 0 && r.lastPosition(P440)?.qty === 0);
        // No order of this connection placed either: the order id is absent (null) for both.
        assert.equal(manual.orderId, null);
        assert.equal(liq.orderId, null);
      });
    });

    test("the account holder's combo order: every leg's execution carries one permanent id, a plain trade another; no order id", async () => {
      await withBroker(setup, opts, async (b, c, r) => {
        await connected(b, r);
        c.manualCombo([
          { contract: P440, qty: -1 },
          { contract: P435, qty: 1 },
        ]);
        const legs = await r.until('both combo executions', () => {
          const xs = r.of('execution');
          return xs.length >= 2 ? xs : undefined;
        });
        assert.deepEqual(legs.map((e) => [contractKey(e.contract), e.side, e.qty]), [
          [contractKey(P440), 'SELL', 1],
          [contractKey(P435), 'BUY', 1],
        ]);
        const perm = legs[0]!.permId;
        assert.ok(typeof perm === 'number' && perm > 0, `a permanent id: ${String(perm)}`);
        assert.equal(legs[1]!.permId, perm, 'one order, one permanent id');
        assert.deepEqual(legs.map((e) => [e.orderId, e.orderRef]), [[null, null], [null, null]]);
        await r.until('both positions', () => r.lastPosition(P440)?.qty === -1 && r.lastPosition(P435)?.qty === 1);
        c.manualTrade(P435, -1);
        const plain = await r.until('the plain trade', () => r.of('execution')[2]);
        assert.ok(typeof plain.permId === 'number' && plain.permId > 0 && plain.permId !== perm, 'a plain trade is an order of its own');
        const since = (await b.snapshot({ executionsSince: null })).executions;
        assert.deepEqual(since.map((e) => e.permId), [perm, perm, plain.permId], 'the execution snapshot says the same');
      });
    });

    test('exercising a long put: the option shrinks and the stock goes at the strike, no execution; the same ref sends nothing again', async () => {
      await withBroker(setup, opts, async (b, c, r) => {
        c.setPrice('SPY', 420);
        c.setPosition(P435, 2);
        c.setPosition(SPY, 100);
        await connected(b, r);
        await r.drain();
        const req = exerciseRequest(P435, 1, 'exercise');
        const ack = await b.exerciseOptions(req);
        assert.equal(ack.duplicate, false);
        await r.until('the option position 1', () => r.lastPosition(P435)?.qty === 1);
        await r.until('the stock position 0', () => r.lastPosition(SPY)?.qty === 0);
        const again = await b.exerciseOptions(req);
        assert.deepEqual(again, { requestId: ack.requestId, duplicate: true });
        const barrier = request([{ contract: P435, action: 'SELL' }], 1, null);
        await b.placeOrder(barrier);
        await r.until('the barrier execution', () => r.executionsOf(barrier.ref)[0]);
        assert.deepEqual(r.of('execution').filter((e) => e.orderRef !== barrier.ref), [], 'no execution for an exercise');
        assert.equal(c.position(P435), 0);
        assert.equal(c.position(SPY), 0, 'the duplicate exercised nothing');
        assert.deepEqual(r.of('notice').filter((n) => n.orderId === ack.requestId), []);
      });
    });

    test('an exercise the broker cannot take comes back as a notice naming the request; nothing moves', async () => {
      await withBroker(setup, opts, async (b, c, r) => {
        c.setPosition(P435, 1);
        await connected(b, r);
        await r.drain();
        const ack = await b.exerciseOptions(exerciseRequest(P435, 3, 'exercise'));
        const n = await r.until('the refusal', () => r.of('notice').find((x) => x.orderId === ack.requestId));
        assert.match(n.message, /long 1/);
        assert.equal(c.position(P435), 1);
        assert.equal(c.position(SPY), 0);
      });
    });

    test('lapse: nothing now; at the expiry the option in the money goes away with no stock', async () => {
      await withBroker(setup, opts, async (b, c, r) => {
        c.setPrice('SPY', 430);
        c.setPosition(P435, 1);
        c.setPosition(P440, 1);
        await connected(b, r);
        await r.drain();
        await b.exerciseOptions(exerciseRequest(P435, 1, 'lapse', true));
        await r.drain();
        assert.equal(c.position(P435), 1, 'a lapse changes nothing before the expiry');
        // Tuesday 10:00 -> Saturday 03:00: the Friday expiry settled overnight.
        await c.advance(3 * 86_400_000 + 17 * 3_600_000);
        await r.until('the lapsed option gone', () => r.lastPosition(P435)?.qty === 0);
        await r.until('the 440 put exercised by exception', () => r.lastPosition(P440)?.qty === 0);
        await r.until('the stock the 440 put delivered', () => r.lastPosition(SPY)?.qty === -100);
        assert.equal(c.position(SPY), -100, 'only the 440 put delivered stock');
      });
    });

    test('an option order placed after the close waits for the next open', async () => {
      await withBroker(setup, opts, async (b, c, r) => {
        c.setPosition(P440, -1);
        await connected(b, r);
        // 10:00 -> 16:30 New York, after the close.
        await c.advance(6.5 * 3_600_000);
        const req = request([{ contract: P440, action: 'BUY' }], 1, null);
        const ack = await b.placeOrder(req);
        await c.advance(16 * 3_600_000 + 59 * 60_000); // 09:29 the next morning
        await r.drain();
        assert.deepEqual(r.executionsOf(req.ref), [], 'nothing fills before the open');
        const open = (await b.snapshot({ executionsSince: null })).openOrders.map((o) => o.orderId);
        assert.deepEqual(open, [ack.orderId]);
        await c.advance(60_000); // 09:30
        const exec = await r.until('the fill at the open', () => r.executionsOf(req.ref)[0]);
        assert.equal(exec.tsEvent, Date.parse('2026-01-28T09:30:00-05:00'));
      });
    });
  });
}
