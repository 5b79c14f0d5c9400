// A broker link that stays down (IB's 1100 never followed by 1101/1102, a socket the adapter cannot get back) leaves
// the guard unable to send an order or see an assignment. A person is told once per outage after
// `guard.brokerDownAlertMs` (critical when a close is waiting), and told when it is back; a short outage says nothing.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { linkDownAlert } from '../../src/core/link-down.js';
import { GuardHarness } from '../support/guard-harness.js';
import { ROBUSTNESS_SCENARIOS } from '../support/robustness-scenarios.js';

function withEvents(yaml: string, before: string, lines: string): string {
  assert.ok(yaml.includes(before), `scenario has the line to insert before: ${before}`);
  return yaml.replace(before, `${lines}\n${before}`);
}

async function play(yaml: string): Promise<GuardHarness> {
  const h = await GuardHarness.create(yaml);
  await h.start();
  await h.finish();
  return h;
}

const linkAlerts = (h: GuardHarness) => h.alerts.raised.filter((a) => a.key.startsWith('link-down:'));

describe('broker link down', () => {
  test('down 10 minutes overnight with nothing closing: one warning after 2 minutes, one note when back', async () => {
    const h = await play(withEvents(ROBUSTNESS_SCENARIOS.condorAssigned, '  - { at: "2026-01-27T10:00:00-05:00"', '  - { at: "2026-01-27T02:00:00-05:00", disconnect: { seconds: 600 } }'));
    const alerts = linkAlerts(h);
    assert.deepEqual(
      alerts.map((a) => [a.severity, a.title, new Date(a.at).toISOString()]),
      [
        ['warning', 'Broker down 2 min', '2026-01-27T07:02:00.000Z'],
        ['info', 'Broker link back', '2026-01-27T07:10:00.000Z'],
      ],
    );
    assert.match(alerts[0]!.text, /no order can be sent or cancelled and no assignment seen/);
    assert.match(alerts[0]!.text, /1 strategy is guarded and none is closing/);
    assert.match(alerts[1]!.text, /back after 600 s/);
  });

  test('a link back within the window says nothing', async () => {
    const h = await play(withEvents(ROBUSTNESS_SCENARIOS.condorAssigned, '  - { at: "2026-01-27T10:00:00-05:00"', '  - { at: "2026-01-27T02:00:00-05:00", disconnect: { seconds: 90 } }'));
    assert.deepEqual(linkAlerts(h), []);
  });

  test('down while closing orders work: critical, naming the close that waits, and the close finishes after', async () => {
    const clean = await play(ROBUSTNESS_SCENARIOS.delayedFills);
    const h = await play(withEvents(ROBUSTNESS_SCENARIOS.delayedFills, 'until:', '  - { at: "2026-01-28T09:30:05-05:00", disconnect: { seconds: 900 } }'));
    const alerts = linkAlerts(h);
    assert.equal(alerts.length, 2, alerts.map((a) => a.title).join('\n'));
    assert.equal(alerts[0]!.severity, 'critical');
    assert.equal(alerts[0]!.title, 'BROKER DOWN 2 min: 1 close waiting');
    assert.match(alerts[0]!.text, /Closes waiting: ic\./);
    assert.equal(alerts[0]!.facts['owing'], 'ic');
    assert.equal(alerts[1]!.title, 'Broker link back');
    assert.deepEqual(h.broker.sentTwice(), []);
    const state = (x: GuardHarness) => x.entries('state').filter((s) => s.strategyId === 'ic').at(-1)?.to;
    assert.equal(state(h), state(clean), 'ends as the run without the outage');
  });

  test('the decision: critical only when a close is owed, wording by duration', () => {
    const open = [{ id: 'a', state: 'OPEN' as const, closing: false }];
    assert.equal(linkDownAlert(120_000, null, open).severity, 'warning');
    assert.equal(linkDownAlert(45_000, 'socket closed', open).title, 'Broker down 45 s');
    assert.match(linkDownAlert(45_000, 'socket closed', open).text, /down for 45 s \(socket closed\)/);
    const owing = linkDownAlert(300_000, null, [...open, { id: 'z', state: 'BROKEN', closing: false }, { id: 'b', state: 'OPEN', closing: true }, { id: 'c', state: 'CLOSED', closing: false }]);
    assert.equal(owing.severity, 'critical');
    assert.deepEqual(owing.owing, ['b', 'z']);
    assert.equal(owing.title, 'BROKER DOWN 5 min: 2 closes waiting');
  });
});
