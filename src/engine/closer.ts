import { describeContract } from '../core/contract.js';
import type { Decision } from '../core/decision.js';
import type { Detection } from '../core/detection.js';
import type { ExecutionReport, NoticeReport, OrderStatusReport } from '../core/events.js';
import type { IncidentId, StrategyId } from '../core/ids.js';
import type { ReconcileResult } from '../core/reconcile.js';
import type { BreakPolicy } from '../core/strategy.js';
import { afterBreak } from '../core/break-decision.js';
import type { Alert } from '../ports/alerts.js';
import type { JournalEntry, OrderRecord, StateChange } from '../ports/store.js';
import { ClosePlanner, describeOrder, describeBlocked } from './close-planner.js';
import { makeAlert, moveStrategy, strategyRecord, type ClosingState, type EngineHost, type StrategyRuntime } from './engine-host.js';
import { exerciseJournal } from './exercise-journal.js';
import { planJournal } from './plan-journal.js';
import { Exerciser } from './exerciser.js';
import { CAUSE_TITLE, describeChange, describeHoldings, legFacts } from './incident.js';
import { OrderLifecycle } from './order-lifecycle.js';
import { OrderReconciler } from './order-reconciler.js';
import { OrderSender } from './order-sender.js';
import type { TrackedOrder } from './order-tracker.js';

export { describeOrder } from './close-planner.js';

export interface BreakContext {
  readonly policy: BreakPolicy;
  readonly decision: Decision;
  readonly incidentId: IncidentId;
  readonly primary: Detection;
  readonly detections: readonly Detection[];
  readonly changes: StateChange[];
  readonly journal: JournalEntry[];
  readonly firstBreak: boolean;
  readonly latencyFrom: ClosingState['latencyFrom'];
}

/**
 * The execution side of the guard, through the engine's narrow `EngineHost`: starts closes (a break, an ordinary
 * exit), commits them before anything goes out (write-ahead), and hands them to the planner (close-planner.ts), the
 * sender (order-sender.ts: pacer, gate, timeouts, cancels) and the order lifecycle (order-lifecycle.ts: fills,
 * rejects, settling, giving up). Reconciliation results for orders go through order-reconciler.ts.
 */
export class Closer {
  private readonly planner: ClosePlanner;
  private readonly sender: OrderSender;
  private readonly lifecycle: OrderLifecycle;
  private readonly reconciler: OrderReconciler;
  private readonly exerciser: Exerciser;

  constructor(private readonly host: EngineHost) {
    this.exerciser = new Exerciser(host, (rt) => this.lifecycle.settle(rt));
    this.planner = new ClosePlanner(host, this.exerciser);
    this.sender = new OrderSender(host, {
      onRejected: (rt, o) => this.lifecycle.afterReject(rt, o),
      giveUp: (rt, reason) => this.lifecycle.giveUp(rt, reason),
    });
    this.lifecycle = new OrderLifecycle(host, this.planner, this.sender, this.exerciser);
    this.reconciler = new OrderReconciler(host, this.sender);
  }

  stop(): void {
    this.sender.stop();
    this.lifecycle.stop();
    this.exerciser.stop();
  }

  /** A broker notice: when it names one of the guard's exercise requests, that exercise was refused. */
  async onNotice(n: NoticeReport): Promise<void> {
    await this.exerciser.onNotice(n);
  }

  applyOwnFill(o: TrackedOrder, x: ExecutionReport): Promise<void> {
    return this.lifecycle.applyOwnFill(o, x);
  }

  onStatus(o: TrackedOrder, s: OrderStatusReport): Promise<void> {
    return this.lifecycle.onStatus(o, s);
  }

  settle(rt: StrategyRuntime): Promise<void> {
    return this.lifecycle.settle(rt);
  }

  cancelPlanned(id: StrategyId, reason: string): OrderRecord[] {
    return this.sender.cancelPlanned(id, reason);
  }

  cancelWorking(id: StrategyId, reason: string): void {
    this.sender.cancelWorking(id, reason);
  }

  reconcileOrders(r: ReconcileResult): Promise<string[]> {
    return this.reconciler.reconcileOrders(r);
  }

  /** A strategy just broke (or broke again): decide by policy, plan, commit, alert, send. */
  async onBreak(rt: StrategyRuntime, ctx: BreakContext): Promise<void> {
    const e = this.host;
    const id = rt.def.id;
    // Orders planned before this change were planned for holdings that no longer exist: never let them go out, and
    // ask the broker to cancel those already working. The book is re-planned from what is left.
    const cancelled = this.sender.cancelPlanned(id, `superseded by ${ctx.incidentId}`);
    this.sender.cancelWorking(id, `superseded by ${ctx.incidentId}`);

    const next = afterBreak(rt.state, ctx.policy);
    if (next === 'gave-up') {
      const c = moveStrategy(e, rt, next, 'policy alert: a person decides; no orders sent');
      if (c) ctx.changes.push(c);
      const alert = this.breakAlert(rt, ctx, [], 'No orders were sent (policy: alert). A person must decide what to do.');
      await e.commit({ strategies: [strategyRecord(e.book, rt)], stateChanges: ctx.changes, journal: ctx.journal, alerts: [alert], orders: cancelled });
      e.raise([alert]);
      return;
    }

    const mode = ctx.policy === 'hedge' ? 'hedge' : 'close';
    const prev = rt.closing;
    rt.closing = {
      purpose: 'emergency',
      mode,
      incidentKey: ctx.incidentId,
      revision: prev && prev.incidentKey === ctx.incidentId ? prev.revision + 1 : 0,
      rejects: 0,
      walkStep: 0,
      latencyFrom: ctx.latencyFrom,
    };
    const doing = mode === 'hedge' ? 'hedging the stock' : 'closing what is left';
    const started = moveStrategy(e, rt, next, next === 'resumed' ? `the broker changed what it holds while it needed attention: ${doing} again` : doing);
    if (started) ctx.changes.push(started);
    const planned = await this.planner.plan(rt);
    const exercised = planned.exercises.map((x) => `${x.action === 'exercise' ? 'EXERCISE' : 'DO NOT EXERCISE'} ${x.qty} ${describeContract(x.contract)} (${x.reason})`);
    const what =
      planned.orders.length === 0 && exercised.length === 0
        ? 'No orders could be planned.'
        : [
            ...(planned.orders.length > 0 ? [`Orders: ${planned.orders.map((o) => describeOrder(o.request)).join('; ')}.`] : []),
            ...(exercised.length > 0 ? [`Instead of selling: ${exercised.join('; ')}.`] : []),
          ].join(' ');
    const blocked = planned.blocked.length > 0 ? ` Not priced: ${describeBlocked(planned.blocked)}.` : '';
    const again =
      next === 'resumed' ? `It needed attention before this change; the guard closes what is left again (${mode === 'hedge' ? 'policy hedge: the stock' : 'policy close'}, reduce-only). ` : '';
    const alert = this.breakAlert(rt, ctx, planned.orders, `${again}${what}${blocked}`);
    const journal = [
      ...ctx.journal,
      ...planned.orders.map((o) => planJournal(e, o.request, id, ctx.incidentId)),
      ...planned.exercises.map((x) => exerciseJournal(e, x, ctx.incidentId)),
    ];
    await e.commit({
      strategies: [strategyRecord(e.book, rt)],
      stateChanges: ctx.changes,
      journal,
      orders: [...cancelled, ...planned.orders.map((o) => e.tracker.toRecord(o))],
      alerts: [alert],
    });
    e.raise([alert]);
    e.crashPoint('decision-committed');
    const now = e.clock.now();
    if (rt.closing.latencyFrom && !planned.orders.some((o) => o.notBefore <= now) && !planned.exercises.some((x) => x.notBefore <= now)) {
      // Nothing may trade now (the market is closed): the reaction ends with the plan committed; the orders go at
      // the session open.
      const from = rt.closing.latencyFrom;
      rt.closing.latencyFrom = null;
      e.emit({
        kind: 'latency',
        at: now,
        strategyId: id,
        incidentId: ctx.incidentId,
        cause: from.cause,
        brokerAt: from.brokerAt,
        detectedAt: from.detectedAt,
        latencyMs: e.clock.perf() - from.perf,
        ordersSent: 0,
      });
    }
    this.exerciser.schedule(rt, planned.exercises);
    this.sender.schedule(rt, planned.orders);
    await this.lifecycle.settle(rt);
  }

  /** An ordinary exit of an intact strategy (time exit ...): same machinery, no emergency. */
  async startNormalClose(rt: StrategyRuntime, decision: Decision, changes: StateChange[], journal: JournalEntry[]): Promise<void> {
    const e = this.host;
    const now = e.clock.now();
    rt.closing = {
      purpose: 'normal',
      mode: 'close',
      incidentKey: `exit-${now}`,
      revision: 0,
      rejects: 0,
      walkStep: 0,
      latencyFrom: null,
    };
    const planned = await this.planner.plan(rt);
    await e.commit({
      strategies: [strategyRecord(e.book, rt)],
      stateChanges: changes,
      journal: [...journal, ...planned.orders.map((o) => planJournal(e, o.request, rt.def.id, null))],
      orders: planned.orders.map((o) => e.tracker.toRecord(o)),
    });
    e.emit({ kind: 'note', at: now, strategyId: rt.def.id, text: `${decision.rule}: ${decision.reason}` });
    this.sender.schedule(rt, planned.orders);
    await this.lifecycle.settle(rt);
  }

  private breakAlert(rt: StrategyRuntime, ctx: BreakContext, orders: readonly TrackedOrder[], action: string): Alert {
    const e = this.host;
    const p = ctx.primary;
    const holding = describeHoldings(e.book.holdings(rt.def.id));
    const title = `${CAUSE_TITLE[ctx.decision.metadata['cause'] as keyof typeof CAUSE_TITLE] ?? 'BROKEN'}: ${describeContract(p.contract)} x${Math.abs(p.change)} on ${rt.def.id}`;
    const text =
      `${rt.def.id} (${rt.def.kind}) is BROKEN: ${describeChange(p)}. ` +
      `It now holds ${holding}. ${action}`;
    return makeAlert(e, 'critical', `break:${ctx.incidentId}:${ctx.firstBreak ? 'first' : ctx.primary.brokerAt}`, title, text, rt.def.id, ctx.incidentId, {
      strategyId: rt.def.id,
      cause: p.cause,
      kind: p.kind,
      qty: Math.abs(p.change),
      ...legFacts(p.contract),
      action: ctx.decision.action,
      orders: orders.length,
    });
  }

  // ---------------------------------------------------------------- planning

  /**
   * After start-up or a reconnect: every strategy the guard owes work resumes. Planned orders that never went out
   * are scheduled again; a close with nothing open is re-planned from the book.
   */
  async resumeAll(reason: string): Promise<void> {
    for (const rt of this.host.strategies.values()) await this.host.isolated(rt.def.id, 'resume', () => this.resume(rt, reason));
  }

  private async resume(rt: StrategyRuntime, reason: string): Promise<void> {
    const e = this.host;
    if (rt.state === 'BROKEN') {
      // Broke, but the decision's orders were never planned (crash in between): decide again.
      const cause = rt.broken?.cause ?? 'unknown';
      const policy = rt.def.policy ?? e.config.policies[cause] ?? e.config.onAssignment;
      if (policy === 'alert') return;
      rt.closing = { purpose: 'emergency', mode: policy === 'hedge' ? 'hedge' : 'close', incidentKey: rt.incidentId ?? `${rt.def.id}:resume`, revision: 0, rejects: 0, walkStep: 0, latencyFrom: null };
      const c = moveStrategy(e, rt, 'emergency-started', `resumed at ${reason}`);
      await e.commit({ strategies: [strategyRecord(e.book, rt)], stateChanges: c ? [c] : [] });
    }
    if (rt.state !== 'EMERGENCY_CLOSING' && rt.state !== 'CLOSING') return;
    if (!rt.closing) {
      const cause = rt.broken?.cause ?? 'unknown';
      const policy = rt.def.policy ?? e.config.policies[cause] ?? e.config.onAssignment;
      const refs = e.tracker.ofStrategy(rt.def.id).map((o) => o.request.ref);
      const revision = refs.length;
      rt.closing = {
        purpose: rt.state === 'CLOSING' ? 'normal' : 'emergency',
        mode: policy === 'hedge' ? 'hedge' : 'close',
        incidentKey: rt.incidentId ?? `exit-${rt.updatedAt}`,
        revision,
        rejects: 0,
        walkStep: 0,
        latencyFrom: null,
      };
    }
    const unsent = e.tracker.openOf(rt.def.id).filter((o) => o.status === 'planned');
    e.emit({ kind: 'note', at: e.clock.now(), strategyId: rt.def.id, text: `resuming ${rt.state} (${reason}): ${unsent.length} planned order(s) not yet sent` });
    this.exerciser.schedule(rt, this.exerciser.unsent(rt.def.id));
    this.sender.schedule(rt, unsent);
    await this.lifecycle.settle(rt);
  }
}
