// A guard stopped in the middle of an emergency close and started again, as a new GuardEngine on the same SQLite
// file (closed and reopened) and the same SimBroker, with simulated time moving on while nobody watches. The daemon's
// kill -9 drills test the process; these pin down what the engine itself must do at start-up: never apply an
// execution twice, never send an order ref twice, and end flat.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/adapters/store/open-store.js';
import { contractKey } from '../../src/core/contract.js';
import { EpochMs } from '../../src/core/quantity.js';
import { GuardHarness, type FinalState } from '../support/guard-harness.js';
import { ROBUSTNESS_SCENARIOS } from '../support/robustness-scenarios.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A harness on a fresh SQLite file in a temp directory (synchronous=FULL, as in production). */
async function onSqlite(yaml: string): Promise<GuardHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'legguard-restart-'));
  dirs.push(dir);
  return GuardHarness.create(yaml, { openStore: () => openStore({ dataDir: dir }) });
}

async function uninterrupted(yaml: string): Promise<{ final: FinalState; sent: number }> {
  const h = await onSqlite(yaml);
  await h.start();
  const final = await h.finish();
  return { final, sent: h.broker.sent.length };
}

/** Plays to `stopAt`, stops the engine and closes the store, lets the world run to `restartAt`, starts a new engine. */
async function interrupted(yaml: string, stopAt: string, restartAt: string): Promise<GuardHarness> {
  const h = await onSqlite(yaml);
  await h.start();
  await h.runTo(stopAt);
  await h.stop({ reopen: true });
  await h.runTo(restartAt);
  await h.start();
  return h;
}

describe('restart on the same SQLite store and broker', () => {
  test('executions seen again after a restart are not applied twice', async () => {
    // Closing orders fill half at once at 09:30; the guard stops half a second later, with those fills in its book.
    const yaml = ROBUSTNESS_SCENARIOS.partialFills;
    const whole = await uninterrupted(yaml);
    const h = await onSqlite(yaml);
    await h.start();
    await h.runTo('2026-01-28T09:30:00.500-05:00');
    const applied = await h.store.recentExecIds(h.scenario.account, EpochMs.unsafe(0));
    assert.ok(applied.size >= 3, `fills applied before the stop: ${[...applied].join(', ')}`);
    await h.stop({ reopen: true });
    const engine = await h.start();

    // The start-up reconciliation saw those executions again (its cursor is inclusive) and left them alone.
    const start = h.entries('reconciled').filter((r) => r.reason === 'start').at(-1)!;
    const again = start.discrepancies.filter((d) => [...applied].some((id) => d.includes(id)));
    assert.deepEqual(again, [], 'no execution applied a second time');
    // ... so the new engine's book adds up to the broker in every contract.
    for (const p of h.run.broker.allPositions()) {
      const key = contractKey(p.contract);
      assert.equal(engine.book.net(key), p.qty, `${key}: book ${engine.book.net(key)}, broker ${p.qty}`);
    }
    const final = await h.finish();
    assert.deepEqual(final, whole.final, 'the same end as without the restart');
    assert.equal(h.entries('detection').filter((d) => d.detection.cause !== 'assignment').length, 0, 'nothing booked as unexplained');
    assert.deepEqual(h.broker.sentTwice(), []);
  });

  test('stopped after the plan was committed, before the open: the planned orders go once, at the open', async () => {
    const yaml = ROBUSTNESS_SCENARIOS.condorAssigned;
    const whole = await uninterrupted(yaml);
    // 02:30 assignment: the plan is committed (write-ahead), the stock waits for 04:00 and the options for 09:30.
    const h = await interrupted(yaml, '2026-01-28T03:00:00-05:00', '2026-01-28T03:30:00-05:00');
    // The new engine waits for the sessions as the old one would have (the store does not keep the times).
    assert.equal(h.broker.sent.length, 0, `nothing sent at a 03:30 restart\n${h.describeSent()}`);
    await h.runTo('2026-01-28T04:00:00-05:00');
    assert.deepEqual(h.broker.sent.map((o) => o.legs.map((l) => l.contract.secType).join('+')), ['STK'], 'the stock at 04:00');
    const final = await h.finish();
    assert.deepEqual(final, whole.final);
    assert.deepEqual(h.broker.sentTwice(), [], h.describeSent());
    assert.equal(h.broker.sent.length, whole.sent, `the same orders as without the restart\n${h.describeSent()}`);
    assert.ok(
      h.entries('note').some((n) => /resuming EMERGENCY_CLOSING \(start\): [1-9]\d* planned order/.test(n.text)),
      'the new engine resumed the planned orders',
    );
  });

  test('stopped after orders were sent, restarted after they filled unseen: flat, no ref sent twice', async () => {
    // Options go at 09:30 and fill 30 s later; the guard is down from 09:30:10 to 09:45.
    const yaml = ROBUSTNESS_SCENARIOS.delayedFills;
    const whole = await uninterrupted(yaml);
    const h = await interrupted(yaml, '2026-01-28T09:30:10-05:00', '2026-01-28T09:45:00-05:00');
    const refsBefore = h.broker.sent.length;
    assert.ok(refsBefore >= 3, `orders were out at the stop: ${refsBefore}`);
    const final = await h.finish();
    assert.deepEqual(h.broker.sentTwice(), [], h.describeSent());
    assert.equal(h.broker.sent.length, whole.sent, `nothing re-sent\n${h.describeSent()}`);
    assert.deepEqual(final, whole.final, 'ends as without the restart (the unbid wing left to expire)');
  });

  test('stopped while the stock hedge works pre-market: the stock is sold once and the close completes', async () => {
    // The stock goes at 04:00 and fills at 04:00:30; the guard is down from 04:00:05 to 05:00.
    const yaml = ROBUSTNESS_SCENARIOS.delayedFills;
    const whole = await uninterrupted(yaml);
    const h = await interrupted(yaml, '2026-01-28T04:00:05-05:00', '2026-01-28T05:00:00-05:00');
    const final = await h.finish();
    const stockSells = h.broker.sent.filter((o) => o.legs.some((l) => l.contract.secType === 'STK'));
    assert.equal(stockSells.length, 1, `one stock order\n${h.describeSent()}`);
    assert.deepEqual(h.broker.sentTwice(), []);
    assert.deepEqual(final, whole.final);
  });
});
