import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Book } from '../../src/core/book.js';
import { planClose, type ClosePlan, type ClosePlanInput } from '../../src/core/close-plan.js';
import { contractKey, describeContract, option, type Contract } from '../../src/core/contract.js';
import { checkOrder } from '../../src/core/gate.js';
import { AccountId, IncidentId, type ContractKey } from '../../src/core/ids.js';
import { EpochMs, Qty } from '../../src/core/quantity.js';
import type { QuoteView } from '../../src/core/quote-view.js';
import { call, put, quote, sid, SPY } from './fixtures.js';

const AT_0230 = EpochMs.unsafe(Date.parse('2026-01-28T02:30:00-05:00'));
const AT_1100 = EpochMs.unsafe(Date.parse('2026-01-28T11:00:00-05:00'));
const OPEN = Date.parse('2026-01-28T09:30:00-05:00');
const PRE = Date.parse('2026-01-28T04:00:00-05:00');

/** Quotes for everything: bid 1.00 / ask 1.20 for options, 440.00 / 440.10 for SPY. */
function allQuotes(c: Contract): QuoteView {
  return c.secType === 'STK' ? quote(440, 440.1) : quote(1, 1.2);
}

function bookWith(holdings: readonly [string | null, Contract, number][]): Book {
  const b = new Book();
  for (const [h, c, q] of holdings) {
    if (h !== null) b.addStrategy(sid(h));
    b.set(h === null ? null : sid(h), c, Qty.unsafe(q));
  }
  return b;
}

function plan(book: Book, extra: Partial<ClosePlanInput> = {}): ClosePlan {
  return planClose({
    strategyId: sid('ic'),
    account: AccountId.unsafe('DU1'),
    incidentId: IncidentId.unsafe('ic:assignment:1'),
    incidentKey: 'ic:assignment:1',
    revision: 0,
    book,
    brokerPosition: (k: ContractKey) => book.net(k),
    quote: allQuotes,
    now: AT_0230,
    mode: 'close',
    purpose: 'emergency',
    combos: true,
    preMarketHedge: true,
    ...extra,
  });
}

/** `t1 SELL 200 SPY @440 09:00 ext` lines (times in UTC: 09:00Z is 04:00 New York in winter), for readable assertions. */
function lines(p: ClosePlan): string[] {
  return p.orders.map((o) => {
    const legs = o.request.legs.map((l) => `${l.action} ${l.ratio * o.request.quantity} ${describeContract(l.contract)}`).join(' / ');
    const when = new Date(o.notBefore).toISOString().slice(11, 16);
    return `t${o.request.tier} ${legs} @${o.request.limitPrice} ${when}${o.request.outsideRth ? ' ext' : ''}`;
  });
}

describe('planClose: the seed scenarios', () => {
  test('iron condor, short put assigned at 02:30: stock pre-market, then the call spread as a combo, then the long put', () => {
    const b = bookWith([
      ['ic', SPY, 200],
      ['ic', call(460), -2],
      ['ic', call(465), 2],
      ['ic', put(435), 2],
    ]);
    const p = plan(b);
    assert.deepEqual(lines(p), [
      't1 SELL 200 SPY @440 09:00 ext',
      't2 BUY 2 SPY 2026-01-30 460 C / SELL 2 SPY 2026-01-30 465 C @0.2 14:30',
      't3 SELL 2 SPY 2026-01-30 435 P @1 14:30',
    ]);
    assert.equal(p.orders[0]!.notBefore, PRE);
    assert.equal(p.orders[1]!.notBefore, OPEN);
    assert.deepEqual(
      p.orders.map((o) => o.request.ref),
      ['lg/ic/ic:assignment:1/t1.SPY.STK/0', 'lg/ic/ic:assignment:1/t2.SPY.C460.260130_C465.260130/0', 'lg/ic/ic:assignment:1/t3.SPY.P435.260130/0'],
    );
    assert.deepEqual([p.blocked, p.clamped, p.held], [[], [], []]);
  });

  test('short call assigned early: short stock bought back pre-market, the put spread and the long call at the open', () => {
    const b = bookWith([
      ['ic', SPY, -200],
      ['ic', put(440), -2],
      ['ic', put(435), 2],
      ['ic', call(465), 2],
    ]);
    assert.deepEqual(lines(plan(b)), [
      't1 BUY 200 SPY @440.1 09:00 ext',
      't2 BUY 2 SPY 2026-01-30 440 P / SELL 2 SPY 2026-01-30 435 P @0.2 14:30',
      't3 SELL 2 SPY 2026-01-30 465 C @1 14:30',
    ]);
  });

  test("a covered call whose stock was called away holds nothing: the plan is empty", () => {
    const b = bookWith([['ic', SPY, 0], ['ic', call(460), 0]]);
    const p = plan(b);
    assert.deepEqual([p.orders, p.blocked, p.clamped, p.held], [[], [], [], []]);
  });
});

describe('planClose: tiers, covers and modes', () => {
  test('naked short options go first; without combos a short is one order (naked if any of it is) before its cover', () => {
    const b = bookWith([
      ['ic', put(440), -3],
      ['ic', put(435), 2],
      ['ic', call(470), 1],
    ]);
    assert.deepEqual(lines(plan(b, { combos: false, now: AT_1100 })), [
      't0 BUY 3 SPY 2026-01-30 440 P @1.2 16:00',
      't3 SELL 1 SPY 2026-01-30 470 C @1 16:00',
      't3 SELL 2 SPY 2026-01-30 435 P @1 16:00',
    ]);
  });

  test('a long option expiring earlier does not cover a short; a later one does (calendar)', () => {
    const b = bookWith([
      ['ic', call(450), -1],
      ['ic', call(450, '2026-01-23'), 1],
    ]);
    assert.deepEqual(lines(plan(b, { now: AT_1100 })).map((l) => l.slice(0, 2)), ['t0', 't3']);
    const cal = bookWith([
      ['ic', call(450), -1],
      ['ic', call(450, '2026-02-27'), 1],
    ]);
    assert.deepEqual(lines(plan(cal, { now: AT_1100 })), ['t2 BUY 1 SPY 2026-01-30 450 C / SELL 1 SPY 2026-02-27 450 C @0.2 16:00']);
  });

  test('stock that covers a short call waits for the open behind the call; in hedge mode it is held back', () => {
    const b = bookWith([
      ['ic', SPY, 150],
      ['ic', call(460), -1],
    ]);
    // In sending order: the 50 shares beyond the call pre-market, the call at the open, then its 100 shares.
    assert.deepEqual(lines(plan(b)), [
      't1 SELL 50 SPY @440 09:00 ext',
      't0 BUY 1 SPY 2026-01-30 460 C @1.2 14:30',
      't1 SELL 100 SPY @440 14:30',
    ]);
    const h = plan(b, { mode: 'hedge' });
    assert.deepEqual(lines(h), ['t1 SELL 50 SPY @440 09:00 ext']);
    assert.equal(h.held.length, 1);
    assert.equal(h.held[0]!.qty, 100);
    assert.equal(h.held[0]!.why, 'covers-short-options');
    assert.match(h.held[0]!.reason, /100 shares cover short calls; selling them would leave those options naked/);
  });

  test('hedge mode: the stock only; without pre-market hedging stock waits for the regular open', () => {
    const b = bookWith([
      ['ic', SPY, 200],
      ['ic', call(460), -2],
      ['ic', call(465), 2],
    ]);
    assert.deepEqual(lines(plan(b, { mode: 'hedge', preMarketHedge: false })), ['t1 SELL 200 SPY @440 14:30']);
  });

  test('a European index spread: a combo, no stock anywhere', () => {
    const spxP = (k: number): Contract => option({ symbol: 'SPX', right: 'P', strike: k, expiry: '2026-01-30' });
    const b = bookWith([
      ['ic', spxP(5000), -1],
      ['ic', spxP(4950), 1],
    ]);
    assert.deepEqual(lines(plan(b, { now: AT_1100 })), ['t2 BUY 1 SPX 2026-01-30 5000 P / SELL 1 SPX 2026-01-30 4950 P @0.2 16:00']);
  });

  test('a Saturday plan waits for Monday: 04:00 for stock, 09:30 for options', () => {
    const sat = EpochMs.unsafe(Date.parse('2026-01-31T12:00:00-05:00'));
    const b = bookWith([
      ['ic', SPY, 100],
      ['ic', put(440, '2026-02-06'), 1],
    ]);
    const p = plan(b, { now: sat });
    assert.deepEqual(
      p.orders.map((o) => new Date(o.notBefore).toISOString()),
      ['2026-02-02T09:00:00.000Z', '2026-02-02T14:30:00.000Z'],
    );
  });
});

describe('planClose: stock before the open, by exposure (each combination of stock and options)', () => {
  // At 02:30 with pre-market hedging: what goes at 04:00 (09:00Z) and what waits for 09:30 (14:30Z). SPY at 440.05.
  // At the open, equal exposure either way (a flat pair: whichever goes first leaves the other's full move) keeps the
  // tier order.
  const cases: [string, [Contract, number][], string[]][] = [
    ['short stock + short put far out of the money (the strangle after its call): the stock goes', [[SPY, -100], [put(400), -1]], ['BUY 100 SPY 09:00', 'BUY 1 400P 14:30']],
    ['short stock + short put deep in the money: still a synthetic short call, the stock goes', [[SPY, -100], [put(480), -1]], ['BUY 100 SPY 09:00', 'BUY 1 480P 14:30']],
    ['short stock + short call: both short upside, the stock goes', [[SPY, -100], [call(460), -1]], ['BUY 100 SPY 09:00', 'BUY 1 460C 14:30']],
    ['long stock + short call (covered): the stock bounds the call and waits behind it', [[SPY, 100], [call(460), -1]], ['BUY 1 460C 14:30', 'SELL 100 SPY 14:30']],
    ['long stock + short call covered by a long call: the stock bounds nothing and goes', [[SPY, 100], [call(460), -1], [call(470), 1]], ['SELL 100 SPY 09:00', 'BUY 1 460C / SELL 1 470C 14:30']],
    ['long stock + short put: the stock is the risk and goes', [[SPY, 100], [put(430), -1]], ['SELL 100 SPY 09:00', 'BUY 1 430P 14:30']],
    ['long stock + long put out of the money: the stock goes', [[SPY, 100], [put(430), 1]], ['SELL 100 SPY 09:00', 'SELL 1 430P 14:30']],
    ['long stock + long put deep in the money: flat together, the stock waits for the put', [[SPY, 100], [put(480), 1]], ['SELL 100 SPY 14:30', 'SELL 1 480P 14:30']],
    ['short stock + long call out of the money: the stock goes', [[SPY, -100], [call(460), 1]], ['BUY 100 SPY 09:00', 'SELL 1 460C 14:30']],
    ['short stock + long call deep in the money: flat together, the stock waits for the call', [[SPY, -100], [call(400), 1]], ['BUY 100 SPY 14:30', 'SELL 1 400C 14:30']],
    ['long stock + long call: the stock goes', [[SPY, 100], [call(460), 1]], ['SELL 100 SPY 09:00', 'SELL 1 460C 14:30']],
  ];
  for (const [name, holdings, want] of cases) {
    test(name, () => {
      const p = plan(bookWith(holdings.map(([c, q]) => ['ic', c, q] as [string, Contract, number])));
      const got = p.orders.map((o) => {
        const legs = o.request.legs.map((l) => `${l.action} ${l.ratio * o.request.quantity} ${l.contract.secType === 'OPT' ? `${l.contract.strike}${l.contract.right}` : 'SPY'}`).join(' / ');
        return `${legs} ${new Date(o.notBefore).toISOString().slice(11, 16)}`;
      });
      assert.deepEqual(got, want);
    });
  }

  test('hedge mode: stock that offsets a long option deep in the money is held, and says why', () => {
    const h = plan(bookWith([['ic', SPY, -100], ['ic', call(400), 1]]), { mode: 'hedge' });
    assert.deepEqual(h.orders, []);
    assert.deepEqual(h.held.map((x) => [x.qty, x.why]), [[-100, 'offsets-options']]);
    assert.match(h.held[0]!.reason, /100 shares offset options of SPY/);
  });
});

describe('planClose: quotes, the broker, limits, ids', () => {
  test('no quote: blocked, never priced blind; a combo that cannot be priced falls back to single legs', () => {
    const b = bookWith([
      ['ic', call(460), -2],
      ['ic', call(465), 2],
      ['ic', put(430), -1],
    ]);
    const q = (c: Contract): QuoteView | null =>
      contractKey(c) === contractKey(call(465)) ? quote(null, 0.3) : contractKey(c) === contractKey(put(430)) ? null : allQuotes(c);
    const p = plan(b, { quote: q, now: AT_1100 });
    assert.deepEqual(lines(p), ['t2 BUY 2 SPY 2026-01-30 460 C @1.2 16:00']);
    assert.deepEqual(
      p.blocked.map((x) => [describeContract(x.contract), x.qty, x.reason]),
      [
        ['SPY 2026-01-30 430 P', -1, 'no ask for SPY 2026-01-30 430 P'],
        ['SPY 2026-01-30 465 C', 2, 'no bid for SPY 2026-01-30 465 C'],
      ],
    );
  });

  test('a long option nobody bids for is held (worth nothing, no risk), not blocked; its short closes alone', () => {
    const b = bookWith([
      ['ic', call(460), -2],
      ['ic', call(465), 2],
      ['ic', call(470), 1],
    ]);
    const q = (c: Contract): QuoteView | null => (c.secType === 'OPT' && c.strike >= 465 ? quote(null, 0.03) : allQuotes(c));
    const p = plan(b, { quote: q, now: AT_1100 });
    assert.deepEqual(lines(p), ['t2 BUY 2 SPY 2026-01-30 460 C @1.2 16:00']);
    assert.deepEqual(p.blocked, []);
    assert.deepEqual(
      p.held.map((x) => [describeContract(x.contract), x.qty, x.why]),
      [
        ['SPY 2026-01-30 465 C', 2, 'no-bid'],
        ['SPY 2026-01-30 470 C', 1, 'no-bid'],
      ],
    );
    assert.match(p.held[0]!.reason, /no bid \(ask 0.03\)/);
    // A short option nobody offers is blocked: that one needs a person.
    const naked = plan(bookWith([['ic', call(460), -1]]), { quote: () => quote(0.5, null), now: AT_1100 });
    assert.deepEqual([naked.orders.length, naked.held.length, naked.blocked[0]!.reason], [0, 0, 'no ask for SPY 2026-01-30 460 C']);
  });

  test('clamped to the broker where nothing else shares; shared contracts are not', () => {
    const b = bookWith([['ic', put(440), -2]]);
    const p = plan(b, { brokerPosition: () => Qty.unsafe(-1), now: AT_1100 });
    assert.deepEqual(lines(p), ['t0 BUY 1 SPY 2026-01-30 440 P @1.2 16:00']);
    assert.equal(p.clamped.length, 1);
    assert.equal(p.clamped[0]!.closing, -1);
    const none = plan(b, { brokerPosition: () => Qty.unsafe(1), now: AT_1100 });
    assert.deepEqual([none.orders.length, none.clamped[0]!.closing], [0, 0]);

    const shared = bookWith([
      ['ic', SPY, -100],
      [null, SPY, 100],
    ]);
    assert.deepEqual(lines(plan(shared, { now: AT_1100 })), ['t1 BUY 100 SPY @440.1 16:00 ext']);
  });

  test("the engine's residual (holdings less working orders) is what gets planned, and the broker check uses the same", () => {
    const b = bookWith([['ic', put(440), -2]]);
    // One BUY is already working: the residual is -1, the broker still shows -2.
    const p = plan(b, { holdings: [{ contract: put(440), qty: Qty.unsafe(-1) }], now: AT_1100 });
    assert.deepEqual(lines(p), ['t0 BUY 1 SPY 2026-01-30 440 P @1.2 16:00']);
    assert.equal(p.clamped.length, 0);
  });

  test('orders above the limits are split so that each part passes the gate; impossible ones are blocked', () => {
    const b = bookWith([
      ['ic', put(440), -25],
      ['ic', SPY, 1000],
    ]);
    const limits = { maxContractsPerOrder: 10, maxSharesPerOrder: null, maxNotionalPerOrder: 150_000 };
    const p = plan(b, { limits, now: AT_1100 });
    assert.deepEqual(lines(p), [
      't0 BUY 10 SPY 2026-01-30 440 P @1.2 16:00',
      't0 BUY 10 SPY 2026-01-30 440 P @1.2 16:00',
      't0 BUY 5 SPY 2026-01-30 440 P @1.2 16:00',
      't1 SELL 340 SPY @440 16:00 ext',
      't1 SELL 340 SPY @440 16:00 ext',
      't1 SELL 320 SPY @440 16:00 ext',
    ]);
    assert.deepEqual(p.orders.map((o) => o.group.split('.').pop()), ['p1', 'p2', 'p3', 'p1', 'p2', 'p3']);
    for (const o of p.orders) {
      const r = checkOrder({ order: o.request, book: b, brokerPosition: (k) => b.net(k), working: () => Qty.zero, limits, state: 'REDUCING' });
      assert.ok(r.ok, r.ok ? '' : r.reason);
    }
    const tiny = plan(b, { limits: { maxContractsPerOrder: null, maxSharesPerOrder: null, maxNotionalPerOrder: 100 }, now: AT_1100 });
    assert.deepEqual(tiny.orders, []);
    assert.deepEqual(tiny.blocked.map((x) => x.reason.slice(0, 40)), ['the order limits allow not even one unit', 'the order limits allow not even one unit']);
  });

  test('the same holdings give the same refs; a new revision gives new ones', () => {
    const mk = (): Book => bookWith([['ic', SPY, 200], ['ic', call(460), -2], ['ic', call(465), 2]]);
    assert.deepEqual(plan(mk()).orders.map((o) => o.request.ref), plan(mk()).orders.map((o) => o.request.ref));
    const r1 = plan(mk(), { revision: 1 }).orders.map((o) => o.request.ref);
    assert.ok(r1.every((r) => r.endsWith('/1')));
  });
});
