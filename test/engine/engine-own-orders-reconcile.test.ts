// Hardening item 9: the periodic reconciliation called the guard's own filled orders unknown. `npm start` printed
// `the broker executed SELL 200 SPY under lg/..., which the store does not know` every minute after each fill, for
// as long as the broker kept the execution in its lookback (69 of 275 lines), because the diff was given only the
// orders still open. These pin down that filled (and otherwise finished) own orders are known, in the running guard
// and after a restart, and that a legguard ref nobody planned is still reported.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { stock } from '../../src/core/contract.js';
import { OrderRef, StrategyId } from '../../src/core/ids.js';
import { Qty } from '../../src/core/quantity.js';
import { GuardHarness } from '../support/guard-harness.js';
import { ROBUSTNESS_SCENARIOS } from '../support/robustness-scenarios.js';

const UNKNOWN = /store does not know/;

function unknownLines(h: GuardHarness, fromGeneration = 0): string[] {
  return h
    .entries('reconciled')
    .slice(fromGeneration)
    .flatMap((r) => r.discrepancies.filter((d) => UNKNOWN.test(d)).map((d) => `${new Date(r.at).toISOString()} ${r.reason}: ${d}`));
}

describe('reconciliation and the guard\'s own finished orders', () => {
  test('a filled closing order is the guard\'s own at every later reconciliation: nothing says the store does not know it', async () => {
    const h = await GuardHarness.create(ROBUSTNESS_SCENARIOS.condorAssigned);
    await h.start();
    // 02:30 assignment; the 200 shares are sold at 04:00 and the options at the 09:30 open; an hour of intervals after.
    await h.runTo('2026-01-28T10:30:00-05:00');
    const filled = h.broker.sent.filter((o) => o.legs.some((l) => l.contract.secType === 'STK'));
    assert.ok(filled.length > 0, 'the shares were sold');
    const after = h.entries('reconciled').filter((r) => r.at > Date.parse('2026-01-28T04:01:00-05:00'));
    assert.ok(after.length >= 60, `interval reconciliations after the fills: ${after.length}`);
    assert.deepEqual(unknownLines(h), []);
    await h.finish();
  });

  test('after a restart within the execution lookback, the fills of orders the store has as filled are known too', async () => {
    const h = await GuardHarness.create(ROBUSTNESS_SCENARIOS.condorAssigned);
    await h.start();
    await h.runTo('2026-01-28T04:02:00-05:00'); // the stock sale filled at 04:00
    await h.stop();
    const before = h.entries('reconciled').length;
    await h.start();
    await h.runTo('2026-01-28T04:09:00-05:00'); // still within the 10-minute lookback of the fill
    const start = h.entries('reconciled').slice(before);
    assert.ok(start.some((r) => r.reason === 'start'), 'the restarted guard reconciled');
    assert.deepEqual(unknownLines(h, before), []);
    await h.finish();
  });

  test('an execution under a legguard ref that no order of the store has is still reported', async () => {
    const h = await GuardHarness.create(ROBUSTNESS_SCENARIOS.condorAssigned);
    await h.start();
    await h.runTo('2026-01-26T10:00:00-05:00');
    // Someone (another guard on another store, a hand-made order) trades under a ref this store never planned.
    const ref = OrderRef.unsafe('lg/ghost/ghost:manual:1/g0/0');
    await h.run.broker.placeOrder({
      ref,
      strategyId: StrategyId.unsafe('ghost'),
      incidentId: null,
      account: h.scenario.account,
      legs: [{ contract: stock('SPY'), action: 'BUY', ratio: 1 }],
      quantity: Qty.unsafe(10),
      orderType: 'MKT',
      limitPrice: null,
      outsideRth: false,
      purpose: 'emergency',
      tier: 1,
    });
    await h.runTo('2026-01-26T10:03:00-05:00');
    const lines = unknownLines(h);
    assert.ok(lines.length > 0, 'the unknown ref is reported');
    assert.ok(lines.every((l) => l.includes(ref)), lines.join('\n'));
    await h.finish();
  });
});
