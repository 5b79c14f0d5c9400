// Events first (issue 12): a rule pass runs in slices in the serial queue's rule lane, so a broker event posted while
// a long pass runs is handled before the pass's remaining slices, not after the whole pass. The order of effects is
// asserted (each strategy's rule evaluation, the event's handling), never timings.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Rule } from '../../src/core/rules/rule.js';
import { BrokerOrderId } from '../../src/core/ids.js';
import type { BrokerEvent } from '../../src/core/events.js';
import { GuardHarness } from '../support/guard-harness.js';
import { ironCondor } from '../support/play.js';

const IDS = ['ic1', 'ic2', 'ic3', 'ic4', 'ic5', 'ic6'];

const scenario = `
name: events first
start: "2026-01-26T10:00:00-05:00"
account: DU0000001
underlyings: { SPY: { price: 445.00, volatility: 0.18 } }
strategies:
${IDS.map((id) => ironCondor(id, '2026-02-20', 1)).join('')}
events: []
until: "2026-01-26T10:05:00-05:00"
`;

/** A rule that decides nothing and records each evaluation in `effects`; `onFirst` runs at the pass's first one. */
function recorder(effects: string[], onFirst: { fn: (() => void) | null }): Rule {
  return {
    name: 'Recorder',
    priority: 0,
    evaluate: (ctx) => {
      effects.push(`rule:${ctx.strategy.id}`);
      const f = onFirst.fn;
      onFirst.fn = null;
      f?.();
      return null;
    },
  };
}

async function setUp(ruleSlice: number): Promise<{ h: GuardHarness; effects: string[]; onFirst: { fn: (() => void) | null }; notice: (code: number) => BrokerEvent }> {
  const effects: string[] = [];
  const onFirst: { fn: (() => void) | null } = { fn: null };
  const h = await GuardHarness.create(scenario, { rules: [recorder(effects, onFirst)], ruleSlice });
  const engine = await h.start();
  engine.onTimeline((e) => {
    if (e.kind === 'broker-event' && e.event.kind === 'notice') effects.push(`event:${e.event.code}`);
  });
  effects.length = 0;
  const notice = (code: number): BrokerEvent => {
    const at = h.run.clock.now();
    return { kind: 'notice', code, message: 'posted during a rule pass', orderId: BrokerOrderId.unsafe('999999'), tsEvent: at, tsInit: at };
  };
  return { h, effects, onFirst, notice };
}

describe('events first: a broker event does not wait for a whole rule pass', () => {
  test('an event posted during the first slice is handled before the pass goes on (slices of 2)', async () => {
    const { h, effects, onFirst, notice } = await setUp(2);
    onFirst.fn = () => h.broker.inject(notice(2104));
    await h.engine!.evaluateRules();
    await h.engine!.idle();
    assert.deepEqual(effects, ['rule:ic1', 'rule:ic2', 'event:2104', 'rule:ic3', 'rule:ic4', 'rule:ic5', 'rule:ic6']);
    await h.finish();
  });

  test('an event that reaches the process on a later turn of the event loop (socket data, a timer) also goes first', async () => {
    const { h, effects, onFirst, notice } = await setUp(2);
    onFirst.fn = () => setImmediate(() => h.broker.inject(notice(2106)));
    await h.engine!.evaluateRules();
    await h.engine!.idle();
    assert.deepEqual(effects, ['rule:ic1', 'rule:ic2', 'event:2106', 'rule:ic3', 'rule:ic4', 'rule:ic5', 'rule:ic6']);
    await h.finish();
  });

  test('unsliced (one step per pass, as before), the same event waits for the whole pass', async () => {
    const { h, effects, onFirst, notice } = await setUp(Infinity);
    onFirst.fn = () => h.broker.inject(notice(2104));
    await h.engine!.evaluateRules();
    await h.engine!.idle();
    assert.deepEqual(effects, [...IDS.map((id) => `rule:${id}`), 'event:2104']);
    await h.finish();
  });

  test('requests during a pass coalesce into one more pass, and idle() waits for every slice', async () => {
    const { h, effects, onFirst } = await setUp(2);
    const engine = h.engine!;
    const passes: Promise<void>[] = [];
    onFirst.fn = () => {
      for (let i = 0; i < 5; i++) passes.push(engine.evaluateRules());
    };
    const first = engine.evaluateRules();
    await engine.idle();
    await Promise.all([first, ...passes]);
    assert.deepEqual(effects, [...IDS, ...IDS].map((id) => `rule:${id}`), 'the running pass, then one pass for the five requests');
    await h.finish();
  });
});
