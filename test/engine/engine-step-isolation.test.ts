// Issue 10 item 2 / issue 11: a failing step for one strategy (here a rule that throws on it at every evaluation, as a
// bug or a record the code did not expect would) is that strategy's alone: a critical alert names the strategy and
// the error, and the other strategies stay guarded. It used to stop the whole engine (crash-only), so an assignment
// on another strategy was never closed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Rule } from '../../src/core/rules/rule.js';
import { GuardHarness } from '../support/guard-harness.js';
import { ironCondor } from '../support/play.js';

const TWO_CONDORS = `
name: two condors, one assigned, the other with a rule that fails
start: "2026-01-26T09:30:00-05:00"
account: DU0000001
underlyings: { SPY: { price: 445.00, volatility: 0.18 } }
strategies:
${ironCondor('ic')}${ironCondor('other', '2026-02-20', 1)}
events:
  - { at: "2026-01-27T10:00:00-05:00", price: { SPY: 436.10 } }
  - { at: "2026-01-28T02:30:00-05:00", assign: { symbol: SPY, right: P, strike: 440, expiry: "2026-01-30", qty: 2 } }
until: "2026-01-28T11:00:00-05:00"
`;

/** A rule with a bug that shows only on one strategy. */
const failsOnOther: Rule = {
  name: 'FailsOnOther',
  priority: 0,
  evaluate(ctx) {
    if (ctx.strategy.id === 'other') throw new TypeError("Cannot read properties of undefined (reading 'strike')");
    return null;
  },
};

describe('engine step isolation', () => {
  test("a rule failing on one strategy is alerted by name, and another strategy's assignment is still closed", async () => {
    const h = await GuardHarness.create(TWO_CONDORS, { rules: [failsOnOther] });
    await h.start();
    const final = await h.finish();
    assert.equal(h.engine, null);
    const errors = h.alerts.raised.filter((a) => a.title === 'GUARD ERROR: other');
    assert.equal(errors.length, 1, 'one alert for the failing strategy, not one per evaluation');
    assert.equal(errors[0]!.severity, 'critical');
    assert.match(errors[0]!.text, /other: the guard's rules step failed \(INTERNAL: Cannot read properties of undefined \(reading 'strike'\)\)/);
    const byId = new Map(final.strategies.map((s) => [s.id, s]));
    // Closed down to the long call wing nobody bids for, left to expire (as in the single-condor scenario).
    const ic = byId.get('ic')!;
    assert.ok(ic.state === 'EMERGENCY_CLOSING' || ic.state === 'CLOSED', JSON.stringify(ic));
    assert.ok(ic.holdings.every(([k, q]) => k.startsWith('OPT:') && q > 0), `nothing at risk left on ic: ${JSON.stringify(ic.holdings)}`);
    assert.ok(h.broker.sent.some((o) => o.strategyId === 'ic'), 'orders were sent for ic');
    assert.equal(byId.get('other')?.state, 'OPEN', 'the failing strategy is left as it was');
    assert.ok(h.alerts.raised.some((a) => a.title.startsWith('ASSIGNMENT') || /assign/i.test(a.title)), h.alerts.raised.map((a) => a.title).join('\n'));
  });
});
