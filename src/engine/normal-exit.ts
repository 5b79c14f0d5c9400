import { contractKey, describeContract, type Contract } from '../core/contract.js';
import type { Decision } from '../core/decision.js';
import type { Detection } from '../core/detection.js';
import type { ContractKey } from '../core/ids.js';
import { Qty } from '../core/quantity.js';
import { evaluateRules, type Rule } from '../core/rules/rule.js';
import type { StateChange } from '../ports/store.js';
import type { Closer } from './closer.js';
import type { EngineContext, StrategyRuntime } from './engine-host.js';
import { policyFor } from './guard-config.js';
import { incidentIdFor, signed } from './incident.js';
import { raiseRiskAlert } from './risk-rules.js';

/**
 * Ordinary exits: the rules evaluated for every OPEN strategy (each in isolation), and the close they decide,
 * refused to the emergency path when the strategy's legs no longer match the broker.
 */
export class NormalExit {
  /** Risk warnings raised by this process (one per strategy, leg, rule and day). */
  private readonly riskAlerts = new Set<string>();

  constructor(
    private readonly ctx: EngineContext,
    private readonly closer: Closer,
    private readonly rules: readonly Rule[],
  ) {}

  async evaluateRules(): Promise<void> {
    if (this.rules.length === 0) return;
    const now = this.ctx.clock.now();
    for (const rt of this.ctx.strategies.values()) {
      if (rt.state !== 'OPEN') continue;
      await this.ctx.isolated(rt.def.id, 'rules', async () => {
        const decision = evaluateRules(this.rules, {
          strategy: rt.def,
          state: rt.state,
          holdings: this.ctx.book.holdings(rt.def.id),
          now,
          quote: (c: Contract) => this.ctx.quotes.get(contractKey(c)) ?? null,
          underlyingPrice: (s: string) => this.ctx.underlyingPrices.get(s) ?? null,
        });
        if (decision && decision.action === 'CLOSE') await this.closeNormally(rt, decision);
        else if (decision && decision.action === 'ALERT_ONLY') await raiseRiskAlert(this.ctx, rt, decision, this.riskAlerts);
      });
    }
  }

  /**
   * An ordinary exit. Refused when the strategy's legs no longer match the broker (seed item 2): then the strategy
   * is handed to the emergency path instead, with the reason journaled.
   */
  async closeNormally(rt: StrategyRuntime, decision: Decision): Promise<void> {
    const id = rt.def.id;
    const now = this.ctx.clock.now();
    const mismatch = this.legMismatch(rt);
    if (mismatch !== null) {
      this.ctx.log('warn', `${id}: normal close refused: ${mismatch}; handing to the emergency path`);
      const incidentId = incidentIdFor(id, 'unknown', now);
      rt.incidentId = incidentId;
      rt.broken ??= { cause: 'unknown', kind: null, incidentId, leg: mismatch, qty: 0, at: now, reason: `normal close refused: ${mismatch}` };
      const changes: StateChange[] = [];
      const c = this.ctx.move(rt, 'broke', `normal close refused: ${mismatch}`);
      if (c) changes.push(c);
      const policy = policyFor(this.ctx.config, 'unknown', rt.def.policy);
      const emergency: Decision = {
        ...decision,
        action: policy === 'close' ? 'EMERGENCY_CLOSE' : policy === 'hedge' ? 'HEDGE' : 'ALERT_ONLY',
        reason: `${decision.rule} wanted an ordinary close, but ${mismatch}; emergency path instead`,
        urgency: 'IMMEDIATE',
      };
      const journal = [
        this.ctx.journal('decision', `dec:${id}:refused:${now}`, { refused: decision, because: mismatch }, id, incidentId),
        this.ctx.journal('decision', `dec:${incidentId}:${now}`, emergency, id, incidentId),
      ];
      this.ctx.emit({ kind: 'decision', at: now, decision: emergency });
      const primary: Detection = {
        strategyId: id,
        cause: 'unknown',
        kind: null,
        contract: rt.def.legs[0]!.contract,
        before: Qty.zero,
        change: Qty.zero,
        settles: null,
        brokerAt: now,
        reason: mismatch,
      };
      await this.closer.onBreak(rt, {
        policy,
        decision: emergency,
        incidentId,
        primary,
        detections: [],
        changes,
        journal,
        firstBreak: true,
        latencyFrom: null,
      });
      return;
    }
    const changes: StateChange[] = [];
    const c = this.ctx.move(rt, 'close-requested', decision.reason);
    if (c) changes.push(c);
    this.ctx.emit({ kind: 'decision', at: now, decision });
    await this.closer.startNormalClose(rt, decision, changes, [
      this.ctx.journal('decision', `dec:${id}:exit:${now}`, decision, id, null),
    ]);
  }

  /** Why the strategy's holdings no longer match its legs or the broker; null when they do. */
  legMismatch(rt: StrategyRuntime): string | null {
    const id = rt.def.id;
    const want = new Map<ContractKey, number>();
    for (const leg of rt.def.legs) want.set(contractKey(leg.contract), (want.get(contractKey(leg.contract)) ?? 0) + leg.qty);
    for (const [key, qty] of want) {
      const have = this.ctx.book.holding(id, key);
      if (have !== qty) return `${key} should be ${signed(qty)} but the strategy holds ${signed(have)}`;
      const unexplained = this.ctx.brokerQty(key) - this.ctx.book.net(key);
      if (unexplained !== 0) return `the broker shows ${signed(unexplained)} unexplained in ${key}`;
    }
    for (const h of this.ctx.book.holdings(id)) {
      if (!want.has(contractKey(h.contract))) return `the strategy holds ${signed(h.qty)} ${describeContract(h.contract)} that is not one of its legs`;
    }
    return null;
  }
}
