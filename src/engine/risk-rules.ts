import { nyDate } from '../core/calendar.js';
import type { Decision } from '../core/decision.js';
import type { Dividend } from '../core/quote-view.js';
import type { RiskEnvironment } from '../core/rules/assignment-risk.js';
import { earlyAssignmentRules, isRiskRuleName } from '../core/rules/early-assignment-rule.js';
import type { Rule } from '../core/rules/rule.js';
import type { EngineContext, StrategyRuntime } from './engine-host.js';
import type { GuardConfig } from './guard-config.js';

/** What the look-ahead rules price with, from the config file (`market:`, `dividends:`) or a scenario. */
export interface RiskInputs {
  readonly rate: number;
  readonly volatility: (symbol: string) => number | null;
  readonly dividends: (symbol: string) => readonly Dividend[];
}

/** Without inputs: the default rate, no volatility (market quotes decide), no dividends known. */
export const NO_RISK_INPUTS: RiskInputs = { rate: 0.045, volatility: () => null, dividends: () => [] };

/** The early-assignment rules for the engine's rule list, from `guard.earlyAssignment` and the inputs. */
export function riskRules(config: GuardConfig, inputs: RiskInputs = NO_RISK_INPUTS): readonly Rule[] {
  const env: RiskEnvironment = { settings: config.earlyAssignment, rate: inputs.rate, volatility: inputs.volatility, dividends: inputs.dividends };
  return earlyAssignmentRules(env);
}

/**
 * A warning a risk rule decided (policy `alert`, a close past `actBy`, a strategy whose plan is assignment):
 * journaled with its numbers, shown on the timeline and raised once per strategy, leg, rule and New York day.
 * Decisions of other rules are not this function's (false).
 */
export async function raiseRiskAlert(ctx: EngineContext, rt: StrategyRuntime, decision: Decision, raised: Set<string>): Promise<boolean> {
  if (decision.action !== 'ALERT_ONLY' || !isRiskRuleName(decision.rule)) return false;
  const id = rt.def.id;
  const key = `risk:${id}:${decision.rule}:${String(decision.metadata['leg'])}:${nyDate(decision.at)}`;
  if (raised.has(key)) return true;
  raised.add(key);
  const severity = decision.metadata['action'] === 'report' ? 'info' : 'warning';
  const alert = ctx.makeAlert(severity, key, `${id}: ${decision.rule} assignment risk`, decision.reason, id, null, { ...decision.metadata });
  ctx.emit({ kind: 'decision', at: decision.at, decision });
  await ctx.commit({ journal: [ctx.journal('decision', key, decision, id, null)], alerts: [alert] });
  ctx.raise([alert]);
  return true;
}
