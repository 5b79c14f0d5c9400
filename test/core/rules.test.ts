import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Holding } from '../../src/core/book.js';
import type { Decision } from '../../src/core/decision.js';
import { AccountId } from '../../src/core/ids.js';
import { EpochMs, Qty } from '../../src/core/quantity.js';
import { evaluateRules, type Rule, type RuleContext } from '../../src/core/rules/rule.js';
import { timeExitRule, TIME_EXIT_PRIORITY } from '../../src/core/rules/time-exit.js';
import type { StrategyKind } from '../../src/core/strategy.js';
import type { StrategyState } from '../../src/core/strategy-state.js';
import { call, put, sid, SPY } from './fixtures.js';

const at = (iso: string): EpochMs => EpochMs.unsafe(Date.parse(iso));

function ctx(now: EpochMs, holdings: readonly Holding[], state: StrategyState = 'OPEN', kind: StrategyKind = 'iron-condor'): RuleContext {
  return {
    strategy: { id: sid('ic'), account: AccountId.unsafe('DU1'), kind, legs: [], createdAt: EpochMs.unsafe(0) },
    state,
    holdings,
    now,
    quote: () => null,
    underlyingPrice: () => null,
  };
}
const h = (c: Holding['contract'], q: number): Holding => ({ contract: c, qty: Qty.unsafe(q) });
const IC = [h(put(435), 2), h(put(440), -2), h(call(460), -2), h(call(465), 2)];

describe('TimeExit', () => {
  test('closes at DTE <= 1 in New York days, HIGH urgency, priority 8', () => {
    const rule = timeExitRule(1);
    assert.equal(rule.priority, TIME_EXIT_PRIORITY);
    assert.equal(rule.evaluate(ctx(at('2026-01-28T15:00:00-05:00'), IC)), null, 'DTE 2');
    const d = rule.evaluate(ctx(at('2026-01-29T09:31:00-05:00'), IC));
    assert.ok(d);
    assert.deepEqual([d.action, d.rule, d.urgency, d.metadata['dte'], d.metadata['expiry']], ['CLOSE', 'TimeExit', 'HIGH', 1, '2026-01-30']);
    assert.equal(rule.evaluate(ctx(at('2026-01-30T10:00:00-05:00'), IC))?.metadata['dte'], 0);
  });

  test('counts New York dates, not UTC: 23:30 New York on the 28th is still DTE 2', () => {
    const lateEvening = at('2026-01-28T23:30:00-05:00'); // 04:30 UTC on the 29th
    assert.equal(timeExitRule(1).evaluate(ctx(lateEvening, IC)), null);
    assert.ok(timeExitRule(1).evaluate(ctx(at('2026-01-29T00:00:00-05:00'), IC)));
  });

  test('the nearest option expiry counts; stock and empty holdings never trigger', () => {
    const mixed = [h(call(460, '2026-03-20'), -1), h(call(460, '2026-02-06'), 1), h(SPY, 100)];
    const d = timeExitRule(1).evaluate(ctx(at('2026-02-05T10:00:00-05:00'), mixed));
    assert.equal(d?.metadata['expiry'], '2026-02-06');
    assert.equal(timeExitRule(1).evaluate(ctx(at('2026-01-29T10:00:00-05:00'), [h(SPY, 100)])), null);
    assert.equal(timeExitRule(1).evaluate(ctx(at('2026-01-29T10:00:00-05:00'), [])), null);
  });

  test('a covered call or cash-secured put is not closed: assignment is its plan; told once per expiry', () => {
    const now = at('2026-01-29T10:00:00-05:00');
    for (const [kind, holdings] of [
      ['covered-call', [h(SPY, 100), h(call(450), -1)]],
      ['cash-secured-put', [h(put(440), -1)]],
    ] as const) {
      const d = timeExitRule(1).evaluate(ctx(now, holdings, 'OPEN', kind));
      assert.ok(d, kind);
      assert.equal(d.action, 'ALERT_ONLY', kind);
      assert.equal(d.metadata['situation'], 'planned:2026-01-30');
      assert.match(d.reason, new RegExp(`a ${kind} is written to be assigned: not closed`));
    }
    assert.equal(timeExitRule(1).evaluate(ctx(now, IC, 'OPEN', 'vertical'))?.action, 'CLOSE', 'any other kind is closed');
  });

  test('N from config; null turns it off', () => {
    const now = at('2026-01-27T10:00:00-05:00'); // DTE 3
    assert.equal(timeExitRule(2).evaluate(ctx(now, IC)), null);
    assert.ok(timeExitRule(3).evaluate(ctx(now, IC)));
    assert.equal(timeExitRule(null).evaluate(ctx(at('2026-01-30T10:00:00-05:00'), IC)), null);
  });
});

describe('evaluateRules', () => {
  const fixed = (name: string, priority: number, action: Decision['action'] | null): Rule => ({
    name,
    priority,
    evaluate: (c) => (action === null ? null : { strategyId: c.strategy.id, action, reason: name, rule: name, urgency: 'NORMAL', at: c.now, metadata: {} }),
  });

  test('the first decision by priority wins; rules with nothing to say are skipped', () => {
    const now = at('2026-01-29T10:00:00-05:00');
    const rules = [timeExitRule(1), fixed('Later', 20, 'ALERT_ONLY'), fixed('Silent', 1, null), fixed('Earlier', 5, 'HOLD')];
    assert.equal(evaluateRules(rules, ctx(now, IC))?.rule, 'Earlier');
    assert.equal(evaluateRules(rules.filter((r) => r.name !== 'Earlier'), ctx(now, IC))?.rule, 'TimeExit');
    assert.equal(evaluateRules([fixed('B', 1, 'HOLD'), fixed('A', 1, 'CLOSE')], ctx(now, IC))?.rule, 'A', 'ties by name');
    assert.equal(evaluateRules([], ctx(now, IC)), null);
  });

  test('only OPEN strategies are evaluated', () => {
    const now = at('2026-01-29T10:00:00-05:00');
    for (const s of ['CLOSING', 'CLOSED', 'BROKEN', 'EMERGENCY_CLOSING', 'NEEDS_ATTENTION'] as const) {
      assert.equal(evaluateRules([timeExitRule(1)], ctx(now, IC, s)), null, s);
    }
  });
});
