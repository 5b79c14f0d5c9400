// Issue 12 item 3: the long leg's sell-or-exercise decision weighs the broker's costs, from `guard.exercise` or the
// defaults: a commission per option contract, a fee per contract exercised, a commission per share of the stock trade
// an exercise replaces.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGuardConfig } from '../../src/app/guard-config-schema.js';
import { LegguardError } from '../../src/core/errors.js';
import { DEFAULT_LONG_LEG_COSTS, decideLongLeg, type LongLegCosts } from '../../src/core/long-leg.js';
import { EpochMs, Qty } from '../../src/core/quantity.js';
import { put, quote } from '../core/fixtures.js';

const NOW = EpochMs.unsafe(Date.parse('2026-01-28T10:00:00-05:00'));

function decide(bid: number, costs: LongLegCosts): string {
  // Long 435 put with 100 SPY from the assigned short put, SPY bid 420: intrinsic 15.00 a share.
  const [d] = decideLongLeg({ contract: put(435), qty: Qty.unsafe(1), stockHeld: Qty.unsafe(100), optionQuote: quote(bid, bid + 0.4), stockQuote: quote(420, 420.02), now: NOW, costs });
  return d!.action;
}

describe('guard.exercise: the costs of the long leg decision', () => {
  test('defaults when absent; the keys given override each its own', () => {
    assert.deepEqual(parseGuardConfig({}, 'x.yaml').exercise, DEFAULT_LONG_LEG_COSTS);
    assert.deepEqual(parseGuardConfig({ exercise: { exerciseFee: 5 } }, 'x.yaml').exercise, { ...DEFAULT_LONG_LEG_COSTS, exerciseFee: 5 });
  });

  test('a negative cost or an unknown key is refused, naming the key', () => {
    for (const [raw, re] of [
      [{ exercise: { optionCommission: -1 } }, /guard\.exercise\.optionCommission/],
      [{ exercise: { commission: 1 } }, /guard\.exercise/],
    ] as const) {
      assert.throws(() => parseGuardConfig(raw, 'x.yaml'), (e: unknown) => LegguardError.is(e, 'CONFIG_INVALID') && re.test(e.message + JSON.stringify(e.details)));
    }
  });

  test('table: the costs decide between a bid just under intrinsic and exercising', () => {
    const cases: [string, number, Partial<LongLegCosts>, string][] = [
      // sell 14.95 x 100 - 0.65 = 1494.35; exercise 1500 - 0 + 100 x 0.005 = 1500.50
      ['defaults: bid 14.95 under intrinsic 15: exercise', 14.95, {}, 'exercise'],
      // exercise 1500 - 10 + 0.50 = 1490.50 < 1494.35
      ['an exercise fee of 10 a contract: sell', 14.95, { exerciseFee: 10 }, 'sell'],
      // sell 1499 - 0.65 = 1498.35 < 1500.50: exercise; with no stock commission saved and no option commission, 1499 < 1500 still
      ['bid 14.99: exercise by default', 14.99, {}, 'exercise'],
      // sell 1499 - 0 = 1499; exercise 1500 - 2 + 0 = 1498: sell
      ['no commissions, a fee of 2: sell', 14.99, { optionCommission: 0, stockCommissionPerShare: 0, exerciseFee: 2 }, 'sell'],
    ];
    for (const [name, bid, costs, want] of cases) assert.equal(decide(bid, { ...DEFAULT_LONG_LEG_COSTS, ...costs }), want, name);
  });
});
