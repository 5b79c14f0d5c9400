// Issue 12 item 3: the long leg after an assignment, sold or exercised by its bid against its intrinsic value net
// of costs; on expiration day, closed or lapsed when its exercise would open a position nobody wants.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { option } from '../../src/core/contract.js';
import { decideExpiringLong, decideLongLeg, splitExercises } from '../../src/core/long-leg.js';
import { EpochMs, Qty } from '../../src/core/quantity.js';
import { call, put, quote, SPY } from './fixtures.js';

const NOW = EpochMs.unsafe(Date.parse('2026-01-28T10:00:00-05:00'));
const q = (n: number): Qty => Qty.unsafe(n);

describe('decideLongLeg', () => {
  // [case, contract, qty, stockHeld, option bid, stock bid/ask, expected [action, qty][]]
  const table: [string, ReturnType<typeof put>, number, number, number | null, number, [string, number][]][] = [
    ['deep ITM put, bid below intrinsic: exercise', put(435), 1, 100, 14.6, 420, [['exercise', 1]]],
    ['deep ITM put, no bid at all: exercise', put(435), 1, 100, null, 420, [['exercise', 1]]],
    ['ITM put, bid above intrinsic (time value): sell', put(435), 1, 100, 15.5, 420, [['sell', 1]]],
    ['bid exactly intrinsic: commission makes exercise better', put(435), 1, 100, 15, 420, [['exercise', 1]]],
    ['OTM put with a bid: sell', put(435), 1, 100, 0.4, 440, [['sell', 1]]],
    ['OTM put, nobody bids: hold', put(435), 1, 100, null, 440, [['hold', 1]]],
    ['two puts, stock for one: exercise one, sell one', put(435), 2, 100, 14.6, 420, [['exercise', 1], ['sell', 1]]],
    ['no stock to deliver: never exercise into a short', put(435), 1, 0, 14.6, 420, [['sell', 1]]],
    ['short stock under a long put: exercising would add to it', put(435), 1, -100, 14.6, 420, [['sell', 1]]],
    ['deep ITM call against short stock: exercise', call(450), 1, -100, 9.5, 460, [['exercise', 1]]],
    ['deep ITM call against long stock: sell', call(450), 1, 100, 9.5, 460, [['sell', 1]]],
  ];
  for (const [name, c, n, stockHeld, bid, s, expected] of table) {
    test(name, () => {
      const ds = decideLongLeg({
        contract: c,
        qty: q(n),
        stockHeld: q(stockHeld),
        optionQuote: quote(bid, bid === null ? null : bid + 0.3),
        stockQuote: quote(s, s + 0.02),
        now: NOW,
      });
      assert.deepEqual(ds.map((d) => [d.action, d.qty]), expected);
      for (const d of ds) assert.match(d.reason, /SPY 2026-01-30/);
    });
  }

  test('the numbers behind an exercise: bid net of commission against intrinsic net of costs', () => {
    const [d] = decideLongLeg({ contract: put(435), qty: q(1), stockHeld: q(100), optionQuote: quote(14.6, 15.2), stockQuote: quote(420, 420.02), now: NOW });
    assert.equal(d!.action, 'exercise');
    assert.equal(d!.stockPrice, 420);
    assert.equal(d!.intrinsic, 15);
    assert.equal(d!.sellValue, 1459.35);
    assert.equal(d!.exerciseValue, 1500.5);
  });

  test('costs decide a close call: a large exercise fee makes selling better', () => {
    const [d] = decideLongLeg({
      contract: put(435),
      qty: q(1),
      stockHeld: q(100),
      optionQuote: quote(14.9, 15.2),
      stockQuote: quote(420, 420.02),
      now: NOW,
      costs: { optionCommission: 0.65, exerciseFee: 20, stockCommissionPerShare: 0 },
    });
    assert.equal(d!.action, 'sell');
  });

  test('European, cash-settled and expired options are never exercised', () => {
    const spx = option({ symbol: 'SPX', right: 'P', strike: 6000, expiry: '2026-01-30' });
    const [a] = decideLongLeg({ contract: spx, qty: q(1), stockHeld: q(0), optionQuote: quote(100, 101), stockQuote: quote(5800, 5801), now: NOW });
    assert.equal(a!.action, 'sell');
    const after = EpochMs.unsafe(Date.parse('2026-01-30T16:30:00-05:00'));
    const [b] = decideLongLeg({ contract: put(435), qty: q(1), stockHeld: q(100), optionQuote: quote(null, null), stockQuote: quote(420, 420.02), now: after });
    assert.equal(b!.action, 'hold');
  });
});

describe('splitExercises', () => {
  test('put spread with its short put assigned: the long put is exercised, nothing is left for orders', () => {
    const out = splitExercises({
      holdings: [
        { contract: put(435), qty: q(1) },
        { contract: SPY, qty: q(100) },
      ],
      quote: (c) => (c.secType === 'STK' ? quote(420, 420.02) : quote(14.6, 15.2)),
      now: NOW,
    });
    assert.equal(out.exercises.length, 1);
    assert.deepEqual(out.exercises[0]!.effects.map((e) => e.qty), [-1, -100]);
    assert.deepEqual(out.rest, []);
  });

  test('a long put whose short partner is still held is not the long leg of an assignment', () => {
    const out = splitExercises({
      holdings: [
        { contract: put(440), qty: q(-1) },
        { contract: put(435), qty: q(1) },
        { contract: SPY, qty: q(100) },
      ],
      quote: (c) => (c.secType === 'STK' ? quote(420, 420.02) : quote(14.6, 15.2)),
      now: NOW,
    });
    assert.equal(out.exercises.length, 0);
    assert.equal(out.rest.length, 3);
  });

  test('a contract whose exercise failed is sold instead', () => {
    const out = splitExercises({
      holdings: [
        { contract: put(435), qty: q(1) },
        { contract: SPY, qty: q(100) },
      ],
      quote: (c) => (c.secType === 'STK' ? quote(420, 420.02) : quote(14.6, 15.2)),
      now: NOW,
      noExercise: new Set(['OPT:SPY:2026-01-30:P:435']),
    });
    assert.equal(out.exercises.length, 0);
    assert.equal(out.rest.length, 2);
  });

  test('two long puts, 150 shares: one exercised, the other and the 50 shares left for orders', () => {
    const out = splitExercises({
      holdings: [
        { contract: put(435), qty: q(2) },
        { contract: SPY, qty: q(150) },
      ],
      quote: (c) => (c.secType === 'STK' ? quote(420, 420.02) : quote(14.6, 15.2)),
      now: NOW,
    });
    assert.equal(out.exercises.length, 1);
    assert.deepEqual(out.rest.map((h) => h.qty).sort((a, b) => a - b), [1, 50]);
  });
});

describe('decideExpiringLong', () => {
  const base = { contract: put(435), qty: q(1), band: 0.5 };
  const table: [string, number, number | null, number, string][] = [
    ['ITM, no stock, a bid: sell', 0, 0.3, 434.8, 'sell'],
    ['ITM, no stock, no bid: lapse', 0, null, 434.8, 'lapse'],
    ['within the pin band, no bid: lapse', 0, null, 435.3, 'lapse'],
    ['far OTM: nothing', 0, null, 440, 'none'],
    ['ITM with the long stock it delivers out of: nothing to do', 100, null, 430, 'none'],
  ];
  for (const [name, stockHeld, bid, underlying, action] of table) {
    test(name, () => {
      const d = decideExpiringLong({ ...base, stockHeld: q(stockHeld), bid, underlying });
      assert.equal(d.action, action);
      assert.match(d.reason, /SPY 2026-01-30 435 P x1/);
    });
  }
});
