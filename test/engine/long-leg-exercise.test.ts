// Issue 12 item 3 on the sim broker: a put spread whose short put is assigned early while the long put is deep in
// the money with no bid above its intrinsic value: the long put is exercised, not sold; the account ends flat.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadScenario, parseScenario } from '../../src/adapters/sim/load-scenario.js';
import { MemoryStore } from '../../src/adapters/store/memory-store.js';
import { allClosedAndFlat, replay } from '../../src/app/replay.js';
import { AccountId, StrategyId } from '../../src/core/ids.js';
import { readFile } from 'node:fs/promises';

const FILE = join(import.meta.dirname, '..', '..', 'scenarios', 'put-spread-short-assigned-long-exercised.yaml');

describe('the long leg after an assignment (sim broker)', () => {
  test('put spread: short put assigned early, the deep ITM long put exercised at the open, no order sent, flat', async () => {
    const store = new MemoryStore();
    await store.init();
    const r = await replay({ scenario: await loadScenario(FILE), store });
    const check = allClosedAndFlat(r.report);
    assert.ok(check.ok, check.problems.join('; '));
    assert.deepEqual(r.report.positions, [], 'the account ends flat');
    assert.deepEqual(r.report.orders, [], 'nothing sold: no order at all');
    const s = r.report.strategies[0]!;
    assert.equal(s.broken?.cause, 'assignment');
    assert.equal(s.broken?.kind, 'EARLY');
    assert.equal(r.timeline.filter((e) => e.kind === 'gate-refused').length, 0);
    const notes = r.timeline.flatMap((e) => (e.kind === 'note' ? [e.text] : []));
    assert.ok(notes.some((t) => /^planned exercise 1 SPY 2026-01-30 435 P .*below the intrinsic value net of costs/.test(t)), notes.join('\n'));
    const sent = r.timeline.find((e) => e.kind === 'note' && /^EXERCISE 1 SPY 2026-01-30 435 P sent/.test(e.text));
    assert.ok(sent, 'the exercise went out');
    assert.equal(new Date(sent.at).toISOString(), '2026-01-28T14:30:00.000Z', 'at the options open');
    const exercised = r.timeline.filter((e) => e.kind === 'detection' && e.detection.cause === 'exercise');
    assert.deepEqual(exercised.map((e) => (e.kind === 'detection' ? e.detection.change : 0)).sort((a, b) => a - b), [-100, -1]);
    const executions = r.timeline.filter((e) => e.kind === 'broker-event' && e.event.kind === 'execution');
    assert.deepEqual(executions, [], 'no stock and no option traded');
    const journal = await store.journal({ account: AccountId.unsafe('DU0000001'), strategyId: StrategyId.unsafe(s.id) });
    assert.ok(journal.some((j) => j.key.startsWith('plan:') && j.key.includes('/x.SPY.P435.260130/')), 'the exercise journaled before it went out');
  });

  test('the same spread with a long put worth more than its intrinsic value: sold, not exercised', async () => {
    const text = await readFile(FILE, 'utf8');
    // SPY only to 431: the long 435 put keeps time value (its bid is above 435 - 431); the short put is assigned by script.
    const scenario = parseScenario(
      text
        .replace('price: { SPY: 415.00 }', 'price: { SPY: 431.00 }')
        .replace('guard: { onAssignment: close, timeExitDte: 1 }', 'guard: { onAssignment: close, timeExitDte: 1 }\nclearing: { earlyExercise: false }')
        .replace(
          '  - { at: "2026-01-27T10:00:00-05:00", price: { SPY: 431.00 } }',
          '  - { at: "2026-01-27T10:00:00-05:00", price: { SPY: 431.00 } }\n  - { at: "2026-01-28T02:30:00-05:00", assign: { symbol: SPY, right: P, strike: 440, expiry: "2026-01-30", qty: 1 } }',
        ),
      'variant.yaml',
    );
    const store = new MemoryStore();
    await store.init();
    const r = await replay({ scenario, store });
    const check = allClosedAndFlat(r.report);
    assert.ok(check.ok, check.problems.join('; '));
    assert.deepEqual(r.report.positions, []);
    const notes = r.timeline.flatMap((e) => (e.kind === 'note' ? [e.text] : []));
    assert.ok(!notes.some((t) => /^planned exercise/.test(t)), `no exercise planned: ${notes.join('\n')}`);
    const sold = r.report.orders.filter((o) => o.status === 'FILLED' && o.legs.some((l) => l['secType'] === 'OPT' && l['strike'] === 435 && l.action === 'SELL'));
    assert.ok(sold.length >= 1, `the long put was sold: ${JSON.stringify(r.report.orders)}`);
  });
});
