// The decision for a broken strategy is a pure core function (issue 11, "decisions are pure"): the engine journals
// what it returns and hands it to the closer.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { afterBreak, breakDecision, brokenInfoFor, describeChange } from '../../src/core/break-decision.js';
import { STRATEGY_STATES, canTransition, transition } from '../../src/core/strategy-state.js';
import type { Detection } from '../../src/core/detection.js';
import { IncidentId } from '../../src/core/ids.js';
import { EpochMs, Qty } from '../../src/core/quantity.js';
import { put, sid, SPY } from './fixtures.js';

const AT = EpochMs.unsafe(Date.parse('2026-01-28T07:30:00Z'));
const NOW = EpochMs.unsafe(AT + 1500);
const incident = IncidentId.unsafe('ic:assignment:1769585400000');
const assigned: Detection = {
  strategyId: sid('ic'),
  cause: 'assignment',
  kind: 'EARLY',
  contract: put(440),
  before: Qty.unsafe(-2),
  change: Qty.unsafe(2),
  settles: null,
  brokerAt: AT,
  reason: 'SPY 2026-01-30 440 P x2 assigned (EARLY)',
};
const stock: Detection = { ...assigned, cause: 'assignment', contract: SPY, before: Qty.zero, change: Qty.unsafe(200), settles: put(440), reason: 'stock +200' };

describe('break decision', () => {
  test('policy close, hedge, alert: the action, the urgency and the words', () => {
    const expect = [
      ['close', 'EMERGENCY_CLOSE', 'IMMEDIATE', 'closing everything it still holds'],
      ['hedge', 'HEDGE', 'IMMEDIATE', 'closing the stock it holds'],
      ['alert', 'ALERT_ONLY', 'HIGH', 'sending nothing (policy: alert)'],
    ] as const;
    for (const [policy, action, urgency, what] of expect) {
      const d = breakDecision({ strategyId: sid('ic'), policy, primary: assigned, incidentId: incident, now: NOW });
      assert.deepEqual(d, {
        strategyId: sid('ic'),
        action,
        reason: `CRITICAL: SPY 2026-01-30 440 P x2 assigned (EARLY) on ic; strategy broken, ${what}`,
        rule: 'AssignmentMonitor',
        urgency,
        at: NOW,
        metadata: { incidentId: incident, cause: 'assignment', kind: 'EARLY', leg: 'SPY 2026-01-30 440 P', qty: 2, policy },
      });
    }
  });

  test('the broken record keeps the primary leg and every reason once', () => {
    assert.deepEqual(brokenInfoFor(assigned, incident, [assigned, stock, assigned]), {
      cause: 'assignment',
      kind: 'EARLY',
      incidentId: incident,
      leg: 'SPY 2026-01-30 440 P',
      qty: 2,
      at: AT,
      reason: 'SPY 2026-01-30 440 P x2 assigned (EARLY); stock +200',
    });
  });

  test('changes in words, by cause', () => {
    assert.equal(describeChange({ ...assigned, cause: 'manual', kind: null, change: Qty.unsafe(-1) }), 'SPY 2026-01-30 440 P changed by -1 in a trade outside legguard');
    assert.equal(describeChange({ ...assigned, cause: 'expiration', kind: 'EXPIRATION' }), 'SPY 2026-01-30 440 P x2 expired');
    assert.equal(describeChange({ ...stock, cause: 'liquidation', kind: null }), 'SPY changed by +200 in a broker liquidation');
  });

  test('after broke: the transition for each state and policy, allowed by the state machine in every case', () => {
    const table = [
      ['OPEN', 'close', 'emergency-started', 'EMERGENCY_CLOSING'],
      ['OPEN', 'hedge', 'emergency-started', 'EMERGENCY_CLOSING'],
      ['OPEN', 'alert', 'gave-up', 'NEEDS_ATTENTION'],
      ['CLOSING', 'close', 'emergency-started', 'EMERGENCY_CLOSING'],
      ['BROKEN', 'close', 'emergency-started', 'EMERGENCY_CLOSING'],
      ['EMERGENCY_CLOSING', 'close', 'emergency-started', 'EMERGENCY_CLOSING'],
      ['EMERGENCY_CLOSING', 'alert', 'gave-up', 'NEEDS_ATTENTION'],
      // Broken again while a person was to look: the residual is closed again by policy (reduce-only, through the gate).
      ['NEEDS_ATTENTION', 'close', 'resumed', 'EMERGENCY_CLOSING'],
      ['NEEDS_ATTENTION', 'hedge', 'resumed', 'EMERGENCY_CLOSING'],
      ['NEEDS_ATTENTION', 'alert', 'gave-up', 'NEEDS_ATTENTION'],
    ] as const;
    for (const [from, policy, t, to] of table) {
      const broken = transition(from, 'broke');
      assert.equal(afterBreak(broken, policy), t, `${from} ${policy}`);
      assert.equal(transition(broken, t), to, `${from} ${policy}`);
    }
    // Every state a break can reach, under every policy: never a transition the machine refuses (a refused one used to
    // stop the whole guard on a liquidation of a strategy that NEEDS_ATTENTION).
    let checked = 0;
    for (const from of STRATEGY_STATES) {
      if (!canTransition(from, 'broke')) continue;
      for (const policy of ['close', 'hedge', 'alert'] as const) {
        const broken = transition(from, 'broke');
        assert.ok(canTransition(broken, afterBreak(broken, policy)), `${from} -> ${broken}, ${policy}: ${afterBreak(broken, policy)}`);
        checked++;
      }
    }
    assert.equal(checked, 15, 'OPEN, CLOSING, BROKEN, EMERGENCY_CLOSING, NEEDS_ATTENTION x 3 policies');
  });
});
