// Periodic work when a pass takes longer than its interval. A guard drilling against the sim gateway at x7200 runs a
// minute of its clock in 8 ms, while one reconciliation over the wire takes longer than that (three requests through
// the 40-a-second pacer): queued passes grew without end and every broker event and closing order waited behind them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenario } from '../../src/adapters/sim/load-scenario.js';
import { ScenarioRun } from '../../src/adapters/sim/scenario-run.js';
import { MemoryStore } from '../../src/adapters/store/memory-store.js';
import { parseGuardConfig } from '../../src/app/guard-config-schema.js';
import { CollectingAlerts, guardStrategies } from '../../src/app/replay.js';
import { GuardEngine } from '../../src/engine/guard-engine.js';
import { LegguardError } from '../../src/core/errors.js';
import type { EpochMs } from '../../src/core/quantity.js';
import type { TimelineEntry } from '../../src/engine/timeline.js';
import type { BrokerPort, BrokerSnapshot } from '../../src/ports/broker.js';
import { ironCondor } from '../support/play.js';

/** The SimBroker, except that snapshots can be held until released, as a slow broker answers. */
function slowSnapshots(inner: BrokerPort): { broker: BrokerPort; calls: () => number; hold: (on: boolean) => void } {
  let calls = 0;
  let holding = false;
  let waiting: (() => void)[] = [];
  const broker: BrokerPort = Object.create(inner) as BrokerPort;
  Object.defineProperty(broker, 'snapshot', {
    value: async (opts: { executionsSince: EpochMs | null }): Promise<BrokerSnapshot> => {
      calls++;
      if (holding) await new Promise<void>((r) => waiting.push(r));
      return inner.snapshot(opts);
    },
  });
  return {
    broker,
    calls: () => calls,
    hold: (on) => {
      holding = on;
      if (!on) {
        const w = waiting;
        waiting = [];
        for (const r of w) r();
      }
    },
  };
}

test('a reconciliation slower than its interval absorbs the passes due meanwhile instead of queueing them all', async () => {
  const scenario = parseScenario(
    `name: slow reconciliation
start: "2026-01-26T10:00:00-05:00"
account: DU0000001
underlyings:
  SPY: { price: 445.00, volatility: 0.18 }
strategies:
${ironCondor('ic-spy')}guard: { onAssignment: close, timeExitDte: null, reconcileIntervalMs: 60000 }
until: "2026-01-26T12:00:00-05:00"
`,
    'slow.yaml',
  );
  const run = new ScenarioRun(scenario);
  const slow = slowSnapshots(run.broker);
  const store = new MemoryStore();
  await store.init();
  await guardStrategies(store, scenario.strategies, scenario.start);
  const engine = new GuardEngine({
    account: scenario.account,
    broker: slow.broker,
    store,
    alerts: new CollectingAlerts(),
    clock: run.clock,
    config: parseGuardConfig(scenario.guard, scenario.file),
  });
  await engine.start();
  const afterStart = slow.calls();

  // The broker stops answering snapshots; an hour of intervals comes due while the first pass waits.
  slow.hold(true);
  await run.clock.advanceTo(run.clock.now() + 60 * 60_000, () => Promise.resolve());
  assert.equal(slow.calls(), afterStart + 1, 'one pass asked and waits for its snapshot');

  // Once it answers, one more pass runs for everything that came due meanwhile, not sixty.
  slow.hold(false);
  await engine.idle();
  assert.equal(slow.calls(), afterStart + 2, `passes after the slow one: ${slow.calls() - afterStart - 1}`);

  // ... and the interval goes on as before.
  await run.clock.advanceTo(run.clock.now() + 3 * 60_000, () => engine.idle());
  assert.equal(slow.calls(), afterStart + 5, 'one pass a minute again');
  await engine.stop();
  await store.close();
});

test('a reconciliation the broker does not answer in time is a timeout, said so and retried soon, not a skipped disconnect', async () => {
  const scenario = parseScenario(
    `name: timed-out reconciliation
start: "2026-01-26T10:00:00-05:00"
account: DU0000001
underlyings:
  SPY: { price: 445.00, volatility: 0.18 }
strategies:
${ironCondor('ic-spy')}guard: { onAssignment: close, timeExitDte: null, reconcileIntervalMs: 3600000 }
until: "2026-01-26T12:00:00-05:00"
`,
    'timeout.yaml',
  );
  const run = new ScenarioRun(scenario);
  let timeouts = 2;
  const broker: BrokerPort = Object.create(run.broker) as BrokerPort;
  Object.defineProperty(broker, 'snapshot', {
    value: (opts: { executionsSince: EpochMs | null }): Promise<BrokerSnapshot> => {
      if (timeouts-- > 0) return Promise.reject(new LegguardError('BROKER_TIMEOUT', 'TWS did not finish reqPositions within 15 s'));
      return run.broker.snapshot(opts);
    },
  });
  await run.broker.connect();
  const store = new MemoryStore();
  await store.init();
  await guardStrategies(store, scenario.strategies, scenario.start);
  const engine = new GuardEngine({ account: scenario.account, broker, store, alerts: new CollectingAlerts(), clock: run.clock, config: parseGuardConfig(scenario.guard, scenario.file) });
  const timeline: TimelineEntry[] = [];
  engine.onTimeline((e) => timeline.push(e));
  await engine.start();
  const notes = (): string[] => timeline.flatMap((e) => (e.kind === 'note' && /timed out/.test(e.text) ? [e.text] : []));
  assert.deepEqual(notes(), ['reconciliation (start) timed out: TWS did not finish reqPositions within 15 s; retrying in 5 s']);
  await run.clock.advanceTo(run.clock.now() + 5_000, () => engine.idle());
  assert.equal(notes().length, 2, 'the retry timed out too, and said so');
  assert.match(notes()[1]!, /retrying in 10 s/, 'the next wait is longer');
  await run.clock.advanceTo(run.clock.now() + 10_000, () => engine.idle());
  const reconciled = timeline.filter((e) => e.kind === 'reconciled');
  assert.equal(reconciled.length, 1, 'the third try reconciled, long before the hourly pass');
  assert.match((reconciled[0] as { reason: string }).reason, /retry after timeout/);
  await engine.stop();
  await store.close();
});
