import { contractKey, describeContract } from '../core/contract.js';
import type { Detection } from '../core/detection.js';
import type { ExecutionReport } from '../core/events.js';
import { newStructures } from '../core/grouping/new-structures.js';
import type { Proposal } from '../core/grouping/group-positions.js';
import type { ContractKey } from '../core/ids.js';
import { EpochMs } from '../core/quantity.js';
import type { StrategyDefinition } from '../core/strategy.js';
import type { Leg } from '../core/leg.js';
import type { TimerHandle } from '../ports/clock.js';
import type { EngineContext } from './engine-host.js';

/** How long after the last change outside any strategy the guard looks for a new structure (all legs of a combo in). */
export const NEW_POSITIONS_SETTLE_MS = 500;

/** What guarding a new structure does through the engine: add it (PENDING), then adopt what the broker shows. */
export interface NewPositionsSteps {
  add(def: StrategyDefinition): Promise<void>;
  adoptPending(): Promise<unknown>;
}

/**
 * `guard.newPositions` (issue 13): after a detection pass, what the account holder opened outside any strategy is
 * grouped (core/grouping/new-structures decides) and, under `adopt`, guarded at once: each proposal is added as a
 * strategy and adopted from the positions the broker shows (it is OPEN before the step ends), with an info alert
 * "now guarding ..." journaled with it. Under `propose` an info alert names the proposals and how to guard them;
 * under `ignore` nothing happens (the positions stay outside any strategy, as before).
 */
export class NewPositions {
  /** Outside detections and executions since the last look, waiting for the rest of a combo's legs. */
  private detections: Detection[] = [];
  private readonly executions = new Map<string, ExecutionReport>();
  private timer: TimerHandle | null = null;

  constructor(
    private readonly ctx: EngineContext,
    private readonly steps: NewPositionsSteps,
  ) {}

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  /**
   * Collects what a detection pass found outside any strategy. A combo's legs reach the guard one execution and one
   * position report at a time: the look waits `NEW_POSITIONS_SETTLE_MS` after the last outside change, so that a
   * condor is seen whole (not its first short put as a cash-secured put).
   */
  afterDetection(outside: readonly Detection[], executions: readonly ExecutionReport[]): Promise<void> {
    if (this.ctx.config.newPositions === 'ignore' || outside.length === 0) return Promise.resolve();
    this.detections.push(...outside);
    for (const e of executions) this.executions.set(e.execId, e);
    this.timer?.cancel();
    this.timer = this.ctx.clock.setTimer(EpochMs.unsafe(this.ctx.clock.now() + NEW_POSITIONS_SETTLE_MS), () => {
      this.timer = null;
      if (!this.ctx.isRunning()) return;
      void this.ctx.enqueue(() => this.look());
    });
    return Promise.resolve();
  }

  private async look(): Promise<void> {
    const mode = this.ctx.config.newPositions;
    const outside = this.detections;
    const executions = [...this.executions.values()];
    this.detections = [];
    this.executions.clear();
    if (mode === 'ignore' || outside.length === 0) return;
    const held = new Set<ContractKey>();
    for (const [id, rt] of this.ctx.strategies) {
      if (rt.state === 'CLOSED') continue;
      for (const h of this.ctx.book.holdings(id)) held.add(contractKey(h.contract));
      if (rt.state === 'PENDING') for (const l of rt.def.legs) held.add(contractKey(l.contract));
    }
    const { proposals } = newStructures({ detections: outside, executions, held, takenIds: new Set(this.ctx.strategies.keys()) });
    if (proposals.length === 0) return;
    const now = this.ctx.clock.now();
    if (mode === 'propose') {
      const text = `${describe(proposals)}. Guard ${proposals.length === 1 ? 'it' : 'them'} with \`legguard strategies discover --apply\`.`;
      const key = `new-positions:propose:${now}:${proposals.map((p) => p.id).join(',')}`;
      const alert = this.ctx.makeAlert('info', key, `NEW POSITIONS: ${proposals.map((p) => p.kind).join(', ')}`, `The account holder opened ${text}`, null, null, {
        proposals: proposals.map((p) => p.id).join(', '),
      });
      await this.ctx.commit({ journal: [this.ctx.journal('note', key, { kind: 'new-positions', mode, text })], alerts: [alert] });
      this.ctx.emit({ kind: 'note', at: now, strategyId: null, text: `new positions, not guarded (guard.newPositions: propose): ${text}` });
      this.ctx.raise([alert]);
      return;
    }
    for (const [i, p] of proposals.entries()) {
      await this.steps.add({ id: p.id, account: this.ctx.account, kind: p.kind, legs: p.legs, createdAt: EpochMs.unsafe(now + i) });
    }
    await this.steps.adoptPending();
    const alerts = proposals.map((p) => {
      const rt = this.ctx.strategies.get(p.id);
      const state = rt?.state ?? 'PENDING';
      const text = `now guarding ${p.id} (${p.kind}): ${p.legs.map(formatHolding).join(', ')}, opened by the account holder${p.source === 'combo' ? ' as one combo order' : ''}; ${state}.`;
      return this.ctx.makeAlert('info', `new-positions:adopt:${p.id}:${now}`, `NOW GUARDING: ${p.id}`, text, p.id, null, { strategyId: p.id, kind: p.kind, state });
    });
    await this.ctx.commit({
      journal: alerts.map((a) => this.ctx.journal('note', a.key, { kind: 'new-positions', mode, text: a.text }, a.strategyId)),
      alerts,
    });
    for (const a of alerts) this.ctx.emit({ kind: 'note', at: now, strategyId: a.strategyId, text: a.text });
    this.ctx.raise(alerts);
  }
}

function describe(proposals: readonly Proposal[]): string {
  return proposals.map((p) => `${p.id} (${p.kind}: ${p.legs.map(formatHolding).join(', ')})`).join('; ');
}

function formatHolding(l: Leg): string {
  return `${l.qty > 0 ? '+' : ''}${l.qty} ${describeContract(l.contract)}`;
}
