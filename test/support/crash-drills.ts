// Crash drills with real child processes (see test/e2e/daemon-crash-*.test.ts): `legguard run` killed with -9
// (through the drills' own entry point, LEGGUARD_DRILL_CRASH_AT) at each step of an emergency close, against `legguard sim-gateway --lockstep` (scenario time
// holds while no guard runs), then started again on the same store. The restarted guard ends flat, as the replay of
// the same scenario does, and the gateway, which logs every order it reads, never sees an order ref twice. Also: an
// assignment posted while no guard runs is the first thing the next one handles; a second guard on the same account
// and store exits 5.
import { after, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseScenario } from '../../src/adapters/sim/load-scenario.js';
import { GatewayProcess, GuardProcess, guardSetup, openGuardStore, replayOutcome, strategiesIn, type FinalState, type GuardSetup } from './drill.js';
import { condorAssignedInHours, writeScenario } from './drill-scenarios.js';
import { killAll } from './legguard-process.js';
import { postgresForTests, testSchema } from './postgres.js';

const pg = await postgresForTests();
const cleanups: (() => Promise<void> | void)[] = [];

/** Only a bound on a hung drill: lockstep drills take as long as the machine needs, and end the same. */
const HANG_MS = 120_000;

export type StoreKind = 'sqlite' | 'postgres';

/** A gateway playing `yaml`, and a config for guards on a fresh store of `kind`; the gateway stops when the test ends. */
async function world(t: TestContext, yaml: string, kind: StoreKind): Promise<{ gw: GatewayProcess; setup: GuardSetup; expected: FinalState }> {
  const { file, dir } = writeScenario(yaml);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  let databaseUrl: string | null = null;
  if (kind === 'postgres') {
    const s = testSchema(pg.url!, 'crash');
    cleanups.push(s.drop);
    databaseUrl = s.url;
  }
  const expected = await replayOutcome(parseScenario(yaml, file));
  const gw = await GatewayProcess.start(file);
  t.after(() => gw.stop());
  const setup = guardSetup(file, gw.port, { databaseUrl });
  cleanups.push(() => rmSync(setup.dir, { recursive: true, force: true }));
  return { gw, setup, expected };
}

/** Waits until `ic` is CLOSED in this guard's timeline, then stops it cleanly and reads the outcome. */
async function closedOutcome(gw: GatewayProcess, guard: GuardProcess, setup: GuardSetup): Promise<FinalState> {
  await guard.waitFor((e) => e.kind === 'state' && e.strategyId === 'ic' && e.to === 'CLOSED', 'closing ic', HANG_MS);
  const positions = await gw.positions(setup.account);
  const exit = await guard.proc.stop('SIGTERM');
  assert.deepEqual(exit, { code: 0, signal: null }, `the guard stops cleanly\n${guard.proc.tail()}`);
  const store = await openGuardStore(setup);
  try {
    return { strategies: await strategiesIn(store, setup.account), positions };
  } finally {
    await store.close();
  }
}

interface CrashCase {
  readonly at: string;
  /** Orders the gateway has read from the first guard when it dies. */
  readonly sentBeforeCrash: number;
  readonly yaml: string;
  /** The dead guard's orders are still working, part-filled, when the new one starts: it hears the rest fill. */
  readonly restFillsAfterRestart?: boolean;
}

const CASES: readonly CrashCase[] = [
  { at: 'decision-committed', sentBeforeCrash: 0, yaml: condorAssignedInHours({}) },
  { at: 'order-sent:1', sentBeforeCrash: 1, yaml: condorAssignedInHours({}) },
  { at: 'order-sent:2', sentBeforeCrash: 2, yaml: condorAssignedInHours({}) },
  // Each order fills half at once and the rest rests until 10:30, when the broker fills what rests: the restarted
  // guard finds the orders part-filled and working, adopts them, and hears the rest fill (the fill timeout, 40
  // minutes, does not cut in).
  {
    at: 'fill-applied:1',
    sentBeforeCrash: 3,
    yaml: condorAssignedInHours({ fills: 'partial', fillTimeoutMs: 2_400_000, extra: '  - { at: "2026-01-28T10:30:00-05:00", fills: { mode: immediate } }\n' }),
    restFillsAfterRestart: true,
  },
];

async function crashAndRestart(t: TestContext, c: CrashCase, kind: StoreKind): Promise<void> {
  const { gw, setup, expected } = await world(t, c.yaml, kind);
  assert.ok(expected.strategies[0]?.state === 'CLOSED' && expected.positions.length === 0, `the replay ends CLOSED and flat: ${JSON.stringify(expected)}`);
  const first = GuardProcess.start(setup, { crashAt: c.at });
  const died = await first.proc.exitWithin(HANG_MS);
  assert.deepEqual(died, { code: null, signal: 'SIGKILL' }, `the guard killed itself at ${c.at}\n${first.proc.tail()}`);
  assert.ok(first.entries().some((e) => e.kind === 'decision'), 'it died after deciding the close');
  // What the dead guard sent is on the wire already; let the gateway read it. Scenario time holds meanwhile: no
  // lockstep client is connected.
  await gw.proc.waitForLine(() => gw.placedRefs().length >= c.sentBeforeCrash, `with ${c.sentBeforeCrash} orders placed`, HANG_MS);
  assert.equal(gw.placedRefs().length, c.sentBeforeCrash, `orders the gateway read before the restart: ${gw.placedRefs().join(', ')}`);

  const second = GuardProcess.start(setup);
  const outcome = await closedOutcome(gw, second, setup);
  // The restart leads at once: it takes the dead guard's lease from it, or, when the machine was slow enough between
  // the kill and the restart for that lease (6 s) to lapse by itself, finds it lapsed. Which of the two is timing.
  const tookOver = second.logs(/no longer runs on this machine: taking it over/).length;
  const leading = second.logs(/^leading \S+ as \S+ at lease epoch \d+/);
  assert.ok(leading.length === 1 && tookOver <= 1, `the restart leads, once\n${second.proc.tail()}`);
  const epochOf = (line: string | undefined): number => Number(/at lease epoch (\d+)/.exec(line ?? '')?.[1] ?? NaN);
  const firstEpoch = epochOf(first.logs(/^leading \S+ as \S+ at lease epoch \d+/)[0]);
  assert.equal(epochOf(leading[0]), firstEpoch + 1, `the restart leads at the next epoch after the dead guard's\n${second.proc.tail()}`);
  assert.deepEqual(outcome, expected, `ends as the uninterrupted replay\n${second.proc.tail(40)}`);
  assert.deepEqual(gw.refsSentTwice(), [], `no order ref sent twice:\n${gw.placedRefs().join('\n')}`);
  assert.ok(gw.placedRefs().length >= 3, `the close went out: ${gw.placedRefs().join(', ')}`);
  if (c.restFillsAfterRestart) {
    const sentFirst = new Set(gw.placedRefs().slice(0, c.sentBeforeCrash));
    const heard = second.entries().flatMap((e) =>
      e.kind === 'broker-event' && e.event.kind === 'execution' && e.event.orderRef !== null && sentFirst.has(e.event.orderRef) ? [e.event.orderRef] : [],
    );
    assert.equal(new Set(heard).size, c.sentBeforeCrash, `the restarted guard heard the rest of each adopted order fill: ${heard.join(', ')}`);
    assert.equal(gw.placedRefs().length, c.sentBeforeCrash, 'and sent nothing of its own');
  }
}

/**
 * The guard is stopped before the 10:00 assignment and started after it: the gateway holds time (`pause`) while the
 * first guard starts and stops, the operator runs the world past the assignment with no guard up (`advance`), then
 * time goes on with the second guard.
 */
async function assignedWhileStopped(t: TestContext, kind: StoreKind): Promise<void> {
  const { gw, setup, expected } = await world(t, condorAssignedInHours({ start: '09:15' }), kind);
  await gw.pause(true);
  const first = GuardProcess.start(setup);
  await first.waitFor((e) => e.kind === 'reconciled' && e.reason === 'start', 'reconciling at start', HANG_MS);
  assert.deepEqual(await first.proc.stop('SIGTERM'), { code: 0, signal: null }, first.proc.tail());
  assert.deepEqual(first.entries().filter((e) => e.kind === 'detection'), [], 'nothing happened while the first guard ran');
  await gw.advance('2026-01-28T10:01:00-05:00');
  assert.ok(gw.proc.stdout.some((l) => l.includes('assignment posted')), 'the assignment was posted while no guard ran');
  await gw.pause(false);

  const second = GuardProcess.start(setup);
  const outcome = await closedOutcome(gw, second, setup);
  assert.deepEqual(outcome, expected);
  const timeline = second.entries().filter((e) => e.kind !== 'log' && e.kind !== 'broker-event' && e.kind !== 'note');
  // Start-up reconciles before anything else: the first thing the guard does is find the assignment and break ic.
  const first3 = timeline.slice(0, 3).map((e) => (e.kind === 'detection' ? `detection ${e.detection.cause} ${e.detection.contract.secType}` : e.kind === 'state' ? `state ${e.from}->${e.to}` : e.kind));
  assert.deepEqual(first3, ['detection assignment OPT', 'detection assignment STK', 'state OPEN->BROKEN'], `the restarted guard's first steps: ${JSON.stringify(first3)}`);
  const startRecon = timeline.findIndex((e) => e.kind === 'reconciled' && e.reason === 'start');
  const firstOrder = timeline.findIndex((e) => e.kind === 'order-sent');
  assert.ok(startRecon > 0 && startRecon < firstOrder, `found by the start-up reconciliation (index ${startRecon}), before any order (${firstOrder})`);
  assert.deepEqual(gw.refsSentTwice(), []);
}

/** A second guard on the account and store while the first runs. */
async function secondGuardRefused(t: TestContext, kind: StoreKind): Promise<void> {
  const { setup } = await world(t, condorAssignedInHours({}), kind);
  const first = GuardProcess.start(setup);
  await first.waitFor((e) => e.kind === 'reconciled' && e.reason === 'start', 'reconciling at start', HANG_MS);
  const second = GuardProcess.start(setup);
  const exit = await second.proc.exitWithin(HANG_MS);
  assert.deepEqual(exit, { code: 5, signal: null }, `the second guard exits 5\n${second.proc.tail()}`);
  const holder = `${hostname()}/${first.proc.pid}`;
  assert.ok(
    second.proc.stderr.some((l) => l.includes(`"${holder}"`) && /locked/.test(l)),
    `the refusal names the holder ${holder}:\n${second.proc.stderr.join('\n')}`,
  );
  assert.equal(first.proc.hasExited, false, 'the first guard runs on');
  assert.deepEqual(await first.proc.stop('SIGTERM'), { code: 0, signal: null }, first.proc.tail());
}

/**
 * The crash drills on one store, one after another (a drill is three processes). Each store has a test file of its
 * own, so the runner plays the two side by side.
 */
export function crashDrills(kind: StoreKind): void {
  after(async () => {
    await killAll();
    for (const c of cleanups) await Promise.resolve().then(c).catch(() => undefined);
  });
  describe(`daemon crash drills on ${kind === 'sqlite' ? 'SQLite' : 'Postgres'}`, { concurrency: 1, skip: kind === 'postgres' ? (pg.skip ?? false) : false }, () => {
    for (const c of CASES) test(`kill -9 at ${c.at}: the restarted guard ends flat, no order ref sent twice`, (t) => crashAndRestart(t, c, kind));
    test('an assignment posted while no guard runs is the first thing the next start handles', (t) => assignedWhileStopped(t, kind));
    test('a second guard on the same account and store exits 5 naming the holder of the lock', (t) => secondGuardRefused(t, kind));
  });
}
