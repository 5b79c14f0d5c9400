// Issue 11: the operator's trading state. ACTIVE sends closes, REDUCING sends closes (each reduces), HALTED sends
// nothing: working orders are cancelled, detections, breaks, alerts and close plans go on and are journaled, the plan
// is held until reduce-only or resume sends it. The engine reads the state from the store at start.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EpochMs } from '../../src/core/quantity.js';
import type { TradingState } from '../../src/core/gate.js';
import type { TradingStateRecord } from '../../src/ports/store.js';
import { GuardHarness } from '../support/guard-harness.js';
import { condorAssignedInHours } from '../support/drill-scenarios.js';

const at = (iso: string): EpochMs => EpochMs.unsafe(Date.parse(iso));

/** The condor of the drills; its short puts are assigned at 10:00; `fills` as the scenario's fill model. */
async function harness(fills = 'immediate'): Promise<GuardHarness> {
  return GuardHarness.create(condorAssignedInHours({ fills }));
}

/** As the daemon does it: the CLI wrote the state to the store, the guard takes it. */
async function setState(h: GuardHarness, state: TradingState, iso: string, reason: string | null = null): Promise<void> {
  const rec: TradingStateRecord = { state, reason, by: 'alice', at: at(iso) };
  await h.store.commit({ account: h.scenario.account, tradingState: rec });
  await h.engine!.setTradingState(rec);
}

async function stateOfIc(h: GuardHarness): Promise<string> {
  const r = (await h.store.listStrategies(h.scenario.account)).find((x) => x.definition.id === 'ic');
  return r!.state;
}

async function tradingJournal(h: GuardHarness): Promise<unknown[]> {
  return (await h.store.journal({ account: h.scenario.account, types: ['trading-state'] })).map((j) => {
    const d = j.data as Record<string, unknown>;
    return [d.from, d.to, d.by, d.reason];
  });
}

describe('trading state in the engine', () => {
  test('ACTIVE (the default): the close goes out at the assignment', async () => {
    const h = await harness();
    const engine = await h.start();
    assert.equal(engine.tradingState, 'ACTIVE', 'never set: ACTIVE');
    await h.runTo('2026-01-28T10:05:00-05:00');
    assert.ok(h.broker.sent.length > 0, 'orders sent');
    assert.ok(h.broker.sent.every((o) => o.strategyId === 'ic'));
    assert.equal(await stateOfIc(h), 'CLOSED');
    assert.deepEqual(h.entries('gate-refused'), []);
    const final = await h.finish();
    assert.deepEqual(final.positions, [], 'flat');
  });

  test('REDUCING: closes reduce, so they go out as in ACTIVE; the change is journaled and alerted (info)', async () => {
    const h = await harness();
    await h.start();
    await setState(h, 'REDUCING', '2026-01-28T09:45:00-05:00', 'end of quarter');
    assert.equal(h.engine!.tradingState, 'REDUCING');
    await h.runTo('2026-01-28T10:05:00-05:00');
    assert.ok(h.broker.sent.length > 0, 'orders sent');
    assert.equal(await stateOfIc(h), 'CLOSED');
    assert.deepEqual(h.entries('gate-refused'), [], 'the gate, given REDUCING, lets every close through');
    assert.deepEqual(await tradingJournal(h), [['ACTIVE', 'REDUCING', 'alice', 'end of quarter']]);
    const a = h.alerts.raised.filter((x) => x.title.startsWith('trading '));
    assert.deepEqual(a.map((x) => [x.severity, x.title]), [['info', 'trading REDUCING for DU0000001']]);
    await h.finish();
  });

  test('HALTED: detected, broken, alerted, planned and journaled, but nothing is sent until resume; then the close goes out', async () => {
    const h = await harness();
    await h.start();
    await setState(h, 'HALTED', '2026-01-28T09:45:00-05:00', 'broker outage');
    // The same state again is nothing new: one journal entry, one alert.
    await h.engine!.setTradingState({ state: 'HALTED', reason: 'again', by: 'bob', at: at('2026-01-28T09:46:00-05:00') });
    await h.runTo('2026-01-28T10:30:00-05:00');

    assert.ok(h.entries('detection').some((d) => d.detection.strategyId === 'ic' && d.detection.cause === 'assignment'), 'the assignment is detected');
    assert.deepEqual(
      h.entries('state').filter((s) => s.strategyId === 'ic').map((s) => s.to),
      ['OPEN', 'BROKEN', 'EMERGENCY_CLOSING'],
      'marked broken, its close under way',
    );
    assert.ok(h.alerts.raised.some((x) => x.severity === 'critical' && x.strategyId === 'ic'), 'the critical alert is raised');
    const planned = h.entries('order-planned');
    assert.ok(planned.length > 0, 'a close plan is made');
    const journaled = await h.store.journal({ account: h.scenario.account, types: ['order'] });
    assert.ok(journaled.some((j) => j.key.startsWith('plan:')), 'and journaled');
    assert.equal(h.broker.sent.length, 0, 'nothing was sent');
    assert.deepEqual(h.entries('gate-refused'), [], 'held before the gate, not refused by it');
    assert.ok(h.entries('note').some((n) => /held: trading is HALTED/.test(n.text)), 'the timeline says the orders are held');
    const open = await h.store.orders({ account: h.scenario.account, strategyId: h.engine!.strategies.get('ic' as never)!.def.id });
    assert.ok(open.length > 0 && open.every((o) => o.status === 'planned'), `still planned: ${open.map((o) => o.status).join(', ')}`);

    await setState(h, 'ACTIVE', '2026-01-28T10:30:00-05:00', 'outage over');
    await h.runTo('2026-01-28T10:35:00-05:00');
    assert.deepEqual(h.broker.sent.map((o) => o.ref).sort(), planned.map((p) => p.order.request.ref).sort(), 'the held plan is what went out');
    assert.equal(await stateOfIc(h), 'CLOSED');
    assert.deepEqual(await tradingJournal(h), [
      ['ACTIVE', 'HALTED', 'alice', 'broker outage'],
      ['HALTED', 'ACTIVE', 'alice', 'outage over'],
    ]);
    const a = h.alerts.raised.filter((x) => x.title.startsWith('trading '));
    assert.deepEqual(a.map((x) => [x.severity, x.title]), [
      ['warning', 'trading HALTED for DU0000001'],
      ['info', 'trading ACTIVE for DU0000001'],
    ]);
    const final = await h.finish();
    assert.deepEqual(final.positions, [], 'flat');
  });

  test('HALTED while closing orders work: they are cancelled, the re-plan is held, reduce-only sends it', async () => {
    const h = await GuardHarness.create(condorAssignedInHours({ fills: 'delayed, delayMs: 600000', fillTimeoutMs: 3_600_000 }));
    await h.start();
    await h.runTo('2026-01-28T10:01:00-05:00');
    const first = h.broker.sent.map((o) => o.ref);
    assert.ok(first.length > 0, 'the close went out and works (fills take ten minutes)');
    await setState(h, 'HALTED', '2026-01-28T10:01:00-05:00');
    await h.runTo('2026-01-28T10:30:00-05:00');
    const updates = h.entries('order-update').filter((u) => u.status === 'cancelled').map((u) => u.order.request.ref);
    assert.deepEqual(updates.sort(), [...first].sort(), 'every working order was cancelled');
    assert.deepEqual(h.broker.sent.map((o) => o.ref), first, 'nothing new was sent while halted');
    assert.equal(await stateOfIc(h), 'EMERGENCY_CLOSING');
    const held = h.entries('order-planned').filter((p) => !first.includes(p.order.request.ref));
    assert.ok(held.length > 0, 'the rest was planned again, and held');

    await setState(h, 'REDUCING', '2026-01-28T10:30:00-05:00');
    await h.runTo('2026-01-28T10:45:00-05:00');
    assert.deepEqual(h.broker.sent.slice(first.length).map((o) => o.ref).sort(), held.map((p) => p.order.request.ref).sort(), 'reduce-only sent the held plan');
    assert.equal(await stateOfIc(h), 'CLOSED');
    await h.finish();
  });

  test('a guard started while the store says HALTED starts halted', async () => {
    const h = await harness();
    await h.store.commit({ account: h.scenario.account, tradingState: { state: 'HALTED', reason: null, by: 'alice', at: at('2026-01-28T09:00:00-05:00') } });
    const engine = await h.start();
    assert.equal(engine.tradingState, 'HALTED');
    await h.runTo('2026-01-28T10:30:00-05:00');
    assert.ok(h.entries('order-planned').length > 0, 'planned');
    assert.deepEqual(h.broker.sent, [], 'nothing sent');
    await h.stop();
  });
});
