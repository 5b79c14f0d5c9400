import { contractKey, type Contract } from '../core/contract.js';
import type { Decision } from '../core/decision.js';
import { exitDecision, legMismatch as mismatchOf, type ExitOutcome } from '../core/exit-decision.js';
import type { StrategyId } from '../core/ids.js';
import { evaluateAllRules, type Rule } from '../core/rules/rule.js';
import type { StateChange } from '../ports/store.js';
import type { Closer } from './closer.js';
import type { EngineContext, StrategyRuntime } from './engine-host.js';
import { policyFor } from './guard-config.js';
import { isRiskRuleName } from '../core/rules/early-assignment-rule.js';
import { raiseRiskAlert } from './risk-rules.js';

/**
 * Ordinary exits: the rules evaluated for every OPEN strategy (each in isolation). What they decide is a pure core
 * function (core/exit-decision.ts); here it is applied: a CLOSE goes to the closer, or, when the strategy's legs no
 * longer match the broker, to the emergency path; a rule's ALERT_ONLY is a warning raised once per strategy and
 * situation (again only after the situation ended and came back).
 */
export class NormalExit {
  /** Per strategy, the ALERT_ONLY situations the last rule pass raised or found already raised. */
  private readonly alerting = new Map<StrategyId, Set<string>>();
  /** Early-assignment warnings raised by this process (one per strategy, leg, rule and New York day). */
  private readonly riskAlerts = new Set<string>();

  constructor(
    private readonly ctx: EngineContext,
    private readonly closer: Closer,
    private readonly rules: readonly Rule[],
  ) {}

  /** The rules for these strategies (one slice of a rule pass, rule-passes.ts); one gone meanwhile is skipped. */
  async evaluateRules(ids: Iterable<StrategyId> = this.ctx.strategies.keys()): Promise<void> {
    if (this.rules.length === 0) return;
    const now = this.ctx.clock.now();
    const quote = (c: Contract) => this.ctx.quotes.get(contractKey(c)) ?? null;
    const underlyingPrice = (s: string) => this.ctx.underlyingPrices.get(s) ?? null;
    for (const id of [...ids]) {
      const rt = this.ctx.strategies.get(id);
      if (!rt) {
        this.alerting.delete(id);
        continue;
      }
      if (rt.state !== 'OPEN') {
        this.alerting.delete(rt.def.id);
        continue;
      }
      // The rules are pure and synchronous: most strategies in a pass decide nothing, and those cost no step of their
      // own. A rule that throws is that strategy's failure, isolated as any other (step-isolation.ts).
      let decisions: readonly Decision[];
      try {
        decisions = evaluateAllRules(this.rules, { strategy: rt.def, state: rt.state, holdings: this.ctx.book.holdings(rt.def.id), now, quote, underlyingPrice });
      } catch (e) {
        await this.ctx.isolated(rt.def.id, 'rules', () => Promise.reject(e instanceof Error ? e : new Error(String(e))));
        continue;
      }
      if (decisions.length === 0) {
        this.alerting.delete(rt.def.id);
        continue;
      }
      await this.ctx.isolated(rt.def.id, 'rules', async () => {
        const alerts = decisions.filter((d) => d.action === 'ALERT_ONLY');
        // Early-assignment warnings carry their numbers and are keyed per leg and day (risk-rules.ts).
        for (const d of alerts.filter((a) => isRiskRuleName(a.rule))) await raiseRiskAlert(this.ctx, rt, d, this.riskAlerts);
        await this.raiseAlerts(rt, alerts.filter((a) => !isRiskRuleName(a.rule)));
        const act = decisions.find((d) => d.action !== 'ALERT_ONLY');
        if (act && act.action === 'CLOSE') await this.closeNormally(rt, act);
      });
    }
  }

  /** Rules' ALERT_ONLY decisions: a situation new since the last pass is journaled and raised; one still on is not. */
  private async raiseAlerts(rt: StrategyRuntime, decisions: readonly Decision[]): Promise<void> {
    const id = rt.def.id;
    const before = this.alerting.get(id) ?? new Set<string>();
    const now = new Set<string>();
    for (const d of decisions) {
      const out = this.decide(rt, d);
      if (out.kind !== 'alert') continue;
      now.add(out.situation);
      if (before.has(out.situation)) continue;
      const alert = this.ctx.makeAlert(out.alert.severity, out.alert.key, out.alert.title, out.alert.text, id, null, { ...out.alert.facts });
      this.ctx.emit({ kind: 'decision', at: this.ctx.clock.now(), decision: d });
      await this.ctx.commit({ journal: out.journal.map((j) => this.ctx.journal(j.type, j.key, j.data, id, j.incidentId)), alerts: [alert] });
      this.ctx.raise([alert]);
    }
    if (now.size === 0) this.alerting.delete(id);
    else this.alerting.set(id, now);
  }

  private decide(rt: StrategyRuntime, decision: Decision): ExitOutcome {
    return exitDecision({
      def: rt.def,
      decision,
      mismatch: decision.action === 'CLOSE' ? this.legMismatch(rt) : null,
      policy: policyFor(this.ctx.config, 'unknown', rt.def.policy),
      now: this.ctx.clock.now(),
    });
  }

  /**
   * An ordinary exit. Refused when the strategy's legs no longer match the broker (seed item 2): then the strategy
   * is handed to the emergency path instead, with the reason journaled.
   */
  async closeNormally(rt: StrategyRuntime, decision: Decision): Promise<void> {
    const id = rt.def.id;
    const now = this.ctx.clock.now();
    const out = this.decide(rt, decision);
    const changes: StateChange[] = [];
    switch (out.kind) {
      case 'none':
        this.ctx.log('debug', `${id}: ${out.why}`);
        return;
      case 'alert':
        await this.raiseAlerts(rt, [decision]);
        return;
      case 'emergency': {
        this.ctx.log('warn', `${id}: ${out.reason}; handing to the emergency path`);
        rt.incidentId = out.incidentId;
        rt.broken ??= out.broken;
        const c = this.ctx.move(rt, 'broke', out.reason);
        if (c) changes.push(c);
        this.ctx.emit({ kind: 'decision', at: now, decision: out.decision });
        await this.closer.onBreak(rt, {
          policy: policyFor(this.ctx.config, 'unknown', rt.def.policy),
          decision: out.decision,
          incidentId: out.incidentId,
          primary: out.primary,
          detections: [],
          changes,
          journal: out.journal.map((j) => this.ctx.journal(j.type, j.key, j.data, id, j.incidentId)),
          firstBreak: true,
          latencyFrom: null,
        });
        return;
      }
      case 'close': {
        const c = this.ctx.move(rt, 'close-requested', decision.reason);
        if (c) changes.push(c);
        this.ctx.emit({ kind: 'decision', at: now, decision });
        await this.closer.startNormalClose(
          rt,
          decision,
          changes,
          out.journal.map((j) => this.ctx.journal(j.type, j.key, j.data, id, j.incidentId)),
        );
        return;
      }
    }
  }

  /** Why the strategy's holdings no longer match its legs or the broker; null when they do (core/exit-decision.ts). */
  legMismatch(rt: StrategyRuntime): string | null {
    return mismatchOf(rt.def, this.ctx.book, (key) => this.ctx.brokerQty(key));
  }
}
