import { LegguardError } from '../core/errors.js';
import type { EpochMs } from '../core/quantity.js';
import type { StrategyDefinition } from '../core/strategy.js';
import type { Scenario } from '../adapters/sim/load-scenario.js';
import { ScenarioRun, type AppliedEvent } from '../adapters/sim/scenario-run.js';
import type { Alert, AlertsPort } from '../ports/alerts.js';
import type { StorePort } from '../ports/store.js';
import { GuardEngine, type Logger } from '../engine/guard-engine.js';
import type { TimelineEntry } from '../engine/timeline.js';
import { parseGuardConfig } from './guard-config-schema.js';
import type { HeldAtDetection } from '../core/incident-cost.js';
import { recordClock } from './record-clock.js';
import { buildReplayReport, type ReplayReport } from './replay-report.js';

/** Alerts in a replay: kept for the report (the timeline prints them); the store's outbox has them too. */
export class CollectingAlerts implements AlertsPort {
  readonly raised: Alert[] = [];
  raise(alert: Alert): void {
    this.raised.push(alert);
  }
}

export interface ReplayOptions {
  readonly scenario: Scenario;
  /** An opened store; the caller closes it. */
  readonly store: StorePort;
  /** Called for every timeline entry and every applied scenario event, as they happen. */
  readonly onTimeline?: (entry: TimelineEntry) => void;
  readonly onApplied?: (applied: AppliedEvent) => void;
  readonly log?: Logger;
}

export interface ReplayResult {
  readonly report: ReplayReport;
  readonly timeline: readonly TimelineEntry[];
  readonly applied: readonly AppliedEvent[];
  readonly engine: GuardEngine;
  readonly run: ScenarioRun;
  /** Each underlying's price at the start and at every change, for the HTML report's price path. */
  readonly prices: readonly { readonly symbol: string; readonly at: number; readonly price: number }[];
  /** What each broken strategy held right after its (first) break, for the payoff after it. */
  readonly heldAtBreak: ReadonlyMap<string, readonly HeldAtDetection[]>;
}

/**
 * Writes strategies to the store as PENDING, holding nothing yet, as `legguard strategies add` does: the guard picks
 * them up from the store and guards each (OPEN, holding its legs) from the reconciliation that finds every leg at the
 * broker; until then it says which legs are not there.
 */
export async function guardStrategies(store: StorePort, defs: readonly StrategyDefinition[], at: EpochMs): Promise<void> {
  if (defs.length === 0) return;
  const account = defs[0]!.account;
  await store.commit({
    account,
    strategies: defs.map((d) => ({
      definition: d,
      state: 'PENDING',
      broken: null,
      holdings: [],
      updatedAt: at,
    })),
    stateChanges: defs.map((d) => ({ strategyId: d.id, from: null, to: 'PENDING', at, reason: 'guarded', incidentId: null })),
  });
}

/**
 * Plays a scenario: the simulated broker and clearing house on a virtual clock, the guard engine on the same clock
 * with a real store, every scripted event at its time, to `until`. The whole run takes real milliseconds; latency
 * figures in the report are real time from a broker event reaching the guard to its orders going out.
 */
export async function replay(opts: ReplayOptions): Promise<ReplayResult> {
  const { scenario, store } = opts;
  const config = parseGuardConfig(scenario.guard, scenario.file);
  const run = new ScenarioRun(scenario);
  const alerts = new CollectingAlerts();
  const timeline: TimelineEntry[] = [];
  const applied: AppliedEvent[] = [];
  run.onApplied((a) => {
    applied.push(a);
    opts.onApplied?.(a);
  });
  const engine = new GuardEngine({
    account: scenario.account,
    broker: run.broker,
    store,
    alerts,
    clock: run.clock,
    config,
    // The early-assignment rules price with the scenario's rate, the simulated market's volatility (IB's implied
    // volatility in its place) and the scenario's announced dividends.
    riskInputs: {
      rate: run.market.settings.rate,
      volatility: (symbol) => (run.market.has(symbol) ? run.market.underlying(symbol).volatility : null),
      dividends: (symbol) => (run.market.has(symbol) ? run.market.underlying(symbol).dividends : []),
    },
    ...(opts.log ? { log: opts.log } : {}),
  });
  engine.onTimeline((e) => {
    timeline.push(e);
    opts.onTimeline?.(e);
  });
  const prices = run.market.symbols().map((symbol) => ({ symbol, at: run.clock.now(), price: run.market.price(symbol) }));
  run.market.onChange((c) => {
    if (c.kind === 'price') prices.push({ symbol: c.symbol, at: run.clock.now(), price: c.price });
  });
  // The record is on the scenario's clock: `legguard status` must not count its ages against today's date.
  await recordClock(store, scenario.account, scenario.start, { kind: 'scenario', source: `replay of ${JSON.stringify(scenario.name)}` });
  await guardStrategies(store, scenario.strategies, scenario.start);
  const settle = async (): Promise<void> => {
    await engine.idle();
    failIfStopped(engine);
  };
  await engine.start();
  await settle();
  await run.finish(settle);
  await engine.stop();
  failIfStopped(engine);
  // The engine kept each incident's cost in the record as it went (status and the dashboard show it).
  const incidentCosts = engine.costs.costs();
  const snapshot = await run.broker.snapshot({ executionsSince: null });
  const report = buildReplayReport({ scenario, engine, timeline, alerts: alerts.raised, positions: snapshot.positions, incidentCosts });
  return { report, timeline, applied, engine, run, prices, heldAtBreak: engine.costs.heldAtBreak() };
}

/** A guard that stopped on a broken invariant ends the replay with that error. */
function failIfStopped(engine: GuardEngine): void {
  const f = engine.failure;
  if (f === null) return;
  if (f instanceof Error) throw f;
  throw new LegguardError('INTERNAL', `the guard stopped: ${JSON.stringify(f)}`);
}

/** A one-line check a test or the demo can use: every strategy CLOSED and flat. */
export function allClosedAndFlat(report: ReplayReport): { ok: boolean; problems: string[] } {
  const problems: string[] = [];
  for (const s of report.strategies) {
    if (s.state !== 'CLOSED') problems.push(`${s.id} is ${s.state}`);
    if (s.holdings.length > 0) problems.push(`${s.id} still holds ${s.holdings.map((h) => `${h.qty} ${h.contract}`).join(', ')}`);
  }
  return { ok: problems.length === 0, problems };
}
