import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { option, stock, type IsoDate } from '../../src/core/contract.js';
import { ClearingHouse } from '../../src/adapters/sim/clearing-house.js';
import { LegguardError } from '../../src/core/errors.js';
import { SPY, makeSim, order, spy } from './fixtures.js';

const exDate = (d: string): IsoDate => d as IsoDate;

describe('clearing house: expiration', () => {
  test('exercise by exception on the closing price, posted overnight as positions only', async () => {
    const f = await makeSim({ start: '2026-01-30T15:00:00-05:00' });
    const p440 = spy('P', 440);
    const p435 = spy('P', 435);
    const c460 = spy('C', 460);
    const c430 = spy('C', 430);
    f.sim.setPosition(p440, -2);
    f.sim.setPosition(p435, 2);
    f.sim.setPosition(c460, -1);
    f.sim.setPosition(c430, 1);
    f.sim.setPosition(SPY, 100);
    f.sim.setPrice('SPY', 436.1);
    await f.settle();
    f.clear();
    // A price after the close does not change what was exercised.
    await f.to('2026-01-30T17:00:00-05:00');
    f.sim.setPrice('SPY', 441);
    await f.to('2026-01-31T02:29:59-05:00');
    assert.equal(f.of('position').length, 0, 'nothing posts before 02:30');
    await f.to('2026-01-31T02:30:00-05:00');
    const pos = f.of('position');
    assert.deepEqual(
      pos.map((p) => [p.contract.secType === 'OPT' ? `${p.contract.strike}${p.contract.right}` : p.contract.symbol, p.qty]),
      [['440P', 0], ['435P', 0], ['460C', 0], ['430C', 0], ['SPY', 100 + 200 + 100]],
    );
    assert.equal(f.of('execution').length, 0);
    assert.ok(pos.every((p) => p.tsEvent === Date.parse('2026-01-31T02:30:00-05:00')), 'pos.every((p) => p.tsEvent === Date.parse(\'2026-01-31T02:30:00-05:0...');
    const act = f.activity.find((a) => a.kind === 'expiration')!;
    assert.match(act.text, /440 P -2 assigned/);
    assert.match(act.text, /435 P \+2 expired worthless/);
    assert.match(act.text, /430 C \+1 exercised/);
  });

  test('$0.01 in the money is exercised; $0.005 is not', async () => {
    for (const [close, expectedStock] of [
      [439.99, 100],
      [439.995, 0],
    ] as const) {
      const f = await makeSim({ start: '2026-01-30T15:00:00-05:00' });
      f.sim.setPosition(spy('P', 440), -1);
      f.sim.setPrice('SPY', close);
      await f.to('2026-01-31T03:00:00-05:00');
      assert.equal(f.sim.position(spy('P', 440)), 0);
      assert.equal(f.sim.position(SPY), expectedStock, `close ${close}`);
    }
  });

  test('a cash-settled index option leaves no shares; the option simply goes', async () => {
    const f = await makeSim({
      start: '2026-01-30T15:00:00-05:00',
      underlyings: [{ symbol: 'SPX', price: 5000, kind: 'index' }, { symbol: 'SPY', price: 445 }],
    });
    const spx = option({ symbol: 'SPX', right: 'P', strike: 5100, expiry: '2026-01-30' });
    assert.equal(spx.settlement, 'cash');
    f.sim.setPosition(spx, -1);
    await f.settle();
    f.clear();
    await f.to('2026-01-31T03:00:00-05:00');
    assert.deepEqual(f.of('position').map((p) => [p.contract.symbol, p.contract.secType, p.qty]), [['SPX', 'OPT', 0]]);
    assert.match(f.activity.find((a) => a.kind === 'expiration')!.text, /cash-settled -10000\.00/);
  });

  test('an expiry on Good Friday settles on the Thursday close', async () => {
    const f = await makeSim({ start: '2026-04-02T10:00:00-04:00' });
    const p = spy('P', 450, '2026-04-03');
    f.sim.setPosition(p, -1);
    await f.to('2026-04-03T02:30:00-04:00');
    assert.equal(f.sim.position(p), 0);
    assert.equal(f.sim.position(SPY), 100);
  });

  test('working orders in an expiring option are cancelled at the close; it cannot be ordered afterwards', async () => {
    const f = await makeSim({ start: '2026-01-30T15:00:00-05:00' });
    const p = spy('P', 400);
    const ack = await f.sim.placeOrder(order([{ contract: p, action: 'BUY' }], 1, 0.001));
    await f.to('2026-01-30T16:00:00-05:00');
    const last = f.of('order-status').filter((s) => s.orderId === ack.orderId).at(-1)!;
    assert.equal(last.status, 'cancelled');
    assert.match(last.reason!, /expired/);
    await f.sim.placeOrder(order([{ contract: p, action: 'BUY' }], 1, 1));
    await f.settle();
    assert.equal(f.of('order-status').at(-1)!.status, 'rejected');
  });
});

describe('clearing house: early exercise by holders', () => {
  const dividendMarket = (amount: number) => [{ symbol: 'SPY', price: 470, volatility: 0.18, dividends: [{ exDate: exDate('2026-01-29'), amount }] }];

  test('a deep ITM short call is assigned on the morning of the ex-date when the dividend beats put + interest', async () => {
    const f = await makeSim({ start: '2026-01-28T10:00:00-05:00', underlyings: dividendMarket(1.74) });
    const c = spy('C', 420, '2026-02-20');
    f.sim.setPosition(c, -3);
    await f.settle();
    f.clear();
    await f.to('2026-01-28T16:00:00-05:00');
    const d = f.sim.clearing.decisions;
    assert.equal(d.length, 1);
    assert.equal(d[0]!.kind, 'early-call-ex-dividend');
    assert.equal(d[0]!.short, 3);
    assert.ok(d[0]!.assigned >= 1 && d[0]!.assigned <= 3, 'd[0]!.assigned >= 1 && d[0]!.assigned <= 3');
    assert.equal(d[0]!.postAt, Date.parse('2026-01-29T02:30:00-05:00'));
    assert.match(d[0]!.reason, /dividend 1.74 \(ex 2026-01-29\) exceeds put/);
    await f.to('2026-01-29T02:30:00-05:00');
    const k = d[0]!.assigned;
    assert.equal(f.sim.position(c), -3 + k);
    assert.equal(f.sim.position(SPY), -100 * k);
    assert.deepEqual(f.of('position').map((p) => p.contract.secType), ['OPT', 'STK']);
    assert.equal(f.of('execution').length, 0);
  });

  test('the number assigned is a seeded choice: the same seed gives the same k; across seeds partial and full both occur', async () => {
    const ks: number[] = [];
    for (let seed = 1; seed <= 12; seed++) {
      const runs: number[] = [];
      for (let rep = 0; rep < 2; rep++) {
        const f = await makeSim({ start: '2026-01-28T10:00:00-05:00', underlyings: dividendMarket(1.74), clearing: { seed: String(seed) } });
        f.sim.setPosition(spy('C', 420, '2026-02-20'), -5);
        await f.to('2026-01-29T03:00:00-05:00');
        runs.push(5 + f.sim.position(spy('C', 420, '2026-02-20')));
      }
      assert.equal(runs[0], runs[1], `seed ${seed} is deterministic`);
      ks.push(runs[0]!);
    }
    assert.ok(ks.every((k) => k >= 1 && k <= 5), 'ks.every((k) => k >= 1 && k <= 5)');
    assert.ok(ks.some((k) => k < 5), `some seed assigns part: ${ks.join(',')}`);
    assert.ok(new Set(ks).size > 1, `seeds differ: ${ks.join(',')}`);
  });

  test('a small dividend, an out-of-the-money call, a long call, or early exercise turned off: no assignment', async () => {
    const small = await makeSim({ start: '2026-01-28T10:00:00-05:00', underlyings: dividendMarket(0.1) });
    small.sim.setPosition(spy('C', 420, '2026-02-20'), -1);
    await small.to('2026-01-29T10:00:00-05:00');
    assert.equal(small.sim.position(spy('C', 420, '2026-02-20')), -1);
    assert.equal(small.sim.clearing.decisions.length, 0);

    const otm = await makeSim({ start: '2026-01-28T10:00:00-05:00', underlyings: dividendMarket(5) });
    otm.sim.setPosition(spy('C', 480, '2026-02-20'), -1);
    otm.sim.setPosition(spy('C', 420, '2026-02-20'), 1);
    await otm.to('2026-01-29T10:00:00-05:00');
    assert.equal(otm.sim.position(spy('C', 480, '2026-02-20')), -1);
    assert.equal(otm.sim.position(spy('C', 420, '2026-02-20')), 1, 'the account decides about its own longs');

    const off = await makeSim({ start: '2026-01-28T10:00:00-05:00', underlyings: dividendMarket(1.74), clearing: { earlyExercise: false } });
    off.sim.setPosition(spy('C', 420, '2026-02-20'), -1);
    await off.to('2026-01-29T10:00:00-05:00');
    assert.equal(off.sim.position(spy('C', 420, '2026-02-20')), -1);
  });

  test('a deep ITM short put is assigned before the next open; a moderately ITM one is not', async () => {
    const f = await makeSim({ start: '2026-01-27T10:00:00-05:00', underlyings: [{ symbol: 'SPY', price: 300, volatility: 0.2 }] });
    const deep = spy('P', 440, '2026-03-20');
    const mild = spy('P', 310, '2026-03-20');
    f.sim.setPosition(deep, -2);
    f.sim.setPosition(mild, -2);
    await f.to('2026-01-27T16:00:00-05:00');
    assert.deepEqual(f.sim.clearing.decisions.map((d) => [d.contract.strike, d.kind]), [[440, 'early-put-deep-itm']]);
    await f.to('2026-01-28T02:30:00-05:00');
    const k = f.sim.clearing.decisions[0]!.assigned;
    assert.equal(f.sim.position(deep), -2 + k);
    assert.equal(f.sim.position(SPY), 100 * k);
    assert.equal(f.sim.position(mild), -2);
  });

  test('European index options are never exercised early, however deep', async () => {
    const f = await makeSim({
      start: '2026-01-27T10:00:00-05:00',
      underlyings: [{ symbol: 'SPX', price: 3000, kind: 'index' }, { symbol: 'SPY', price: 445 }],
      market: { rate: 0.08 },
    });
    const spx = option({ symbol: 'SPX', right: 'P', strike: 6000, expiry: '2026-03-20' });
    f.sim.setPosition(spx, -1);
    await f.to('2026-02-10T10:00:00-05:00');
    assert.equal(f.sim.position(spx), -1);
    assert.equal(f.sim.clearing.decisions.length, 0);
    assert.equal(f.sim.position(stock('SPY')), 0);
  });

  test('an assignment already decided is capped by what the account is still short at posting', async () => {
    const f = await makeSim({ start: '2026-01-28T15:00:00-05:00', underlyings: dividendMarket(1.74), clearing: { seed: '3' } });
    const c = spy('C', 420, '2026-02-20');
    f.sim.setPosition(c, -5);
    await f.to('2026-01-28T16:00:00-05:00');
    const k = f.sim.clearing.decisions[0]!.assigned;
    // The position shrinks to one short contract overnight (a transfer, say).
    f.sim.setPosition(c, -1);
    await f.to('2026-01-29T03:00:00-05:00');
    assert.equal(f.sim.position(c), 0);
    assert.equal(f.sim.position(SPY), -100);
    assert.ok(k >= 1, 'k >= 1');
  });

  test('a posting time outside the night is refused', async () => {
    const f = await makeSim();
    assert.throws(
      () => new ClearingHouse(f.sim, f.market, f.clock, { postAt: { hour: 10, minute: 0 } }),
      (e: unknown) => LegguardError.is(e, 'INVALID_INPUT') && /before 09:00/.test(e.message),
    );
  });
});
