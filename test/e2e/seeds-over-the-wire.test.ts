// Issue 4, end to end: `legguard run --clock lockstep` (the daemon, a child process) against `legguard sim-gateway
// --scenario <file> --lockstep` (another) ends each seed scenario as `legguard replay <file>` does: the same strategy
// states, breaks and holdings in the guard's store, the same positions in the account the gateway serves. Scenario
// time moves only when the guard has handled everything, so days run in seconds on a fast machine and end the same
// on a slow or busy one.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { GatewayProcess, GuardProcess, guardSetup, loadSeed, openGuardStore, replayOutcome, strategiesIn, type GuardSetup } from '../support/drill.js';
import { killAll } from '../support/legguard-process.js';

const dirs: string[] = [];
after(async () => {
  await killAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Only a bound on a hung drill: lockstep drills take as long as the machine needs, and end the same. */
const HANG_MS = 150_000;

/**
 * Runs the drill to the scenario's end: the gateway says it finished only once the guard has handled everything up
 * to `until` (as the replay runs the guard to `until`). Then stops the guard (SIGTERM) and reads its store. Returns
 * the outcome and the processes for further checks.
 */
async function drill(file: string, gatewayArgs: readonly string[] = []): Promise<{ gw: GatewayProcess; guard: GuardProcess; setup: GuardSetup; outcome: Awaited<ReturnType<typeof replayOutcome>> }> {
  const gw = await GatewayProcess.start(file, gatewayArgs);
  const setup = guardSetup(file, gw.port);
  dirs.push(setup.dir);
  // The production command ignores the drills' crash variables: a stray environment cannot kill a guard mid-close.
  const guard = GuardProcess.start(setup, { env: { LEGGUARD_CRASH_AT: 'decision-committed', LEGGUARD_DRILL_CRASH_AT: 'decision-committed' } });
  try {
    await gw.finished(HANG_MS);
    const positions = await gw.positions(setup.account);
    const exit = await guard.proc.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, `the guard stops cleanly on SIGTERM\n${guard.proc.tail()}`);
    const store = await openGuardStore(setup);
    try {
      return { gw, guard, setup, outcome: { strategies: await strategiesIn(store, setup.account), positions } };
    } finally {
      await store.close();
    }
  } finally {
    await guard.proc.stop('SIGKILL');
    await gw.stop();
  }
}

describe('seed scenarios over the wire end as the replay does', () => {
  for (const name of ['iron-condor-put-assigned.yaml', 'assignment-before-time-exit.yaml', 'short-call-assigned-ex-dividend.yaml']) {
    test(name, async () => {
      const { file, scenario } = await loadSeed(name);
      const expected = await replayOutcome(scenario);
      assert.ok(
        expected.strategies.every((s) => s.state === 'CLOSED' && s.holdings.length === 0) && expected.positions.length === 0,
        `the replay ends CLOSED and flat: ${JSON.stringify(expected)}`,
      );
      const { gw, guard, outcome } = await drill(file);
      assert.deepEqual(outcome, expected, `over the wire as in the replay\n${guard.proc.tail(40)}`);
      assert.ok(gw.placedRefs().length > 0, 'the guard sent its closing orders through the gateway');
      assert.deepEqual(gw.refsSentTwice(), [], `no order ref sent twice: ${gw.placedRefs().join(', ')}`);
      assert.deepEqual(guard.logs(/engine step failed|internal error/), [], 'no step of the guard failed');
    });
  }
});
