import { describeContract, formatStrike, isOption, type OptionContract } from '../core/contract.js';
import type { PlanCompleted } from '../core/planned-assignment.js';
import { describeHoldings } from './incident.js';

export interface PlanMessages {
  readonly title: string;
  readonly text: string;
  /** The state change's reason when the strategy closes. */
  readonly reason: string;
}

/**
 * What a person reads when a covered call is called away or a cash-secured put's shares arrive: information, not an
 * incident. `CALLED AWAY AS PLANNED: cc-spy` with what was assigned, when, what happened to the shares and what is
 * left.
 */
export function planMessages(id: string, plan: PlanCompleted): PlanMessages {
  const legs = plan.assigned.map((d) => ({ c: d.contract as OptionContract, n: Math.abs(d.change) }));
  const what = legs.map(({ c, n }) => `${describeContract(c)} x${n}`).join(' and ');
  const expiries = [...new Set(legs.map(({ c }) => c.expiry))].join(', ');
  const when = plan.early ? `early (before its expiry on ${expiries})` : 'at expiry';
  const symbol = legs[0]?.c.symbol ?? '';
  const shares = legs.reduce((a, { c, n }) => a + n * c.multiplier, 0);
  const leftOptions = plan.keeps.some((h) => isOption(h.contract));
  const handed = plan.handsOver.reduce((a, h) => a + h.qty, 0);
  const none = 'no orders were needed';
  if (plan.outcome === 'called-away') {
    const rest = leftOptions
      ? `${id} still holds ${describeHoldings(plan.keeps)} and stays OPEN; ${none}.`
      : handed > 0
        ? `The other ${handed} ${symbol} shares are kept, outside any strategy; ${none}; the strategy is CLOSED.`
        : `Nothing is left; ${none}; the strategy is CLOSED.`;
    return {
      title: `${plan.early ? 'CALLED AWAY EARLY' : 'CALLED AWAY AS PLANNED'}: ${id}`,
      text: `${id}: ${what} was assigned ${when} and the ${shares} ${symbol} shares were delivered against it: ${leftOptions ? 'as a covered call allows' : `the covered call ended as planned${plan.early ? ', only sooner' : ''}`}. ${rest}`,
      reason: 'called away as planned',
    };
  }
  const bought = legs.map(({ c, n }) => `${n * c.multiplier} ${symbol} at ${formatStrike(c.strike)}`).join(' and ');
  const rest = leftOptions ? `${id} still holds ${describeHoldings(plan.keeps)} and stays OPEN` : 'the strategy is CLOSED';
  return {
    title: `${plan.early ? 'SHARES ASSIGNED EARLY' : 'SHARES ASSIGNED AS PLANNED'}: ${id}`,
    text:
      `${id}: ${what} was assigned ${when}: the account bought ${bought}, as a cash-secured put intends. ` +
      `The shares are kept, outside any strategy (nothing was sold; a covered call written on them is a new strategy); ${none}; ${rest}.`,
    reason: 'put assigned as planned: the shares are kept outside any strategy',
  };
}
