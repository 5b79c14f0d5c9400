// Issue 11, end to end: `legguard halt` against a running guard (`legguard run --clock lockstep` and
// `legguard sim-gateway --lockstep`, child processes over loopback). Halted, a fresh assignment is detected, alerted
// and planned, but no order reaches the gateway; `legguard resume` sends the held
// close and the condor ends CLOSED and flat.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { GatewayProcess, GuardProcess, guardSetup, openGuardStore } from '../support/drill.js';
import { condorAssignedInHours, writeScenario } from '../support/drill-scenarios.js';
import { killAll } from '../support/legguard-process.js';
import { runLegguard } from '../cli/cli-run.js';

const cleanups: (() => void)[] = [];
after(async () => {
  await killAll();
  for (const c of cleanups) c();
});

/** Only a bound on a hung drill: lockstep drills take as long as the machine needs, and end the same. */
const HANG_MS = 120_000;

type Entry = Record<string, unknown>;
const text = (e: Entry): string => (typeof e.text === 'string' ? e.text : '');

test('halt while running: the assignment is detected, alerted and planned, nothing is sent until resume; then the close goes out', async () => {
  // Two minutes to the assignment, two hours after it to the scenario's end; at most a minute of scenario time per real
  // second, so that the checks made while halted (with time paused) come long before the end, however slow the machine.
  const { file, dir } = writeScenario(condorAssignedInHours({ start: '09:58' }));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const gw = await GatewayProcess.start(file, ['--speed', '60']);
  // Scenario time holds until the guard is halted: the assignment at 10:00 must come after.
  await gw.pause(true);
  const setup = guardSetup(file, gw.port);
  cleanups.push(() => rmSync(setup.dir, { recursive: true, force: true }));
  const guard = GuardProcess.start(setup);
  const cli = (cmd: string, reason: string): ReturnType<typeof runLegguard> =>
    runLegguard([cmd, '--config', setup.configFile, '--reason', reason, '--by', 'drill'], { cwd: setup.dir, env: { DATABASE_URL: '' } });
  try {
    await guard.waitFor((e) => /^guarding 1 strategy/.test(text(e)), 'guarding', HANG_MS);

    const halt = await cli('halt', 'drill: halt before the assignment');
    assert.equal(halt.code, 0, halt.err);
    assert.match(halt.out, /^trading HALTED for DU0000001 \(was ACTIVE\), set by drill .*\nthe running guard \(.*\) takes it within 1 s/s);
    await guard.waitFor((e) => e.kind === 'note' && /^trading ACTIVE -> HALTED \(set by drill: drill: halt before the assignment\)/.test(text(e)), 'taking the halt', HANG_MS);
    await gw.pause(false);

    await guard.waitFor((e) => e.kind === 'note' && /held: trading is HALTED/.test(text(e)), 'holding the close', HANG_MS);
    // The alert goes to the alerts port once its batch is committed (group commit: when the queue drains), which may be
    // after the held note; wait for it rather than assume an order between the two.
    await guard.waitFor(
      (e) => e.kind === 'alert' && (e.alert as { severity?: string; title?: string }).severity === 'critical' && /ASSIGNMENT/.test(String((e.alert as { title?: string }).title)),
      'alerting the assignment',
      HANG_MS,
    );
    // Time holds again while the checks run (after the scenario's end the gateway would no longer fill).
    await gw.pause(true);
    assert.deepEqual(gw.placedRefs(), [], `nothing reached the gateway while halted\n${guard.proc.tail(30)}`);
    const halted = guard.entries() as Entry[];
    assert.ok(halted.some((e) => e.kind === 'detection'), 'the assignment was detected');
    const states = halted.filter((e) => e.kind === 'state' && e.strategyId === 'ic').map((e) => String(e.to));
    assert.deepEqual(states.slice(-2), ['BROKEN', 'EMERGENCY_CLOSING'], 'marked broken, its close planned');
    const alerts = halted.filter((e) => e.kind === 'alert').map((e) => e.alert as { severity: string; title: string });
    assert.ok(alerts.some((a) => a.severity === 'warning' && a.title === 'trading HALTED for DU0000001'), 'the halt was alerted');
    assert.ok(alerts.some((a) => a.severity === 'critical' && /ASSIGNMENT/.test(a.title)), `the assignment was alerted: ${JSON.stringify(alerts)}`);
    const planned = halted.filter((e) => e.kind === 'order-planned').map((e) => (e.order as { request: { ref: string } }).request.ref);
    assert.ok(planned.length > 0, 'the close was planned');

    const resume = await cli('resume', 'drill: all clear');
    assert.equal(resume.code, 0, resume.err);
    await guard.waitFor((e) => e.kind === 'note' && /^trading HALTED -> ACTIVE/.test(text(e)), 'taking the resume', HANG_MS);
    await gw.pause(false);
    await guard.waitFor((e) => e.kind === 'state' && e.strategyId === 'ic' && e.to === 'CLOSED', 'closing ic after resume', HANG_MS);
    assert.deepEqual(gw.placedRefs().sort(), [...planned].sort(), 'the held plan is what went out');
    assert.deepEqual(gw.refsSentTwice(), []);
    assert.deepEqual(await gw.positions(setup.account), [], 'flat');
    assert.deepEqual(await guard.proc.stop('SIGTERM'), { code: 0, signal: null }, guard.proc.tail());

    const store = await openGuardStore(setup);
    try {
      const journal = await store.journal({ account: setup.account, types: ['trading-state'] });
      const rows = journal.map((j) => {
        const d = j.data as Record<string, unknown>;
        return `${j.key.startsWith('cli:') ? 'cli' : 'guard'} ${String(d.from)}->${String(d.to)} by ${String(d.by)}: ${String(d.reason)}`;
      });
      assert.deepEqual(rows, [
        'cli ACTIVE->HALTED by drill: drill: halt before the assignment',
        'guard ACTIVE->HALTED by drill: drill: halt before the assignment',
        'cli HALTED->ACTIVE by drill: drill: all clear',
        'guard HALTED->ACTIVE by drill: drill: all clear',
      ]);
      assert.equal((await store.tradingState(setup.account)).state, 'ACTIVE');
      const ic = (await store.listStrategies(setup.account)).find((r) => r.definition.id === 'ic');
      assert.equal(ic?.state, 'CLOSED');
    } finally {
      await store.close();
    }
  } finally {
    await guard.proc.stop('SIGKILL');
    await gw.stop();
  }
});
