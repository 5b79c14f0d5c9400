import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { inferKind } from '../../src/core/strategy-kind.js';
import { option } from '../../src/core/contract.js';
import { call, leg, put, SPY, opt } from './fixtures.js';

describe('inferKind', () => {
  test('iron condor, short and long premium, any size', () => {
    const ic = [leg(put(435), 2), leg(put(440), -2), leg(call(460), -2), leg(call(465), 2)];
    assert.equal(inferKind(ic), 'iron-condor');
    assert.equal(inferKind(ic.map((l) => leg(l.contract as ReturnType<typeof put>, 0 - l.qty))), 'iron-condor');
    // Unequal wing widths are still an iron condor.
    assert.equal(inferKind([leg(put(430), 1), leg(put(440), -1), leg(call(460), -1), leg(call(462), 1)]), 'iron-condor');
  });

  test('iron condor near misses are custom', () => {
    // Put spread sells premium, call spread buys it: not an iron condor.
    assert.equal(inferKind([leg(put(435), 2), leg(put(440), -2), leg(call(460), 2), leg(call(465), -2)]), 'custom');
    // Unequal sizes.
    assert.equal(inferKind([leg(put(435), 2), leg(put(440), -2), leg(call(460), -1), leg(call(465), 1)]), 'custom');
    // Mixed expiries.
    assert.equal(inferKind([leg(put(435), 1), leg(put(440), -1), leg(call(460, '2026-02-06'), -1), leg(call(465, '2026-02-06'), 1)]), 'custom');
    // Put strikes above the call strikes (the spreads overlap).
    assert.equal(inferKind([leg(put(465), 1), leg(put(470), -1), leg(call(440), -1), leg(call(445), 1)]), 'custom');
    // Four calls is a condor, not an iron condor.
    assert.equal(inferKind([leg(call(435), 1), leg(call(440), -1), leg(call(460), -1), leg(call(465), 1)]), 'custom');
  });

  test('iron butterfly: the short put and call share a strike', () => {
    assert.equal(inferKind([leg(put(440), 1), leg(put(450), -1), leg(call(450), -1), leg(call(460), 1)]), 'iron-butterfly');
  });

  test('vertical, both directions, and near misses', () => {
    assert.equal(inferKind([leg(put(440), -2), leg(put(435), 2)]), 'vertical');
    assert.equal(inferKind([leg(call(460), 1), leg(call(465), -1)]), 'vertical');
    assert.equal(inferKind([leg(call(460), 1), leg(call(465), 1)]), 'custom'); // same sign
    assert.equal(inferKind([leg(call(460), 1), leg(call(465), -2)]), 'ratio-spread');
    assert.equal(inferKind([leg(call(460), 1), leg(call(465, '2026-02-06'), -1)]), 'diagonal');
  });

  test('straddle and strangle, long or short, and near misses', () => {
    assert.equal(inferKind([leg(put(450), -1), leg(call(450), -1)]), 'straddle');
    assert.equal(inferKind([leg(put(450), 3), leg(call(450), 3)]), 'straddle');
    assert.equal(inferKind([leg(put(440), -1), leg(call(460), -1)]), 'strangle');
    assert.equal(inferKind([leg(put(440), -1), leg(call(460), 1)]), 'custom'); // risk reversal
    assert.equal(inferKind([leg(put(440), -1), leg(call(460), -2)]), 'custom');
    assert.equal(inferKind([leg(put(450), -1), leg(call(450, '2026-02-06'), -1)]), 'custom');
  });

  test('butterfly: equal spacing, 1:-2:1 (ratio-aware), either sign', () => {
    assert.equal(inferKind([leg(call(450), 1), leg(call(455), -2), leg(call(460), 1)]), 'butterfly');
    assert.equal(inferKind([leg(put(450), -3), leg(put(455), 6), leg(put(460), -3)]), 'butterfly');
    // The body given as two legs on the same contract is merged.
    assert.equal(inferKind([leg(call(450), 1), leg(call(455), -1), leg(call(455), -1), leg(call(460), 1)]), 'butterfly');
    assert.equal(inferKind([leg(call(450), 1), leg(call(455), -1), leg(call(460), 1)]), 'custom'); // 1:1:1
    assert.equal(inferKind([leg(call(450), 1), leg(call(455), -2), leg(call(465), 1)]), 'custom'); // broken wing
    assert.equal(inferKind([leg(call(450), 1), leg(call(455), 2), leg(call(460), 1)]), 'custom'); // body same sign
    assert.equal(inferKind([leg(call(450), 1), leg(put(455), -2), leg(call(460), 1)]), 'custom'); // mixed rights
  });

  test('covered call: long stock and short calls it covers', () => {
    assert.equal(inferKind([leg(SPY, 100), leg(call(460), -1)]), 'covered-call');
    assert.equal(inferKind([leg(SPY, 300), leg(call(460), -2)]), 'covered-call');
    assert.equal(inferKind([leg(SPY, 100), leg(call(460), -2)]), 'custom'); // half naked
    assert.equal(inferKind([leg(SPY, -100), leg(call(460), -1)]), 'custom'); // short stock
    assert.equal(inferKind([leg(SPY, 100), leg(call(460), 1)]), 'custom'); // long call
    assert.equal(inferKind([leg(SPY, 100), leg(call(460), -1), leg(put(430), 1)]), 'collar');
    assert.equal(inferKind([leg(SPY, 100)]), 'custom');
  });

  test('cash-secured put: a lone short put only', () => {
    assert.equal(inferKind([leg(put(440), -2)]), 'cash-secured-put');
    assert.equal(inferKind([leg(put(440), 2)]), 'custom');
    assert.equal(inferKind([leg(call(440), -1)]), 'custom');
  });

  test('calendar: same strike and right, two expiries, opposite signs', () => {
    assert.equal(inferKind([leg(call(450), -1), leg(call(450, '2026-02-27'), 1)]), 'calendar');
    assert.equal(inferKind([leg(call(450), -1), leg(call(450, '2026-02-27'), -1)]), 'custom');
    assert.equal(inferKind([leg(call(450), -1), leg(call(455, '2026-02-27'), 1)]), 'diagonal');
  });

  test('legs that cancel, several underlyings, mixed multipliers and nothing are custom or reduce', () => {
    assert.equal(inferKind([]), 'custom');
    assert.equal(inferKind([leg(put(440), -2), leg(put(440), 2)]), 'custom');
    // A cancelled pair leaves a lone short put.
    assert.equal(inferKind([leg(put(440), -1), leg(call(460), 1), leg(call(460), -1)]), 'cash-secured-put');
    assert.equal(inferKind([leg(put(440), -1), leg(opt('QQQ', 'P', 400), 1)]), 'custom');
    const mini = option({ symbol: 'SPY', right: 'P', strike: 435, expiry: '2026-01-30', multiplier: 10 });
    assert.equal(inferKind([leg(put(440), -1), leg(mini, 1)]), 'custom');
  });

  test('diagonal, collar and ratio spread, and their near misses', () => {
    assert.equal(inferKind([leg(put(440), -2), leg(put(435, '2026-02-27'), 2)]), 'diagonal');
    assert.equal(inferKind([leg(put(440), -2), leg(put(435, '2026-02-27'), 1)]), 'custom'); // unequal
    assert.equal(inferKind([leg(put(440), -1), leg(put(435, '2026-02-27'), -1)]), 'custom'); // same sign
    assert.equal(inferKind([leg(SPY, 200), leg(put(430), 2), leg(call(460), -2)]), 'collar');
    assert.equal(inferKind([leg(SPY, 100), leg(put(430), 2), leg(call(460), -2)]), 'custom'); // half covered
    assert.equal(inferKind([leg(SPY, 100), leg(put(460), 1), leg(call(430), -1)]), 'custom'); // put above the call
    assert.equal(inferKind([leg(SPY, 100), leg(put(430), 1), leg(call(460, '2026-02-27'), -1)]), 'custom'); // two expiries
    assert.equal(inferKind([leg(put(440), 2), leg(put(430), -4)]), 'ratio-spread');
    assert.equal(inferKind([leg(call(450), 1), leg(call(460), -3)]), 'ratio-spread');
    assert.equal(inferKind([leg(call(450), 2), leg(call(460), -3)]), 'custom'); // 2x3 is no whole ratio
    assert.equal(inferKind([leg(call(450), 1), leg(call(460, '2026-02-27'), -2)]), 'custom'); // two expiries
  });
});
