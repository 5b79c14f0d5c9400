import { signed } from '../core/break-decision.js';
import { describeContract, formatStrike, isOption, type Contract } from '../core/contract.js';
import type { BreakCause, Detection } from '../core/detection.js';
import { IncidentId, type StrategyId } from '../core/ids.js';
import type { Holding } from '../core/book.js';
import type { EpochMs } from '../core/quantity.js';

/**
 * An incident's id, derived from what it stands for: the strategy, the cause and the broker time of the change. A
 * guard restarted after a crash derives the same id for the same change, so it finds the orders it already sent.
 */
export function incidentIdFor(strategyId: StrategyId, cause: BreakCause, brokerAt: EpochMs): IncidentId {
  return IncidentId.unsafe(`${strategyId}:${cause}:${brokerAt}`);
}

const CAUSE_RANK: Record<BreakCause, number> = {
  assignment: 0,
  exercise: 1,
  liquidation: 2,
  manual: 3,
  unknown: 4,
  expiration: 5,
};

/**
 * The detection that names an incident: an option's settlement before a liquidation, a manual trade or an
 * expiration; among equals, the option leg (not the stock it created), then the largest change.
 */
export function primaryDetection(ds: readonly Detection[]): Detection {
  const sorted = [...ds].sort(
    (a, b) =>
      CAUSE_RANK[a.cause as BreakCause] - CAUSE_RANK[b.cause as BreakCause] ||
      (isOption(b.contract) ? 1 : 0) - (isOption(a.contract) ? 1 : 0) ||
      Math.abs(b.change) - Math.abs(a.change),
  );
  return sorted[0]!;
}


export function describeHoldings(hs: readonly Holding[]): string {
  if (hs.length === 0) return 'nothing';
  return hs.map((h) => `${signed(h.qty)} ${describeContract(h.contract)}`).join(', ');
}

/** `SPY 440 P 2026-01-30` with the leg's facts, for alert titles. */
export function legFacts(c: Contract): Record<string, string | number | null> {
  if (!isOption(c)) return { symbol: c.symbol, secType: 'STK', right: null, strike: null, expiry: null };
  return { symbol: c.symbol, secType: 'OPT', right: c.right, strike: Number(formatStrike(c.strike)), expiry: c.expiry };
}

export const CAUSE_TITLE: Record<BreakCause, string> = {
  assignment: 'ASSIGNMENT',
  exercise: 'EXERCISE',
  expiration: 'EXPIRATION',
  manual: 'MANUAL TRADE',
  liquidation: 'BROKER LIQUIDATION',
  unknown: 'UNEXPLAINED POSITION CHANGE',
};

export { describeChange, signed } from '../core/break-decision.js';
