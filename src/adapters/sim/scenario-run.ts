import { contractKey, describeContract, type Contract } from '../../core/contract.js';
import { LegguardError } from '../../core/errors.js';
import { EpochMs } from '../../core/quantity.js';
import { VirtualClock } from '../clock/virtual-clock.js';
import type { Scenario, ScenarioEvent } from './load-scenario.js';
import { SimBroker } from './sim-broker.js';
import { SimMarket } from './sim-market.js';

/** A scenario event after it was applied: what it did, in words for a timeline. */
export interface AppliedEvent {
  readonly event: ScenarioEvent;
  readonly at: EpochMs;
  readonly text: string;
}

/**
 * Drives one scenario: a `VirtualClock` at the scenario's start, the simulated market and broker set up with the
 * strategies' legs and the outside positions (netted per contract, as the broker holds them), and each scripted event
 * scheduled on the clock at its `at`. Whatever else runs on the same clock (the guard engine's timers, the broker's
 * fills and deliveries, the clearing house's nightly run) interleaves in time order.
 *
 * @example
 *   const run = new ScenarioRun(await loadScenario('scenarios/iron-condor-put-assigned.yaml'));
 *   const engine = new GuardEngine({ broker: run.broker, clock: run.clock, ... });
 *   await engine.start();
 *   for (const s of run.scenario.strategies) await engine.addStrategy(s);
 *   while (!run.done) for (const applied of await run.step(() => engine.idle())) print(applied);
 *   await run.finish(() => engine.idle());
 */
export class ScenarioRun {
  readonly clock: VirtualClock;
  readonly market: SimMarket;
  readonly broker: SimBroker;
  private readonly pending: ScenarioEvent[];
  private readonly applied: AppliedEvent[] = [];
  private readonly listeners: ((a: AppliedEvent) => void)[] = [];

  constructor(
    readonly scenario: Scenario,
    opts: {
      clock?: VirtualClock;
      /**
       * Another run's market, shared: several accounts behind one simulated login see one market (the first
       * scenario's underlyings and prices), each with its own positions and orders.
       */
      market?: SimMarket;
      /** The account's id range among several on one login (`SimBrokerOptions.idSpace`). */
      idSpace?: number;
    } = {},
  ) {
    this.clock = opts.clock ?? new VirtualClock(scenario.start);
    if (this.clock.now() !== scenario.start) {
      throw new LegguardError('INVALID_INPUT', `the clock must start at the scenario's start ${new Date(scenario.start).toISOString()}`);
    }
    this.market = opts.market ?? new SimMarket(this.clock, scenario.underlyings, scenario.market);
    this.broker = new SimBroker({
      ...(opts.idSpace !== undefined ? { idSpace: opts.idSpace } : {}),
      account: scenario.account,
      clock: this.clock,
      market: this.market,
      fills: scenario.fills,
      clearing: scenario.clearing,
      name: `sim:${scenario.name}`,
    });
    const net = new Map<string, { contract: Contract; qty: number }>();
    for (const leg of [...scenario.strategies.flatMap((s) => s.legs), ...scenario.outside]) {
      const key = contractKey(leg.contract);
      const n = net.get(key) ?? { contract: leg.contract, qty: 0 };
      n.qty += leg.qty;
      net.set(key, n);
    }
    for (const n of net.values()) if (n.qty !== 0) this.broker.setPosition(n.contract, n.qty);
    this.pending = [...scenario.events];
    for (const e of scenario.events) this.clock.setTimer(e.at, () => this.apply(e));
  }

  /** Start and end of the run. */
  get start(): EpochMs {
    return this.scenario.start;
  }

  get until(): EpochMs {
    return this.scenario.until;
  }

  /** Scripted events not yet applied. */
  get remaining(): number {
    return this.pending.length;
  }

  /** True once every scripted event is applied and the clock has reached `until`. */
  get done(): boolean {
    return this.pending.length === 0 && this.clock.now() >= this.scenario.until;
  }

  /** When the next scripted event applies, or null when none is left. */
  nextAt(): EpochMs | null {
    return this.pending[0]?.at ?? null;
  }

  /** Every event applied so far. */
  history(): readonly AppliedEvent[] {
    return this.applied;
  }

  onApplied(fn: (a: AppliedEvent) => void): () => void {
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /**
   * Advances to the next scripted event's time, running everything due before it (awaiting `settle` after each
   * timer, so the guard can handle what was delivered), and applies every event scheduled for that instant. Returns
   * what was applied; an empty list when no event is left (then `finish` runs to `until`). A scripted event the
   * simulated account cannot take (assigning more than it is short) rejects with SCENARIO_INVALID naming the event.
   */
  async step(settle: () => Promise<void> = () => Promise.resolve()): Promise<readonly AppliedEvent[]> {
    const at = this.nextAt();
    if (at === null) return [];
    const before = this.applied.length;
    await this.clock.advanceTo(at, settle);
    return this.applied.slice(before);
  }

  /** Runs to `until` (the remaining events included). */
  async finish(settle: () => Promise<void> = () => Promise.resolve()): Promise<void> {
    while (this.pending.length > 0) await this.step(settle);
    await this.clock.advanceTo(this.scenario.until, settle);
  }

  private apply(e: ScenarioEvent): void {
    const i = this.pending.indexOf(e);
    if (i >= 0) this.pending.splice(i, 1);
    let text: string;
    try {
      text = this.perform(e);
    } catch (err) {
      // A scripted event the simulated account cannot take (assigning more than it is short) is a scenario error.
      const why = err instanceof Error ? err.message : String(err);
      throw new LegguardError(
        'SCENARIO_INVALID',
        `${this.scenario.file}: events[${e.index}].${e.kind}: ${why}`,
        { file: this.scenario.file, field: `events[${e.index}].${e.kind}` },
        { cause: err },
      );
    }
    const a: AppliedEvent = { event: e, at: this.clock.now(), text };
    this.applied.push(a);
    for (const l of [...this.listeners]) l(a);
  }

  private perform(e: ScenarioEvent): string {
    const b = this.broker;
    switch (e.kind) {
      case 'price':
        for (const [sym, p] of Object.entries(e.prices)) b.setPrice(sym, p);
        return `price ${Object.entries(e.prices).map(([s, p]) => `${s} ${p.toFixed(2)}`).join(', ')}`;
      case 'volatility':
        for (const [sym, v] of Object.entries(e.volatilities)) this.market.setVolatility(sym, v);
        return `volatility ${Object.entries(e.volatilities).map(([s, v]) => `${s} ${v}`).join(', ')}`;
      case 'assign':
        b.postAssignment(e.contract, e.qty);
        return `assignment posted: ${e.qty} ${describeContract(e.contract)}`;
      case 'exercise':
        b.postExercise(e.contract, e.qty);
        return `exercise posted: ${e.qty} ${describeContract(e.contract)}`;
      case 'trade':
        b.manualTrade(e.contract, e.qty);
        return `account holder ${e.qty > 0 ? 'buys' : 'sells'} ${Math.abs(e.qty)} ${describeContract(e.contract)} outside legguard`;
      case 'combo':
        b.manualCombo(e.legs.map((l) => ({ contract: l.contract, qty: l.qty })));
        return `account holder trades a combo outside legguard: ${e.legs.map((l) => `${l.qty > 0 ? '+' : ''}${l.qty} ${describeContract(l.contract)}`).join(', ')}`;
      case 'liquidate':
        b.liquidate(e.contract, e.qty);
        return `broker liquidates ${e.qty} ${describeContract(e.contract)}`;
      case 'disconnect': {
        b.dropConnection();
        const back = EpochMs.unsafe(this.clock.now() + e.seconds * 1000);
        this.clock.setTimer(back, () => b.restoreConnection({ dataLost: e.dataLost }));
        return `connection drops for ${e.seconds} s`;
      }
      case 'fills':
        b.setFillModel({ ...b.fillModel, ...e.model });
        return `fills: ${b.fillModel.mode}`;
    }
  }
}
