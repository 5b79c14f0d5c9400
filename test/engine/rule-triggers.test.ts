// Rules on a price change (issue 12): besides the interval's full pass, a change of a symbol's price asks for a pass
// over the strategies on that symbol only, coalesced (at most one per guard.ruleTriggerMs, not one per tick).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Rule } from '../../src/core/rules/rule.js';
import { GuardHarness } from '../support/guard-harness.js';

const scenario = `
name: rule triggers
start: "2026-01-26T10:00:00-05:00"
account: DU0000001
underlyings:
  SPY: { price: 445.00, volatility: 0.18 }
  QQQ: { price: 380.00, volatility: 0.22 }
strategies:
  - id: ps-spy
    legs:
      - { symbol: SPY, right: P, strike: 440, expiry: "2026-02-20", qty: -1 }
      - { symbol: SPY, right: P, strike: 435, expiry: "2026-02-20", qty: 1 }
  - id: ps-qqq
    legs:
      - { symbol: QQQ, right: P, strike: 370, expiry: "2026-02-20", qty: -1 }
      - { symbol: QQQ, right: P, strike: 365, expiry: "2026-02-20", qty: 1 }
guard: { ruleIntervalMs: 3600000, ruleTriggerMs: 5000, timeExitDte: null }
events:
  - { at: "2026-01-26T10:00:30-05:00", price: { QQQ: 379.00 } }
  - { at: "2026-01-26T10:00:31-05:00", price: { QQQ: 378.50 } }
  - { at: "2026-01-26T10:00:32-05:00", price: { QQQ: 378.00 } }
  - { at: "2026-01-26T10:00:40-05:00", price: { SPY: 444.00 } }
until: "2026-01-26T10:05:00-05:00"
`;

describe('rules on a price change', () => {
  test('only the strategies on the symbol that moved, at once after a quiet spell, then at most once per ruleTriggerMs', async () => {
    const seen: string[] = [];
    let clock: { now(): number } = { now: () => 0 };
    const recorder: Rule = {
      name: 'Recorder',
      priority: 0,
      evaluate: (ctx) => {
        seen.push(`${new Date(clock.now()).toISOString().slice(11, 19)} ${ctx.strategy.id}`);
        return null;
      },
    };
    const h = await GuardHarness.create(scenario, { rules: [recorder] });
    clock = h.run.clock;
    await h.start();
    await h.runTo('2026-01-26T10:00:10-05:00');
    assert.ok(seen.includes('15:00:00 ps-spy') && seen.includes('15:00:00 ps-qqq'), `the start-up pass: ${seen.join(', ')}`);
    seen.length = 0;
    await h.finish();
    // UTC: the QQQ move at once, the next two QQQ moves in one pass 5 s after the first, then SPY alone.
    assert.deepEqual(seen, ['15:00:30 ps-qqq', '15:00:35 ps-qqq', '15:00:40 ps-spy']);
  });
});
