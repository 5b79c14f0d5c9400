import { contractKey, describeContract } from '../../src/core/contract.js';
import { LegguardError } from '../../src/core/errors.js';
import { parseScenario, type Scenario } from '../../src/adapters/sim/load-scenario.js';
import { ScenarioRun } from '../../src/adapters/sim/scenario-run.js';
import { MemoryStore } from '../../src/adapters/store/memory-store.js';
import { parseGuardConfig } from '../../src/app/guard-config-schema.js';
import { CollectingAlerts, guardStrategies } from '../../src/app/replay.js';
import { GuardEngine } from '../../src/engine/guard-engine.js';
import type { GuardConfig } from '../../src/engine/guard-config.js';
import type { TimelineEntry } from '../../src/engine/timeline.js';
import type { StorePort } from '../../src/ports/store.js';
import type { Rule } from '../../src/core/rules/rule.js';
import type { RiskInputs } from '../../src/engine/risk-rules.js';
import { JumbledBroker, type JumbleOptions } from './jumbled-broker.js';

/** What a run ends with, in a form two runs can be compared by: states, holdings and the account. */
export interface FinalState {
  readonly strategies: readonly {
    readonly id: string;
    readonly state: string;
    readonly broken: { readonly cause: string; readonly kind: string | null; readonly leg: string; readonly qty: number } | null;
    readonly holdings: readonly (readonly [string, number])[];
  }[];
  readonly positions: readonly (readonly [string, number])[];
}

export interface HarnessOptions {
  /** Opens the store; called again on a restart with `reopen` (a SQLite file is closed and opened anew). */
  readonly openStore?: () => Promise<StorePort>;
  readonly jumble?: Partial<JumbleOptions>;
  /** Pick up strategies written to the store while the engine runs, as the daemon does. */
  readonly watchStore?: boolean;
  /** Rules for open strategies (the engine's default, the time exit, when not given). */
  readonly rules?: readonly Rule[];
  /** Strategies per slice of a rule pass (the engine's default when not given). */
  readonly ruleSlice?: number;
  /** Rate, volatilities and dividends for the early-assignment rules (none when not given). */
  readonly riskInputs?: RiskInputs;
}

/**
 * A scenario played against the real guard engine and the real SimBroker, with a `JumbledBroker` between them, and
 * control a replay does not give: stop the engine at any moment, move simulated time on while no guard watches, and
 * start a new engine on the same store (optionally closed and reopened) and the same broker, as a restarted daemon
 * would. The timeline and alerts of every engine generation are kept in one list.
 */
export class GuardHarness {
  readonly scenario: Scenario;
  readonly run: ScenarioRun;
  readonly broker: JumbledBroker;
  readonly config: GuardConfig;
  readonly timeline: TimelineEntry[] = [];
  readonly alerts = new CollectingAlerts();
  engine: GuardEngine | null = null;
  /** Engines started so far. */
  generation = 0;
  private storeHandle: StorePort | null = null;

  private constructor(
    yaml: string,
    private readonly opts: HarnessOptions,
  ) {
    this.scenario = parseScenario(yaml, 'harness.yaml');
    this.config = parseGuardConfig(this.scenario.guard, this.scenario.file);
    this.run = new ScenarioRun(this.scenario);
    this.broker = new JumbledBroker(this.run.broker, this.run.clock, opts.jumble ?? {});
  }

  /** Sets the scenario up and guards its strategies in a fresh store; the engine is not started yet. */
  static async create(yaml: string, opts: HarnessOptions = {}): Promise<GuardHarness> {
    const h = new GuardHarness(yaml, opts);
    h.storeHandle = await h.open();
    await guardStrategies(h.storeHandle, h.scenario.strategies, h.scenario.start);
    return h;
  }

  get store(): StorePort {
    if (!this.storeHandle) throw new LegguardError('INTERNAL', 'the harness store is closed');
    return this.storeHandle;
  }

  /** Starts a new engine on the store and the broker (a restart when one ran before). */
  async start(): Promise<GuardEngine> {
    if (this.engine) throw new LegguardError('INTERNAL', 'stop the running engine first');
    this.generation++;
    const engine = new GuardEngine({
      account: this.scenario.account,
      broker: this.broker,
      store: this.store,
      alerts: this.alerts,
      clock: this.run.clock,
      config: this.config,
      ...(this.opts.watchStore ? { watchStore: true } : {}),
      ...(this.opts.rules ? { rules: this.opts.rules } : {}),
      ...(this.opts.ruleSlice !== undefined ? { ruleSlice: this.opts.ruleSlice } : {}),
      ...(this.opts.riskInputs ? { riskInputs: this.opts.riskInputs } : {}),
    });
    engine.onTimeline((e) => this.timeline.push(e));
    this.engine = engine;
    await engine.start();
    await this.settle();
    return engine;
  }

  /**
   * Stops the engine as a crash would leave things, as far as an in-process test can: its timers and subscription
   * end; nothing is flushed beyond what each step already committed. With `reopen`, the store is closed too and
   * opened again at the next `start`.
   */
  async stop(opts: { reopen?: boolean } = {}): Promise<void> {
    const e = this.engine;
    if (!e) return;
    await e.stop();
    this.engine = null;
    failIfStopped(e);
    if (opts.reopen) {
      if (!this.opts.openStore) throw new LegguardError('INVALID_INPUT', 'reopen needs a store that outlives its handle (openStore)');
      await this.store.close();
      this.storeHandle = null;
      this.storeHandle = await this.open();
    }
  }

  /** Runs simulated time to `iso` (guard or no guard), letting the engine finish each step. */
  async runTo(iso: string): Promise<void> {
    const t = Date.parse(iso);
    if (Number.isNaN(t)) throw new LegguardError('INVALID_INPUT', `not a time: ${iso}`);
    await this.run.clock.advanceTo(Math.max(t, this.run.clock.now()), () => this.settle());
  }

  /** Runs to the scenario's end, then stops the engine and closes the store. */
  async finish(): Promise<FinalState> {
    await this.run.finish(() => this.settle());
    await this.stop();
    const state = await this.finalState();
    await this.store.close();
    this.storeHandle = null;
    return state;
  }

  /** States and holdings as the store has them, and the account's positions at the simulated broker. */
  async finalState(): Promise<FinalState> {
    const records = await this.store.listStrategies(this.scenario.account);
    return {
      strategies: records.map((r) => ({
        id: r.definition.id,
        state: r.state,
        broken: r.broken ? { cause: r.broken.cause, kind: r.broken.kind, leg: r.broken.leg, qty: r.broken.qty } : null,
        holdings: r.holdings.map((h) => [contractKey(h.contract), h.qty] as const).sort(byFirst),
      })),
      positions: this.run.broker
        .allPositions()
        .map((p) => [contractKey(p.contract), p.qty] as const)
        .sort(byFirst),
    };
  }

  /** Timeline entries of one kind. */
  entries<K extends TimelineEntry['kind']>(kind: K): Extract<TimelineEntry, { kind: K }>[] {
    return this.timeline.filter((e): e is Extract<TimelineEntry, { kind: K }> => e.kind === kind);
  }

  /** `describeContract` of every order leg sent, with its action and size, for messages. */
  describeSent(): string {
    return this.broker.sent.map((o) => `${o.ref}: ${o.legs.map((l) => `${l.action} ${l.ratio * o.quantity} ${describeContract(l.contract)}`).join(' + ')}`).join('\n');
  }

  private async settle(): Promise<void> {
    const e = this.engine;
    if (!e) return;
    await e.idle();
    failIfStopped(e);
  }

  private async open(): Promise<StorePort> {
    if (this.opts.openStore) return this.opts.openStore();
    const s = new MemoryStore();
    await s.init();
    return s;
  }
}

const byFirst = (a: readonly [string, number], b: readonly [string, number]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

function failIfStopped(engine: GuardEngine): void {
  const f = engine.failure;
  if (f === null) return;
  if (f instanceof Error) throw f;
  throw new LegguardError('INTERNAL', `the guard stopped: ${JSON.stringify(f)}`);
}
