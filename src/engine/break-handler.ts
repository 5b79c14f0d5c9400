import { describeCost } from '../core/incident-cost.js';
import { breakDecision, brokenInfoFor } from '../core/break-decision.js';
import { describeContract } from '../core/contract.js';
import type { BreakCause, Detection } from '../core/detection.js';
import { LegguardError } from '../core/errors.js';
import type { StrategyId } from '../core/ids.js';
import { nakedShorts } from '../core/naked-shorts.js';
import { plannedAssignment, type PlanCompleted } from '../core/planned-assignment.js';
import type { BreakPolicy } from '../core/strategy.js';
import type { JournalEntry, OrderRecord, StateChange } from '../ports/store.js';
import type { Closer } from './closer.js';
import type { EngineContext, StrategyRuntime } from './engine-host.js';
import { detectionJournal } from './detection-journal.js';
import { policyFor } from './guard-config.js';
import { CAUSE_TITLE, describeChange, describeHoldings, incidentIdFor, legFacts, primaryDetection, signed } from './incident.js';
import { planMessages } from './plan-completed.js';

/**
 * What a detection means for the strategy it touches: a change on a closed strategy (alert, nothing else), a plan
 * completing (covered call called away ...), nothing left at risk (flat, CLOSED), an ordinary expiry, or a break:
 * BROKEN, the decision by policy, and the close handed to the closer.
 */
export class BreakHandler {
  constructor(
    private readonly ctx: EngineContext,
    private readonly closer: Closer,
  ) {}

  /** A strategy's holdings changed for a reason that is not the guard's own order. */
  async onStrategyChanged(id: StrategyId, ds: readonly Detection[], perf: number): Promise<void> {
    const rt = this.ctx.strategies.get(id);
    const now = this.ctx.clock.now();
    if (!rt) throw new LegguardError('INVARIANT_BROKEN', `detection for unknown strategy ${id}`, { strategyId: id });
    const primary = primaryDetection(ds);
    const cause = primary.cause as BreakCause;
    const changes: StateChange[] = [];
    const journal: JournalEntry[] = [];

    if (rt.state === 'CLOSED') {
      // Something moved on a contract of a strategy that is already done: tell a person, change nothing.
      const alert = this.ctx.makeAlert(
        'critical',
        `closed-changed:${id}:${now}`,
        `${CAUSE_TITLE[cause]} on closed strategy ${id}`,
        `${id} was CLOSED, yet its holdings changed: ${ds.map((d) => `${describeContract(d.contract)} ${signed(d.change)}`).join(', ')}. Holding now ${describeHoldings(this.ctx.book.holdings(id))}. No orders sent.`,
        id,
        null,
      );
      await this.ctx.commit({ strategies: [this.ctx.record(rt)], journal: [detectionJournal(this.ctx, `det:${id}:${now}`, ds, id, null)], alerts: [alert] });
      this.ctx.raise([alert]);
      return;
    }

    const plan = rt.state === 'OPEN' || rt.state === 'CLOSING' ? plannedAssignment(rt.def.kind, ds, this.ctx.book.holdings(id), now) : null;
    // An ordinary close under way is dropped once the assignment leaves nothing; one that leaves legs goes on below.
    if (plan !== null && (rt.state === 'OPEN' || plan.keeps.length === 0)) {
      await this.completePlan(rt, ds, plan);
      return;
    }

    const incidentId = rt.incidentId ?? incidentIdFor(id, cause, primary.brokerAt);
    for (const d of ds) this.ctx.emit({ kind: 'detection', at: now, detection: d, incidentId });
    journal.push(detectionJournal(this.ctx, `det:${incidentId}`, ds, id, incidentId));
    const remaining = this.ctx.book.holdings(id);
    const onlyExpiry = ds.every((d) => d.cause === 'expiration');
    // The incident's cost: a break starts it (what was held before, at the last marks); a later change adds to it.
    // An expiry is no break unless it leaves a naked short.
    const breaks = !onlyExpiry || (remaining.length > 0 && nakedShorts(remaining, now).length > 0);
    const costed = this.ctx.costs.onDetections(incidentId, id, ds, breaks);
    if (costed !== null) journal.push(costed);

    if (remaining.length === 0) {
      // Nothing left at risk: every leg expired, or the assignment took exactly what the strategy held.
      if (!onlyExpiry && rt.broken === null) rt.broken = brokenInfoFor(primary, incidentId, ds);
      rt.incidentId = onlyExpiry ? rt.incidentId : incidentId;
      const wasIntact = rt.state === 'OPEN' || rt.state === 'CLOSING';
      const c = this.ctx.move(rt, 'flat', onlyExpiry ? (wasIntact ? 'every leg expired' : 'the rest expired worthless') : `${cause}: nothing left at risk`);
      if (c) changes.push(c);
      // The incident ends here: its cost kept, and said in the alert that ends it.
      const costNote = wasIntact && onlyExpiry ? null : this.ctx.costs.closed(rt.incidentId, now);
      if (costNote !== null) journal.push(costNote);
      const cost = costNote === null ? null : this.ctx.costs.cost(rt.incidentId!);
      const cancelled = this.closer.cancelPlanned(id, 'strategy is flat');
      this.closer.cancelWorking(id, 'strategy is flat');
      const gone = ds.map((d) => `${signed(0 - d.change)} ${describeContract(d.contract)}`).join(', ');
      const alert = onlyExpiry
        ? this.ctx.makeAlert(
            'info',
            `expired:${id}:${primary.brokerAt}`,
            `EXPIRED: ${id}`,
            wasIntact
              ? `${id}: its options have all expired (the last: ${gone}). Nothing is left; no orders were needed; the strategy is CLOSED.`
              : `${id}: what was left (${gone}) expired worthless; the strategy is flat and CLOSED.${cost === null ? '' : `\n${describeCost(cost)}`}`,
            id,
            wasIntact ? null : rt.incidentId,
            { strategyId: id, cause },
          )
        : this.ctx.makeAlert(
            'warning',
            `flat:${incidentId}`,
            `${CAUSE_TITLE[cause]}: ${describeContract(primary.contract)} x${Math.abs(primary.change)} on ${id}`,
            `${id}: ${describeChange(primary)}. Nothing is left at risk, so no orders were sent; the strategy is CLOSED.${cost === null ? '' : `\n${describeCost(cost)}`}`,
            id,
            incidentId,
            { strategyId: id, cause, kind: primary.kind, qty: Math.abs(primary.change), ...legFacts(primary.contract), action: 'none: nothing left at risk' },
          );
      await this.ctx.commit({ strategies: [this.ctx.record(rt)], stateChanges: changes, journal, alerts: [alert], orders: cancelled });
      this.ctx.raise([alert]);
      return;
    }

    if (onlyExpiry && nakedShorts(remaining, now).length === 0) {
      // An expiry is an option's ordinary end. Legs of one expiry are reported one at a time, so what is left may be
      // the rest of the same expiry on its way; either way it risks nothing unbounded. Not a break.
      const text = `${ds.map((d) => `${signed(0 - d.change)} ${describeContract(d.contract)}`).join(', ')} expired; ${id} still holds ${describeHoldings(remaining)}`;
      this.ctx.emit({ kind: 'note', at: now, strategyId: id, text });
      await this.ctx.commit({ strategies: [this.ctx.record(rt)], journal: [...journal, this.ctx.journal('note', `expired:${id}:${primary.brokerAt}:${remaining.length}`, { text }, id, null)] });
      if (rt.state === 'EMERGENCY_CLOSING' || rt.state === 'CLOSING') await this.closer.settle(rt);
      return;
    }

    const firstBreak = rt.broken === null;
    if (firstBreak) rt.broken = brokenInfoFor(primary, incidentId, ds);
    rt.incidentId = incidentId;
    const policy: BreakPolicy = policyFor(this.ctx.config, cause, rt.def.policy);
    const broke = this.ctx.move(rt, 'broke', `${cause}: ${describeChange(primary)}`);
    if (broke) changes.push(broke);
    const decision = breakDecision({ strategyId: rt.def.id, policy, primary, incidentId, now });
    journal.push(this.ctx.journal('decision', `dec:${incidentId}:${now}`, decision, id, incidentId));
    this.ctx.emit({ kind: 'decision', at: now, decision });

    await this.closer.onBreak(rt, {
      policy,
      decision,
      incidentId,
      primary,
      detections: ds,
      changes,
      journal,
      firstBreak,
      latencyFrom: { perf, brokerAt: primary.brokerAt, detectedAt: now, cause },
    });
  }

  /**
   * A covered call called away, a cash-secured put's shares bought (core/planned-assignment.ts): no incident, no
   * orders, an info alert. Shares the strategy no longer needs pass to the account outside any strategy; it is CLOSED
   * once it holds nothing. What a partial assignment leaves becomes the strategy's legs, so it is still whole to the
   * checks an ordinary close makes later.
   */
  private async completePlan(rt: StrategyRuntime, ds: readonly Detection[], plan: PlanCompleted): Promise<void> {
    const id = rt.def.id;
    const now = this.ctx.clock.now();
    const brokerAt = primaryDetection(plan.assigned).brokerAt;
    for (const h of plan.handsOver) {
      this.ctx.book.apply(id, h.contract, 0 - h.qty);
      this.ctx.book.apply(null, h.contract, h.qty);
    }
    const m = planMessages(id, plan);
    const journal = [detectionJournal(this.ctx, `det:${id}:plan`, ds, id, null)];
    for (const d of ds) this.ctx.emit({ kind: 'detection', at: now, detection: d, incidentId: null });
    journal.push(this.ctx.journal('note', `plan:${id}:${brokerAt}`, { text: m.text, keeps: plan.keeps, handsOver: plan.handsOver }, id));
    const changes: StateChange[] = [];
    let cancelled: OrderRecord[] = [];
    let runtime = rt;
    if (plan.keeps.length === 0) {
      const c = this.ctx.move(rt, 'flat', m.reason);
      if (c) changes.push(c);
      cancelled = this.closer.cancelPlanned(id, 'strategy is flat');
      this.closer.cancelWorking(id, 'strategy is flat');
    } else {
      runtime = { ...rt, def: { ...rt.def, legs: plan.keeps.map((h) => ({ contract: h.contract, qty: h.qty })) }, updatedAt: now };
      this.ctx.strategies.set(id, runtime);
    }
    const alert = this.ctx.makeAlert('info', `plan:${id}:${brokerAt}`, m.title, m.text, id, null, {
      strategyId: id,
      outcome: plan.outcome,
      early: plan.early,
      qty: plan.assigned.reduce((a, d) => a + Math.abs(d.change), 0),
      ...legFacts(plan.assigned[0]!.contract),
      action: 'none: the plan completed',
    });
    await this.ctx.commit({
      strategies: [this.ctx.record(runtime)],
      stateChanges: changes,
      journal,
      alerts: [alert],
      orders: cancelled,
      ...(plan.handsOver.length > 0 ? { outside: this.ctx.book.holdings(null) } : {}),
    });
    this.ctx.raise([alert]);
  }
}
