// Issue 13 over the wire: `legguard run --clock lockstep` against `legguard sim-gateway --lockstep` with nothing to
// guard at start. The account holder opens an iron condor as one combo order (four executions, one perm id, as TWS
// reports a BAG); the guard groups it and guards it within a second of the fill (scenario time: the drill is in
// lockstep), and the assignment the next night is handled like any other: CLOSED and flat, as in the replay.
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
const FILLED_AT = Date.parse('2026-01-26T10:00:00-05:00');
const ID = 'spy-iron-condor-2026-01-30';

describe('a structure opened while the guard runs, over the wire', () => {
  test('iron-condor-opened-while-guarding.yaml: guarded within a second of the combo fill, assigned, CLOSED and flat', async () => {
    const { file, scenario } = await loadSeed('iron-condor-opened-while-guarding.yaml');
    const expected = await replayOutcome(scenario);
    assert.deepEqual(
      expected.strategies.map((s) => [s.id, s.state, s.holdings.length, s.broken?.cause ?? null]),
      [[ID, 'CLOSED', 0, 'assignment']],
      'the replay adopts the condor and closes it after the assignment',
    );
    assert.deepEqual(expected.positions, [], 'the replay ends flat');
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
      let adopted;
      try {
        strategies = await strategiesIn(store, setup.account);
        adopted = (await store.journal({ account: setup.account, types: ['note'] })).filter((j) => (j.data as { kind?: string }).kind === 'new-positions');
      } finally {
        await store.close();
      }
      assert.deepEqual({ strategies, positions }, expected, `over the wire as in the replay\n${guard.proc.tail(40)}`);
      assert.equal(adopted.length, 1, 'one "now guarding" note');
      assert.equal(adopted[0]!.strategyId, ID);
      assert.match((adopted[0]!.data as { text: string }).text, /opened by the account holder as one combo order; OPEN\.$/);
      const after = adopted[0]!.at - FILLED_AT;
      assert.ok(after >= 0 && after <= 1_000, `guarded ${after} ms (scenario time) after the fill`);
      assert.deepEqual(guard.logs(/engine step failed|internal error/), [], 'no step of the guard failed');
    } finally {
      await guard.proc.stop('SIGKILL');
      await gw.stop();
    }
  });
});
