// The ordinary exit a rule decides is a pure core function (issue 11, "the same for normal exits and rules"): the
// engine applies what it returns.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Book } from '../../src/core/book.js';
import { contractKey } from '../../src/core/contract.js';
import type { Decision, DecisionAction } from '../../src/core/decision.js';
import { exitDecision, legMismatch } from '../../src/core/exit-decision.js';
import { AccountId, type ContractKey } from '../../src/core/ids.js';
import { EpochMs, Qty } from '../../src/core/quantity.js';
import type { StrategyDefinition } from '../../src/core/strategy.js';
import { leg, put, sid } from './fixtures.js';

const NOW = EpochMs.unsafe(Date.parse('2026-01-29T15:00:00Z'));
const VERTICAL: StrategyDefinition = {
  id: sid('v'),
  account: AccountId.unsafe('DU1'),
  kind: 'vertical',
  legs: [leg(put(440), -1), leg(put(435), 1)],
  createdAt: EpochMs.unsafe(0),
};
const decision = (action: DecisionAction, metadata: Decision['metadata'] = {}): Decision => ({
  strategyId: sid('v'),
  action,
  reason: 'a reason',
  rule: 'SomeRule',
  urgency: 'HIGH',
  at: NOW,
  metadata,
});

function bookWith(short: number, long: number): Book {
  const b = new Book();
  b.addStrategy(sid('v'));
  if (short !== 0) b.apply(sid('v'), put(440), short);
  if (long !== 0) b.apply(sid('v'), put(435), long);
  return b;
}
const brokerMatching = (b: Book) => (key: ContractKey): Qty => b.net(key);

describe('exit decision', () => {
  test('each rule action, with and without a leg mismatch', () => {
    const table = [
      ['CLOSE', null, 'close'],
      ['CLOSE', 'the legs differ', 'emergency'],
      ['ALERT_ONLY', null, 'alert'],
      ['HOLD', null, 'none'],
      ['EMERGENCY_CLOSE', null, 'none'],
      ['HEDGE', null, 'none'],
    ] as const;
    for (const [action, mismatch, kind] of table) {
      const out = exitDecision({ def: VERTICAL, decision: decision(action), mismatch, policy: 'close', now: NOW });
      assert.equal(out.kind, kind, `${action} ${mismatch}`);
    }
  });

  test('a close: the decision journaled as an exit, no incident', () => {
    const out = exitDecision({ def: VERTICAL, decision: decision('CLOSE'), mismatch: null, policy: 'close', now: NOW });
    assert.deepEqual(out, { kind: 'close', decision: decision('CLOSE'), journal: [{ type: 'decision', key: `dec:v:exit:${NOW}`, data: decision('CLOSE'), incidentId: null }] });
  });

  test('a close refused on a mismatch: the emergency path by policy, broken info, both decisions journaled', () => {
    for (const [policy, action] of [['close', 'EMERGENCY_CLOSE'], ['hedge', 'HEDGE'], ['alert', 'ALERT_ONLY']] as const) {
      const out = exitDecision({ def: VERTICAL, decision: decision('CLOSE'), mismatch: 'the legs differ', policy, now: NOW });
      assert.equal(out.kind, 'emergency');
      if (out.kind !== 'emergency') return;
      assert.equal(out.decision.action, action);
      assert.equal(out.decision.urgency, 'IMMEDIATE');
      assert.equal(out.decision.reason, 'SomeRule wanted an ordinary close, but the legs differ; emergency path instead');
      assert.equal(out.incidentId, `v:unknown:${NOW}`);
      assert.deepEqual(out.broken, { cause: 'unknown', kind: null, incidentId: out.incidentId, leg: 'the legs differ', qty: 0, at: NOW, reason: 'normal close refused: the legs differ' });
      assert.equal(out.primary.cause, 'unknown');
      assert.equal(out.primary.change, 0);
      assert.deepEqual(
        out.journal.map((j) => j.key),
        [`dec:v:refused:${NOW}`, `dec:v:unknown:${NOW}:${NOW}`],
      );
      assert.deepEqual(out.journal[0]!.data, { refused: decision('CLOSE'), because: 'the legs differ' });
    }
  });

  test("an ALERT_ONLY: a warning with the rule's reason and metadata; the situation is the rule's tag, else its name", () => {
    const tagged = exitDecision({ def: VERTICAL, decision: decision('ALERT_ONLY', { situation: 'ex-div 2026-02-02', extrinsic: 0.05 }), mismatch: null, policy: 'close', now: NOW });
    assert.equal(tagged.kind, 'alert');
    if (tagged.kind !== 'alert') return;
    assert.equal(tagged.situation, 'SomeRule:ex-div 2026-02-02');
    assert.equal(tagged.alert.severity, 'warning');
    assert.equal(tagged.alert.title, 'SomeRule: v');
    assert.equal(tagged.alert.text, 'v: a reason. Nothing is sent; a person decides.');
    assert.deepEqual(tagged.alert.facts, { strategyId: 'v', rule: 'SomeRule', urgency: 'HIGH', situation: 'ex-div 2026-02-02', extrinsic: 0.05 });
    assert.equal(tagged.journal.length, 1);
    const untagged = exitDecision({ def: VERTICAL, decision: decision('ALERT_ONLY', { extrinsic: 0.07 }), mismatch: null, policy: 'close', now: NOW });
    assert.equal(untagged.kind === 'alert' && untagged.situation, 'SomeRule:', 'a changing number in the reason or metadata is the same situation');
  });
});

describe('leg mismatch', () => {
  test('matching legs and broker: null', () => {
    const b = bookWith(-1, 1);
    assert.equal(legMismatch(VERTICAL, b, brokerMatching(b)), null);
  });
  test('a leg held in another quantity', () => {
    const b = bookWith(0, 1);
    assert.match(legMismatch(VERTICAL, b, brokerMatching(b))!, /should be -1 but the strategy holds 0/);
  });
  test('the broker shows what the book cannot explain', () => {
    const b = bookWith(-1, 1);
    const k440 = contractKey(put(440));
    assert.match(legMismatch(VERTICAL, b, (k) => (k === k440 ? Qty.unsafe(-2) : b.net(k)))!, /the broker shows -1 unexplained/);
  });
  test('a contract held that is not a leg', () => {
    const b = bookWith(-1, 1);
    b.apply(sid('v'), put(430), 1);
    assert.match(legMismatch(VERTICAL, b, brokerMatching(b))!, /holds \+1 SPY 2026-01-30 430 P that is not one of its legs/);
  });
});
