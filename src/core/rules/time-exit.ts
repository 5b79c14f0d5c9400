import { dte } from '../calendar.js';
import { isOption, type OptionContract } from '../contract.js';
import type { Decision } from '../decision.js';
import type { Rule, RuleContext } from './rule.js';

/** The seed's priority for the time exit. */
export const TIME_EXIT_PRIORITY = 8;

/**
 * Strategies written to be assigned at expiry: a covered call's shares called away, a cash-secured put's shares
 * bought. Closing them the day before would sell the trader's shares or buy back the put they wanted assigned.
 */
const PLANNED_KINDS: ReadonlySet<string> = new Set(['covered-call', 'cash-secured-put']);

/**
 * Closes a strategy when its nearest option expiry is `maxDte` New York calendar days away or fewer (seed:
 * `DTE <= 1`, the last day before expiration), before assignment at expiry can happen. Null turns it off.
 * A covered call or cash-secured put is not closed (assignment is its plan): a person is told once per expiry that it
 * is near and that the guard leaves it to be assigned (ALERT_ONLY), so they can roll it or close it themselves.
 *
 * @example
 *   timeExitRule(1).evaluate(ctx) // at 2026-01-29 10:00 New York, an option expiring 2026-01-30: CLOSE, HIGH
 */
export function timeExitRule(maxDte: number | null = 1): Rule {
  return {
    name: 'TimeExit',
    priority: TIME_EXIT_PRIORITY,
    evaluate(ctx: RuleContext): Decision | null {
      if (maxDte === null) return null;
      let nearest: OptionContract | null = null;
      for (const h of ctx.holdings) {
        if (h.qty === 0 || !isOption(h.contract)) continue;
        if (nearest === null || h.contract.expiry < nearest.expiry) nearest = h.contract;
      }
      if (nearest === null) return null;
      const days = dte(ctx.now, nearest.expiry);
      if (days > maxDte) return null;
      if (PLANNED_KINDS.has(ctx.strategy.kind)) {
        return {
          strategyId: ctx.strategy.id,
          action: 'ALERT_ONLY',
          reason: `${days} day${days === 1 ? '' : 's'} to the ${nearest.symbol} expiry of ${nearest.expiry} (New York), at or under the time exit of ${maxDte}, but a ${ctx.strategy.kind} is written to be assigned: not closed; roll or close it by hand if that is no longer the plan`,
          rule: 'TimeExit',
          urgency: 'NORMAL',
          at: ctx.now,
          metadata: { dte: days, expiry: nearest.expiry, maxDte, situation: `planned:${nearest.expiry}` },
        };
      }
      return {
        strategyId: ctx.strategy.id,
        action: 'CLOSE',
        reason: `${days} day${days === 1 ? '' : 's'} to the ${nearest.symbol} expiry of ${nearest.expiry} (New York), at or under the time exit of ${maxDte}: closing before assignment can happen`,
        rule: 'TimeExit',
        urgency: 'HIGH',
        at: ctx.now,
        metadata: { dte: days, expiry: nearest.expiry, maxDte },
      };
    },
  };
}
