import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { contractKey, type Contract } from '../../src/core/contract.js';
import { AccountId } from '../../src/core/ids.js';
import { orderRef, type OrderLeg, type OrderRequest } from '../../src/core/order.js';
import { marketablePrice, nextLimitPrice, type PriceWalkInput } from '../../src/core/price-walk.js';
import { Price, Qty } from '../../src/core/quantity.js';
import type { QuoteView } from '../../src/core/quote-view.js';
import { call, put, quote, sid } from './fixtures.js';

function req(legs: readonly OrderLeg[], limit: number | null): OrderRequest {
  return {
    ref: orderRef('a', 'i', 'g', 0),
    strategyId: sid('a'),
    incidentId: null,
    account: AccountId.unsafe('DU1'),
    legs,
    quantity: Qty.unsafe(1),
    orderType: 'LMT',
    limitPrice: limit === null ? null : Price.unsafe(limit),
    outsideRth: false,
    purpose: 'emergency',
    tier: 0,
  };
}
const quotes = (m: Record<string, QuoteView>) => (c: Contract): QuoteView | null => m[contractKey(c)] ?? null;

describe('marketablePrice', () => {
  test('a BUY at the ask, a SELL at the bid', () => {
    const q = quotes({ [contractKey(put(440))]: quote(1.1, 1.25) });
    assert.deepEqual(marketablePrice([{ contract: put(440), action: 'BUY', ratio: 1 }], q), { ok: true, price: 1.25 });
    assert.deepEqual(marketablePrice([{ contract: put(440), action: 'SELL', ratio: 1 }], q), { ok: true, price: 1.1 });
  });

  test('a combo nets per unit, debit positive, credit negative, ratios counted', () => {
    const q = quotes({ [contractKey(call(460))]: quote(5.0, 5.2), [contractKey(call(465))]: quote(3.1, 3.3), [contractKey(call(455))]: quote(7.0, 7.4) });
    const spread = marketablePrice([{ contract: call(460), action: 'BUY', ratio: 1 }, { contract: call(465), action: 'SELL', ratio: 1 }], q);
    assert.deepEqual(spread, { ok: true, price: 2.1 });
    const credit = marketablePrice([{ contract: call(460), action: 'SELL', ratio: 1 }, { contract: call(465), action: 'BUY', ratio: 1 }], q);
    assert.deepEqual(credit, { ok: true, price: -1.7 });
    const fly = marketablePrice(
      [{ contract: call(455), action: 'SELL', ratio: 1 }, { contract: call(460), action: 'BUY', ratio: 2 }, { contract: call(465), action: 'SELL', ratio: 1 }],
      q,
    );
    assert.deepEqual(fly, { ok: true, price: 0.3 }); // 2 x 5.20 - 7.00 - 3.10
  });

  test('a missing side is reported, never priced blind', () => {
    const q = quotes({ [contractKey(put(440))]: quote(null, 1.25), [contractKey(put(435))]: quote(0, 0.05) });
    const r = marketablePrice([{ contract: put(440), action: 'SELL', ratio: 1 }], q);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : '', /no bid for SPY 2026-01-30 440 P/);
    assert.equal(marketablePrice([{ contract: call(470), action: 'BUY', ratio: 1 }], q).ok, false);
    // A zero bid cannot be a single SELL's limit, but is a fine price inside a combo.
    assert.equal(marketablePrice([{ contract: put(435), action: 'SELL', ratio: 1 }], q).ok, false);
    assert.deepEqual(
      marketablePrice([{ contract: put(440), action: 'BUY', ratio: 1 }, { contract: put(435), action: 'SELL', ratio: 1 }], q),
      { ok: true, price: 1.25 },
    );
  });
});

describe('nextLimitPrice', () => {
  const base = { stepTicks: 5, maxSlippageFraction: 0.1, minBoundTicks: 10 };
  test('a SELL walks down from the bid by steps, clamps at the bound, then ends', () => {
    const r = req([{ contract: put(440), action: 'SELL', ratio: 1 }], 2.0);
    const q = quotes({ [contractKey(put(440))]: quote(2.0, 2.2) });
    const at = (step: number) => nextLimitPrice({ ...base, request: r, quotes: q, step });
    // Bound: max(10% of 2.00 = 20 ticks, 10 ticks) = 20 ticks.
    assert.deepEqual([0, 1, 2, 3, 4, 5].map(at), [2.0, 1.95, 1.9, 1.85, 1.8, null]);
  });

  test('a BUY walks up from the ask; an uneven bound is reached exactly once', () => {
    const r = req([{ contract: put(440), action: 'BUY', ratio: 1 }], 1.0);
    const q = quotes({ [contractKey(put(440))]: quote(0.9, 1.0) });
    const at = (step: number) => nextLimitPrice({ ...base, stepTicks: 4, request: r, quotes: q, step });
    // Bound max(10 ticks of 1.00 x 10%, 10) = 10 ticks: +4, +8, +10, end.
    assert.deepEqual([1, 2, 3, 4].map(at), [1.04, 1.08, 1.1, null]);
  });

  test('a combo walks its net debit up, a credit toward zero and past it', () => {
    const q = quotes({ [contractKey(call(460))]: quote(5.0, 5.2), [contractKey(call(465))]: quote(3.1, 3.3) });
    const debit = req([{ contract: call(460), action: 'BUY', ratio: 1 }, { contract: call(465), action: 'SELL', ratio: 1 }], 2.1);
    assert.equal(nextLimitPrice({ ...base, request: debit, quotes: q, step: 1 }), 2.15);
    const credit = req([{ contract: call(460), action: 'SELL', ratio: 1 }, { contract: call(465), action: 'BUY', ratio: 1 }], -1.7);
    assert.equal(nextLimitPrice({ ...base, request: credit, quotes: q, step: 2 }), -1.6);
  });

  test('starts from the market now, and from the order itself when a leg has no quote', () => {
    const r = req([{ contract: put(440), action: 'BUY', ratio: 1 }], 1.0);
    const moved = quotes({ [contractKey(put(440))]: quote(1.4, 1.5) });
    assert.equal(nextLimitPrice({ ...base, request: r, quotes: moved, step: 1 }), 1.55);
    assert.equal(nextLimitPrice({ ...base, request: r, quotes: () => null, step: 1 }), 1.05);
    assert.equal(nextLimitPrice({ ...base, request: { ...r, limitPrice: null, orderType: 'MKT' }, quotes: () => null, step: 1 }), null);
  });

  test('ticks only when the fraction is null; a SELL never goes below one tick', () => {
    const r = req([{ contract: put(440), action: 'SELL', ratio: 1 }], 0.08);
    const q = quotes({ [contractKey(put(440))]: quote(0.08, 0.1) });
    const at = (step: number) => nextLimitPrice({ stepTicks: 5, maxSlippageFraction: null, minBoundTicks: 20, request: r, quotes: q, step });
    assert.deepEqual([at(1), at(2), at(3)], [0.03, 0.01, null]);
  });

  test('a SELL whose bid fell to one tick since its last attempt is tried at one tick; once tried there the walk is over', () => {
    // A long put offered at 0.02 did not fill; the bid is 0.01 now.
    const r = req([{ contract: put(431), action: 'SELL', ratio: 1 }], 0.01);
    const q = quotes({ [contractKey(put(431))]: quote(0.01, 0.03) });
    const at = (previous: number | null) => nextLimitPrice({ stepTicks: 1, maxSlippageFraction: 0.1, minBoundTicks: 2, request: r, quotes: q, step: 1, previous });
    assert.equal(at(0.02), 0.01);
    assert.equal(at(0.01), null);
    assert.equal(at(null), null, 'nothing known of the last attempt: taken as at the floor');
  });

  test('property: every step lies between the start and the bound, moves monotonically, and the walk ends', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.constantFrom<'BUY' | 'SELL'>('BUY', 'SELL'),
        fc.integer({ min: 1, max: 10 }),
        fc.option(fc.double({ min: 0, max: 0.5, noNaN: true }), { nil: null }),
        fc.integer({ min: 0, max: 30 }),
        (startCents, action, stepTicks, fraction, minBoundTicks) => {
          const start = startCents / 100;
          const r = req([{ contract: put(440), action, ratio: 1 }], start);
          const q = quotes({ [contractKey(put(440))]: quote(start, start) });
          const input = (step: number): PriceWalkInput => ({ request: r, quotes: q, step, stepTicks, maxSlippageFraction: fraction, minBoundTicks });
          const bound = Math.max(fraction === null ? 0 : Math.floor((start * fraction) / 0.01 + 1e-9), minBoundTicks) * 0.01;
          let prev = start;
          let step = 1;
          for (; step < 10_000; step++) {
            const p = nextLimitPrice(input(step));
            if (p === null) break;
            const dir = action === 'BUY' ? 1 : -1;
            assert.ok(dir * (p - prev) >= -1e-9, 'never less aggressive than the step before');
            assert.ok(Math.abs(p - start) <= bound + 1e-9, `within the bound: ${p} from ${start} by at most ${bound}`);
            assert.ok(p >= 0.01 - 1e-9, 'a single-leg limit stays positive');
            prev = p;
          }
          assert.ok(step < 10_000, 'the walk ends');
        },
      ),
      { numRuns: 300 },
    );
  });
});
