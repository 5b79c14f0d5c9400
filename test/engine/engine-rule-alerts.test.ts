// A rule's ALERT_ONLY (issue 11: rules decide purely, the engine applies): raised as a warning with the rule's reason
// and metadata, journaled once per strategy per situation rather than at every rule pass, and never hiding a CLOSE
// of a rule after it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Rule } from '../../src/core/rules/rule.js';
import { timeExitRule } from '../../src/core/rules/time-exit.js';
import { GuardHarness } from '../support/guard-harness.js';
import { ironCondor } from '../support/play.js';

const scenario = (expiry: string, start: string, until: string): string => `
name: a rule that alerts
start: "${start}"
account: DU0000001
underlyings: { SPY: { price: 445.00, volatility: 0.18 } }
strategies:
${ironCondor('ic', expiry, 1)}
events: []
until: "${until}"
`;

const alertsAlways: Rule = {
  name: 'WatchOnly',
  priority: 0,
  evaluate: (ctx) => ({
    strategyId: ctx.strategy.id,
    action: 'ALERT_ONLY',
    reason: `something to look at (${ctx.now})`,
    rule: 'WatchOnly',
    urgency: 'NORMAL',
    at: ctx.now,
    metadata: { seenAt: ctx.now },
  }),
};

describe('rule alerts', () => {
  test('an ALERT_ONLY the rule returns at every pass is one warning and one journal entry', async () => {
    const h = await GuardHarness.create(scenario('2026-02-20', '2026-01-26T09:30:00-05:00', '2026-01-26T12:00:00-05:00'), { rules: [alertsAlways] });
    await h.start();
    await h.runTo('2026-01-26T11:59:00-05:00');
    const journal = await h.store.journal({ account: h.scenario.account, types: ['decision'] });
    const final = await h.finish();
    const raised = h.alerts.raised.filter((a) => a.title === 'WatchOnly: ic');
    assert.equal(raised.length, 1, h.alerts.raised.map((a) => a.title).join('\n'));
    assert.equal(raised[0]!.severity, 'warning');
    assert.match(raised[0]!.text, /^ic: something to look at \(\d+\)\. Nothing is sent; a person decides\.$/);
    assert.equal(raised[0]!.facts['rule'], 'WatchOnly');
    assert.equal(typeof raised[0]!.facts['seenAt'], 'number', 'the metadata travels with the alert');
    assert.equal(journal.filter((j) => (j.data as { rule?: string }).rule === 'WatchOnly').length, 1);
    assert.equal(h.broker.sent.length, 0, 'nothing sent');
    assert.equal(final.strategies[0]!.state, 'OPEN');
  });

  test('an ALERT_ONLY of an earlier rule does not hide the time exit', async () => {
    const h = await GuardHarness.create(scenario('2026-01-30', '2026-01-29T09:30:00-05:00', '2026-01-29T12:00:00-05:00'), { rules: [alertsAlways, timeExitRule(1)] });
    await h.start();
    const final = await h.finish();
    assert.equal(h.alerts.raised.filter((a) => a.title === 'WatchOnly: ic').length, 1);
    assert.ok(h.broker.sent.some((o) => o.strategyId === 'ic'), 'the time exit sent closing orders');
    assert.ok(['CLOSING', 'CLOSED'].includes(final.strategies[0]!.state), final.strategies[0]!.state);
  });
});
