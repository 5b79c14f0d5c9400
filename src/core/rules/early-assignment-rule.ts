import type { Decision } from '../decision.js';
import { formatNyTime, nyDate } from '../calendar.js';
import { contractKey } from '../contract.js';
import { assessStrategy, LegRiskMemo, type LegRisk, type RiskEnvironment, type RiskFinding, type StrategyRisk } from './assignment-risk.js';
import type { RiskRuleName } from './early-assignment-settings.js';
import { rollForRisk, rollMetadata, type Roll } from './roll.js';
import type { Rule, RuleContext } from './rule.js';

/** Before the time exit (8): a close the risk rules decide names its own reason. */
export const EARLY_ASSIGNMENT_CLOSE_PRIORITY = 7;
/** After every rule that closes: a warning must not hide a close another rule decides. */
export const EARLY_ASSIGNMENT_ALERT_PRIORITY = 90;

/** The rule name a decision carries, per look-ahead rule. */
export const RISK_RULE_NAMES: Readonly<Record<RiskRuleName, string>> = {
  'ex-dividend-call': 'ExDividendCall',
  'deep-itm-put': 'DeepItmPut',
  'expiration': 'ExpirationRisk',
};

export function isRiskRuleName(rule: string): boolean {
  return Object.values(RISK_RULE_NAMES).includes(rule);
}

const SUGGESTED: Readonly<Record<RiskRuleName, string>> = {
  'ex-dividend-call': 'close or roll the call before the close today (holders exercise for the dividend)',
  'deep-itm-put': 'close or roll the put (its holder gains by exercising now)',
  'expiration': 'close the leg before the close (exercised or assigned at expiry, with its partner gone)',
};

/** A decision's metadata: the rule's numbers, flattened, plus what it is about and the roll that would keep it. */
function metadata(leg: LegRisk, f: RiskFinding, roll: Roll | null): Decision['metadata'] {
  return {
    ...rollMetadata(roll),
    riskRule: f.rule,
    leg: leg.leg,
    qty: leg.qty,
    policy: f.policy,
    action: f.action,
    status: f.status,
    deadline: f.deadline,
    ...f.numbers,
  };
}

/**
 * The roll that would keep the position: shown in the decision (journal, alert), never sent. Priced once per strategy,
 * holdings and New York day (the journal and the alert take the first decision of a day; a rule pass over thousands
 * of flagged strategies must not price thousands of trees again each minute).
 */
function rollOf(ctx: RuleContext, risk: StrategyRisk, env: RiskEnvironment, memo: Map<string, Roll | null>): Roll | null {
  const key = `${ctx.strategy.id}|${nyDate(ctx.now)}|${ctx.holdings.map((h) => `${contractKey(h.contract)}=${h.qty}`).join(',')}`;
  if (memo.has(key)) return memo.get(key)!;
  if (memo.size >= ROLL_MEMO_MAX) memo.clear();
  const roll = rollForRisk(risk, ctx.holdings, {
    now: ctx.now,
    spot: ctx.underlyingPrice,
    quote: ctx.quote,
    rate: env.rate,
    volatility: env.volatility,
    dividends: env.dividends,
    ...(env.expiries ? { expiries: env.expiries } : {}),
  });
  memo.set(key, roll);
  return roll;
}

/** Rolls remembered at most (one per flagged strategy and day); past it the memo starts again. */
const ROLL_MEMO_MAX = 50_000;

function decide(ctx: RuleContext, risk: StrategyRisk, env: RiskEnvironment, memo: Map<string, Roll | null>, want: (f: RiskFinding) => boolean, action: 'CLOSE' | 'ALERT_ONLY'): Decision | null {
  for (const leg of risk.legs) {
    for (const f of leg.findings) {
      if (f.status !== 'at-risk' || !want(f)) continue;
      const what =
        f.action === 'close'
          ? `closing ${ctx.strategy.id} before the holder can exercise (by ${f.deadline === null ? 'the close' : formatNyTime(f.deadline)})`
          : f.action === 'report'
            ? `not acted on: assignment is the plan of a ${risk.kind}`
            : `suggested: ${SUGGESTED[f.rule]}${f.policy === 'close' ? ' (past the act-by time: alert only)' : ''}`;
      const roll = rollOf(ctx, risk, env, memo);
      const keep = roll === null ? '' : roll.kind === 'roll' ? `; to keep the position instead (shown, not sent): ${roll.text}` : `; no roll to show: ${roll.reason}`;
      return {
        strategyId: ctx.strategy.id,
        action,
        reason: `${leg.leg} (${leg.qty}) at risk of assignment: ${f.reason}; ${what}${keep}`,
        rule: RISK_RULE_NAMES[f.rule],
        urgency: action === 'CLOSE' ? 'HIGH' : 'NORMAL',
        at: ctx.now,
        metadata: metadata(leg, f, roll),
      };
    }
  }
  return null;
}

/**
 * The look-ahead rules as the engine runs them: one `Rule` that closes (a short leg at risk under policy `close`,
 * before `actBy`) and one that warns (policy `alert`, a close past `actBy`, a covered call or cash-secured put whose
 * assignment is the plan). Both read one assessment per rule pass (the same context object).
 */
export function earlyAssignmentRules(env: RiskEnvironment): readonly Rule[] {
  const seen = new WeakMap<RuleContext, StrategyRisk>();
  const rolls = new Map<string, Roll | null>();
  const legs = new LegRiskMemo();
  const assess = (ctx: RuleContext): StrategyRisk => {
    let r = seen.get(ctx);
    if (!r) {
      r = assessStrategy({ strategy: ctx.strategy, holdings: ctx.holdings, now: ctx.now, spot: ctx.underlyingPrice, quote: ctx.quote }, env, legs);
      seen.set(ctx, r);
    }
    return r;
  };
  const enabled = env.settings.exDividend !== 'off' || env.settings.deepItmPut !== 'off' || env.settings.expiration !== 'off';
  if (!enabled) return [];
  return [
    {
      name: 'EarlyAssignmentClose',
      priority: EARLY_ASSIGNMENT_CLOSE_PRIORITY,
      evaluate: (ctx) => decide(ctx, assess(ctx), env, rolls, (f) => f.action === 'close', 'CLOSE'),
    },
    {
      name: 'EarlyAssignmentAlert',
      priority: EARLY_ASSIGNMENT_ALERT_PRIORITY,
      evaluate: (ctx) => decide(ctx, assess(ctx), env, rolls, (f) => f.action === 'alert' || f.action === 'report', 'ALERT_ONLY'),
    },
  ];
}
