// Lockstep drills (the sim gateway's `--lockstep`, the guard's `--clock lockstep`): scenario time waits for the
// guard, so a drill ends the same however slow the guard is. In process, over loopback: the real gateway, the real IB
// adapter and the real guard engine; the guard is slowed on purpose (every store commit waits in real time) and the
// run must not change by a single timeline entry.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { LockstepClock } from '../../src/adapters/clock/lockstep-clock.js';
import { SystemClock } from '../../src/adapters/clock/system-clock.js';
import { VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { IbBroker } from '../../src/adapters/ib/ib-broker.js';
import { parseScenario } from '../../src/adapters/sim/load-scenario.js';
import { ScenarioRun } from '../../src/adapters/sim/scenario-run.js';
import { MemoryStore } from '../../src/adapters/store/memory-store.js';
import { decodeClientRequest } from '../../src/adapters/tws-sim/client-requests.js';
import type { ClientSession } from '../../src/adapters/tws-sim/client-session.js';
import { Lockstep, type LockstepOptions } from '../../src/adapters/tws-sim/lockstep.js';
import { simBackend } from '../../src/adapters/tws-sim/sim-backend.js';
import { TwsGateway } from '../../src/adapters/tws-sim/tws-gateway.js';
import { parseGuardConfig } from '../../src/app/guard-config-schema.js';
import { LockstepDriver } from '../../src/app/lockstep-driver.js';
import { CollectingAlerts, guardStrategies } from '../../src/app/replay.js';
import { contractKey } from '../../src/core/contract.js';
import { LegguardError } from '../../src/core/errors.js';
import { EpochMs } from '../../src/core/quantity.js';
import { GuardEngine } from '../../src/engine/guard-engine.js';
import type { StorePort } from '../../src/ports/store.js';
import { condorAssignedOvernight } from '../support/drill-scenarios.js';
import { replayOutcome, strategiesIn } from '../support/drill.js';

/** A store whose every commit takes `delayMs` of real time longer: a slow disk, a busy machine. */
function slowStore(inner: StorePort, delayMs: number): StorePort {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (prop !== 'commit' || typeof v !== 'function' || delayMs === 0) return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      return async (...args: unknown[]) => {
        await sleep(delayMs);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

interface Run {
  /** Every timeline entry in scenario time, without its real-time figures. */
  readonly timeline: string[];
  readonly outcome: Awaited<ReturnType<typeof replayOutcome>>;
}

/** The scenario in lockstep with a guard whose commits take `delayMs` of real time each. */
async function lockstepRun(yaml: string, delayMs: number): Promise<Run> {
  const scenario = parseScenario(yaml, 'lockstep.yaml');
  const run = new ScenarioRun(scenario);
  const gw = new TwsGateway({ backend: simBackend(run.broker) });
  let finished!: () => void;
  const done = new Promise<void>((r) => (finished = r));
  const failures: unknown[] = [];
  const step = new Lockstep({
    clock: run.clock,
    until: scenario.until,
    speed: null,
    refusing: () => gw.isRefusing,
    settle: () => nextTurn(),
    perf: () => performance.now(),
    log: () => undefined,
    onFinished: () => finished(),
    onFailure: (e) => {
      failures.push(e);
      finished();
    },
  });
  gw.attachLockstep(step);
  const { port } = await gw.start();
  const clock = new LockstepClock(0);
  const ib = new IbBroker({ host: '127.0.0.1', port, clientId: 17, account: scenario.account, clock: new SystemClock(), eventClock: clock });
  const store = new MemoryStore();
  await store.init();
  await guardStrategies(store, scenario.strategies, scenario.start);
  const engine = new GuardEngine({
    account: scenario.account,
    broker: ib,
    store: slowStore(store, delayMs),
    alerts: new CollectingAlerts(),
    clock,
    config: parseGuardConfig(scenario.guard, scenario.file),
  });
  const timeline: string[] = [];
  const realFigures = new Set(['latencyMs', 'placedPerf', 'durationMs']);
  engine.onTimeline((e) => timeline.push(`${new Date(e.at).toISOString()} ${JSON.stringify(e, (k, v: unknown) => (realFigures.has(k) ? undefined : v))}`));
  const driver = new LockstepDriver(clock, ib, engine);
  try {
    await ib.connect();
    await ib.currentTime();
    await engine.start();
    driver.start();
    await done;
    assert.deepEqual(failures, [], 'the scenario ran');
    assert.equal(engine.failure, null, 'no step of the guard failed');
    const positions = run.broker.allPositions().map((p) => [contractKey(p.contract), p.qty] as const);
    positions.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    return { timeline, outcome: { strategies: await strategiesIn(store, scenario.account), positions } };
  } finally {
    driver.stop();
    await engine.stop();
    await ib.disconnect();
    step.stop();
    await gw.stop();
  }
}

describe('lockstep: scenario time waits for the guard', () => {
  test('a guard slowed 25 ms per commit lives the same scenario, entry for entry, as a fast one; both end as the replay', async () => {
    // The condor's short puts assigned at 02:30 with the guard connected: the stock hedged at 04:00, the options
    // closed at the open. A free-running gateway would be hours ahead of the slow guard by then.
    // Periodic passes as the drills have them: a reconciliation a minute would be paced at IB's 40 messages a real
    // second, and this test is about lockstep, not pacing.
    const yaml = condorAssignedOvernight({}).replace('guard: { onAssignment: close, timeExitDte: 1 }', 'guard: { onAssignment: close, timeExitDte: 1, reconcileIntervalMs: 1800000, ruleIntervalMs: 900000 }');
    assert.ok(yaml.includes('reconcileIntervalMs'), 'the scenario takes the intervals');
    const expected = await replayOutcome(parseScenario(yaml, 'lockstep.yaml'));
    const fast = await lockstepRun(yaml, 0);
    const slow = await lockstepRun(yaml, 25);
    assert.deepEqual(fast.outcome, expected, 'the fast guard ends as the replay');
    assert.deepEqual(slow.outcome, expected, 'the slow guard ends as the replay');
    assert.ok(fast.timeline.some((l) => l.includes('"kind":"detection"')), 'the assignment was detected');
    assert.deepEqual(slow.timeline, fast.timeline, 'the same timeline, in scenario time, whatever the speed');
    // Nothing is logged before the broker posted it: the guard's clock never trails the gateway's.
    const detection = fast.timeline.find((l) => l.includes('"kind":"detection"'))!;
    assert.ok(detection.startsWith('2026-01-28T07:30:00'), `detected at 02:30 New York, when posted: ${detection.slice(0, 40)}`);
  });
});

/** A stand-in for one client connection, as the gateway counts what it wrote to it. */
class FakeSession {
  timeWritten = 0;
  wroteSinceTime = false;
  readonly times: number[] = [];
  constructor(readonly clientId: number) {}
  sendTime(seconds: number): void {
    this.times.push(seconds * 1000);
    this.timeWritten++;
    this.wroteSinceTime = false;
  }
  /** Something other than the time written to the client. */
  data(): void {
    this.wroteSinceTime = true;
  }
  get asSession(): ClientSession {
    return this as unknown as ClientSession;
  }
}

const START = Date.parse('2026-01-28T14:00:00Z');

function bench(opts: Partial<LockstepOptions> = {}): { clock: VirtualClock; ls: Lockstep; log: string[]; finished: () => number; refusing: { on: boolean } } {
  const clock = new VirtualClock(START);
  const log: string[] = [];
  let finishedCount = 0;
  const refusing = { on: false };
  const ls = new Lockstep({
    clock,
    until: START + 3_600_000,
    speed: null,
    refusing: () => refusing.on,
    settle: () => Promise.resolve(),
    perf: () => performance.now(),
    log: (l) => log.push(l),
    onFinished: () => finishedCount++,
    onFailure: (e) => log.push(`failure: ${e.message}`),
    ...opts,
  });
  return { clock, ls, log, finished: () => finishedCount, refusing };
}

/** Lets the lockstep's deferred look (setImmediate) and any step it starts run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await nextTurn();
}

describe('lockstep protocol', () => {
  test('time holds until the first client reports idle, then steps to the earliest deadline, on a whole second', async () => {
    const { clock, ls } = bench();
    const fired: number[] = [];
    clock.setTimer(EpochMs.unsafe(START + 600_000), () => fired.push(clock.now()));
    await settle();
    assert.equal(clock.now(), START, 'no client yet: time holds');
    const s = new FakeSession(17);
    ls.idle(s.asSession, 0, START + 60_500);
    await settle();
    assert.deepEqual(s.times, [START + 61_000], 'the time message for the client deadline, rounded up to the second');
    assert.equal(clock.now(), START + 61_000);
    assert.deepEqual(fired, [], 'the world timer at +10 min has not run');
    ls.stop();
  });

  test('a stale idle report (a time message not yet read) is ignored; one after data written is answered by a flush, not a step', async () => {
    const { clock, ls } = bench();
    const s = new FakeSession(17);
    ls.idle(s.asSession, 0, START + 5_000);
    await settle();
    assert.equal(s.timeWritten, 1);
    const at = clock.now();
    ls.idle(s.asSession, 0, START + 900_000); // stale: it has not read time message 1 yet
    await settle();
    assert.equal(clock.now(), at, 'no step on a stale report');
    assert.equal(s.timeWritten, 1);
    s.data(); // the world wrote something after the last time message
    ls.idle(s.asSession, 1, START + 900_000);
    await settle();
    assert.equal(clock.now(), at, 'no step: the client may not have handled what came after its time message');
    assert.equal(s.timeWritten, 2, 'the time again, at the same instant');
    assert.equal(s.times.at(-1), at);
    ls.idle(s.asSession, 2, START + 900_000);
    await settle();
    assert.equal(clock.now(), START + 900_000, 'quiet and caught up: a step');
    ls.stop();
  });

  test('every client must be idle; a step goes to the earliest of the world\'s next timer and every deadline', async () => {
    const { clock, ls } = bench();
    const fired: number[] = [];
    clock.setTimer(EpochMs.unsafe(START + 120_000), () => fired.push(clock.now()));
    const a = new FakeSession(17);
    const b = new FakeSession(18);
    ls.idle(a.asSession, 0, START + 600_000);
    ls.idle(b.asSession, 0, START + 300_000);
    await settle();
    assert.equal(clock.now(), START + 120_000, 'the world timer at +2 min comes first');
    assert.deepEqual(fired, [START + 120_000]);
    assert.deepEqual([a.times, b.times], [[START + 120_000], [START + 120_000]], 'both told the time');
    ls.idle(a.asSession, a.timeWritten, START + 600_000);
    await settle();
    assert.equal(clock.now(), START + 120_000, 'b has not reported for its last time message: hold');
    ls.idle(b.asSession, b.timeWritten, START + 300_000);
    await settle();
    assert.equal(clock.now(), START + 300_000, "b's deadline");
    ls.stop();
  });

  test('with no client connected time holds; advance runs the world; a refusal window runs it without waiting', async () => {
    const { clock, ls, log, refusing } = bench();
    const fired: number[] = [];
    clock.setTimer(EpochMs.unsafe(START + 300_000), () => fired.push(clock.now()));
    clock.setTimer(EpochMs.unsafe(START + 900_000), () => fired.push(clock.now()));
    const s = new FakeSession(17);
    ls.idle(s.asSession, 0, START + 60_000);
    await settle();
    ls.closed(s.asSession);
    await settle();
    const held = clock.now();
    await sleep(5);
    await settle();
    assert.equal(clock.now(), held, 'the guard left: time holds');
    assert.match(ls.advance(START + 600_000), /advancing/);
    await settle();
    assert.equal(clock.now(), START + 600_000);
    assert.deepEqual(fired, [START + 300_000]);
    assert.ok(log.some((l) => l.startsWith('advanced to')), log.join('\n'));
    refusing.on = true;
    clock.setTimer(EpochMs.unsafe(START + 1_200_000), () => {
      refusing.on = false;
    });
    ls.closed(s.asSession); // any nudge: the lockstep looks again
    ls.idle(new FakeSession(99).asSession, 5, null); // a stale report from a stranger changes nothing
    await settle();
    ls.advance(START + 600_001);
    await settle();
    assert.equal(clock.now(), START + 1_200_000, 'refusing connections: the world ran to the window end, then held');
    assert.deepEqual(fired, [START + 300_000, START + 900_000]);
    ls.stop();
  });

  test('a connected client keeps advance from moving time; pause holds it however idle the client is', async () => {
    const { clock, ls } = bench();
    const s = new FakeSession(17);
    assert.match(ls.pause(true), /paused/);
    ls.idle(s.asSession, 0, START + 60_000);
    await settle();
    assert.equal(clock.now(), START, 'paused');
    assert.match(ls.advance(START + 600_000), /ignored/);
    ls.pause(false);
    await settle();
    assert.equal(clock.now(), START + 60_000, 'resumed');
    ls.stop();
  });

  test('the world stops at until; finished is said once, when every client has caught up', async () => {
    const { clock, ls, finished } = bench();
    const s = new FakeSession(17);
    ls.idle(s.asSession, 0, null);
    await settle();
    assert.equal(clock.now(), START + 3_600_000, 'nothing due: straight to until');
    assert.equal(finished(), 0, 'the client has not reported for the last time message yet');
    ls.idle(s.asSession, s.timeWritten, START + 7_200_000);
    await settle();
    assert.equal(finished(), 1);
    ls.idle(s.asSession, s.timeWritten, START + 7_200_000);
    await settle();
    assert.equal(clock.now(), START + 3_600_000, 'not past until');
    assert.equal(finished(), 1, 'said once');
    ls.stop();
  });

  test('--speed caps scenario time at that many times real time from the first report', async () => {
    let realMs = 0;
    const { clock, ls } = bench({ speed: 60, perf: () => realMs });
    const s = new FakeSession(17);
    ls.idle(s.asSession, 0, START + 600_000);
    await settle();
    assert.equal(clock.now(), START, 'ten minutes at x60 is ten real seconds away');
    realMs = 10_000;
    await sleep(150); // the cap's own wait (a real timer, at most 100 ms) runs and looks again
    await settle();
    assert.equal(clock.now(), START + 600_000);
    ls.stop();
  });
});

describe('LEGGUARD_LOCKSTEP_IDLE on the wire', () => {
  test('decodes the count and the deadline (-1: none); a bad field is a protocol error naming it', () => {
    assert.deepEqual(decodeClientRequest(['9001', '1', '3', '1769600000000']), { kind: 'lockstep-idle', seq: 3, deadline: 1769600000000 });
    assert.deepEqual(decodeClientRequest(['9001', '1', '0', '-1']), { kind: 'lockstep-idle', seq: 0, deadline: null });
    assert.throws(() => decodeClientRequest(['9001', '1', 'x', '-1']), (e: unknown) => LegguardError.is(e, 'PROTOCOL_ERROR') && /seq/.test(e.message));
    assert.throws(() => decodeClientRequest(['9001', '1', '-4', '-1']), (e: unknown) => LegguardError.is(e, 'PROTOCOL_ERROR') && /seq/.test(e.message));
    assert.throws(() => decodeClientRequest(['9001', '1', '2', '5', 'extra']), (e: unknown) => LegguardError.is(e, 'PROTOCOL_ERROR'));
  });

  test('a gateway without --lockstep answers the report with an error and goes on', async () => {
    const scenario = parseScenario(condorAssignedOvernight({}), 'lockstep.yaml');
    const run = new ScenarioRun(scenario);
    const gw = new TwsGateway({ backend: simBackend(run.broker) });
    const { port } = await gw.start();
    const ib = new IbBroker({ host: '127.0.0.1', port, clientId: 17, account: scenario.account, clock: new SystemClock() });
    const notices: string[] = [];
    ib.subscribe((e) => {
      if (e.kind === 'notice') notices.push(e.message);
    });
    try {
      await ib.connect();
      assert.equal(ib.sendLockstepIdle(null), true);
      for (let i = 0; i < 200 && !notices.some((m) => /lockstep is off/.test(m)); i++) await sleep(5);
      assert.ok(notices.some((m) => /lockstep is off/.test(m)), notices.join('\n'));
      assert.ok(ib.isConnected(), 'still connected');
    } finally {
      await ib.disconnect();
      await gw.stop();
    }
  });
});
