// Issue 12 item 3 over the wire: `legguard run --clock lockstep` against `legguard sim-gateway --lockstep` on the put
// spread whose short put is assigned early: the guard exercises the deep ITM long put through IB's exerciseOptions
// (EXERCISE_OPTIONS on the wire), sends no order, and ends CLOSED and flat, as the replay does.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { GatewayProcess, GuardProcess, guardSetup, loadSeed, openGuardStore, replayOutcome, strategiesIn } from '../support/drill.js';
import { killAll } from '../support/legguard-process.js';

const dirs: string[] = [];
after(async () => {
  await killAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Only a bound on a hung drill: lockstep drills take as long as the machine needs, and end the same. */
const HANG_MS = 150_000;

describe('the long leg after an assignment, over the wire', () => {
  test('put-spread-short-assigned-long-exercised.yaml: exercised through the gateway, no order, flat', async () => {
    const { file, scenario } = await loadSeed('put-spread-short-assigned-long-exercised.yaml');
    const expected = await replayOutcome(scenario);
    assert.ok(
      expected.strategies.every((s) => s.state === 'CLOSED' && s.holdings.length === 0) && expected.positions.length === 0,
      `the replay ends CLOSED and flat: ${JSON.stringify(expected)}`,
    );
    const gw = await GatewayProcess.start(file);
    const setup = guardSetup(file, gw.port);
    dirs.push(setup.dir);
    const guard = GuardProcess.start(setup);
    try {
      await gw.finished(HANG_MS);
      const positions = await gw.positions(setup.account);
      const exit = await guard.proc.stop('SIGTERM');
      assert.deepEqual(exit, { code: 0, signal: null }, `the guard stops cleanly on SIGTERM\n${guard.proc.tail()}`);
      const store = await openGuardStore(setup);
      let strategies;
      try {
        strategies = await strategiesIn(store, setup.account);
      } finally {
        await store.close();
      }
      assert.deepEqual({ strategies, positions }, expected, `over the wire as in the replay\n${guard.proc.tail(40)}`);
      assert.deepEqual(gw.placedRefs(), [], 'no order: the long put was exercised, not sold, and no stock was sold');
      const exercised = gw.proc.stdout.filter((l) => /client 17 exercise 1 SPY 2026-01-30 435 P \(request \d+, backend \d+\)/.test(l));
      assert.equal(exercised.length, 1, `one EXERCISE_OPTIONS reached the gateway:\n${gw.proc.stdout.slice(-30).join('\n')}`);
      assert.deepEqual(guard.logs(/engine step failed|internal error/), [], 'no step of the guard failed');
    } finally {
      await guard.proc.stop('SIGKILL');
      await gw.stop();
    }
  });
});
