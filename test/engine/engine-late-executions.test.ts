// A crash between the store recording an order as filled (its status came first, as IB often sends it) and the
// arrival of its executions: the restarted guard loads only open orders, yet the executions it then sees carry the
// guard's own ref. They must be applied as the guard's fill, not taken for a trade by someone else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenario } from '../../src/adapters/sim/load-scenario.js';
import { ScenarioRun } from '../../src/adapters/sim/scenario-run.js';
import { MemoryStore } from '../../src/adapters/store/memory-store.js';
import { parseGuardConfig } from '../../src/app/guard-config-schema.js';
import { CollectingAlerts } from '../../src/app/replay.js';
import { contractKey, stock } from '../../src/core/contract.js';
import { IncidentId, OrderRef } from '../../src/core/ids.js';
import { EpochMs, Qty } from '../../src/core/quantity.js';
import type { OrderRequest } from '../../src/core/order.js';
import { GuardEngine } from '../../src/engine/guard-engine.js';
import type { TimelineEntry } from '../../src/engine/timeline.js';

test("executions that arrive after a restart, of an order the store already has as filled, are the guard's own", async () => {
  const scenario = parseScenario(
    `
name: late executions
start: "2026-01-28T10:00:00-05:00"
account: DU0000001
underlyings: { SPY: { price: 440.00, volatility: 0.18 } }
strategies:
  - id: hedge-left
    legs:
      - { symbol: SPY, secType: STK, qty: 100 }
until: "2026-01-28T10:05:00-05:00"
`,
    'late.yaml',
  );
  const run = new ScenarioRun(scenario);
  const store = new MemoryStore();
  await store.init();
  const def = scenario.strategies[0]!;
  const incident = IncidentId.unsafe('hedge-left:assignment:1769585400000');
  const request: OrderRequest = {
    ref: OrderRef.unsafe(`lg/hedge-left/${incident}/t1.SPY.STK/0`),
    strategyId: def.id,
    incidentId: incident,
    account: scenario.account,
    legs: [{ contract: stock('SPY'), action: 'SELL', ratio: 1 }],
    quantity: Qty.unsafe(100),
    orderType: 'LMT',
    limitPrice: null,
    outsideRth: true,
    purpose: 'emergency',
    tier: 1,
  };
  // The guard before the crash: the strategy closing its 100 shares, the order sent, its status "filled" committed,
  // its execution not yet applied (the book still holds the shares).
  await store.commit({
    account: scenario.account,
    strategies: [
      {
        definition: def,
        state: 'EMERGENCY_CLOSING',
        broken: { cause: 'assignment', kind: 'EARLY', incidentId: incident, leg: 'SPY 2026-01-30 440 P', qty: 1, at: scenario.start, reason: 'test' },
        holdings: [{ contract: stock('SPY'), qty: Qty.unsafe(100) }],
        updatedAt: scenario.start,
      },
    ],
  });
  await run.broker.connect();
  const marketable = await run.broker.quote(stock('SPY'));
  const ack = await run.broker.placeOrder({ ...request, orderType: 'LMT', limitPrice: marketable!.bid });
  await run.clock.advanceTo(scenario.start + 1000);
  assert.equal(run.broker.position(stock('SPY')), 0, 'the broker sold the shares');
  await store.commit({
    account: scenario.account,
    orders: [
      { request, orderId: ack.orderId, status: 'filled', filledQty: Qty.unsafe(100), avgFillPrice: null, placedAt: scenario.start, positionBefore: {}, reason: null, updatedAt: scenario.start },
    ],
  });

  const timeline: TimelineEntry[] = [];
  const engine = new GuardEngine({
    account: scenario.account,
    broker: run.broker,
    store,
    alerts: new CollectingAlerts(),
    clock: run.clock,
    config: parseGuardConfig({}, 'test'),
  });
  engine.onTimeline((e) => timeline.push(e));
  await engine.start();
  await engine.idle();
  await run.clock.advanceTo(EpochMs.unsafe(scenario.start + 30_000), () => engine.idle());
  await engine.stop();

  const detections = timeline.flatMap((e) => (e.kind === 'detection' ? [e.detection.cause] : []));
  assert.deepEqual(detections, [], `nothing detected: the sale was the guard's own (${detections.join(', ')})`);
  assert.equal(engine.strategies.get(def.id)?.state, 'CLOSED', 'the strategy is flat and closed');
  assert.equal(engine.book.net(contractKey(stock('SPY'))), 0, 'the book shows no shares');
  assert.ok(!timeline.some((e) => e.kind === 'alert' && e.alert.severity === 'critical'), 'no critical alert');
});
