import type { StrategyState } from './strategy-state.js';

/** A guarded strategy as the link-down decision sees it. */
export interface LinkDownStrategy {
  readonly id: string;
  readonly state: StrategyState;
  /** A close (emergency or normal) is under way: orders are owed to the broker. */
  readonly closing: boolean;
}

export interface LinkDownAlertText {
  readonly severity: 'critical' | 'warning';
  readonly title: string;
  readonly text: string;
  readonly owing: readonly string[];
}

/** Strategies whose close cannot go on while the link is down (broken, closing, or owing a close). */
function owingOrders(strategies: readonly LinkDownStrategy[]): string[] {
  return strategies
    .filter((s) => s.closing || s.state === 'BROKEN' || s.state === 'EMERGENCY_CLOSING' || s.state === 'CLOSING')
    .map((s) => s.id)
    .sort();
}

/**
 * What to tell a person when the broker link has been down for `downMs`: while it is down the guard cannot send an
 * order, cancel one, or see an assignment. Critical when a close is owed (a broken strategy waits), a warning
 * otherwise (IB's nightly reset and short outages are routine, which is why this waits `brokerDownAlertMs` first).
 */
export function linkDownAlert(downMs: number, reason: string | null, strategies: readonly LinkDownStrategy[]): LinkDownAlertText {
  const owing = owingOrders(strategies);
  const minutes = Math.floor(downMs / 60_000);
  const span = minutes >= 1 ? `${minutes} min` : `${Math.round(downMs / 1000)} s`;
  const guarded = strategies.filter((s) => s.state !== 'CLOSED').length;
  const why = reason ? ` (${reason})` : '';
  const lead = `The broker link has been down for ${span}${why}: no order can be sent or cancelled and no assignment seen until it is back.`;
  if (owing.length > 0) {
    return {
      severity: 'critical',
      title: `BROKER DOWN ${span}: ${owing.length} close${owing.length === 1 ? '' : 's'} waiting`,
      text: `${lead} Closes waiting: ${owing.join(', ')}. Check TWS/IB Gateway and the network; close by hand if it stays down.`,
      owing,
    };
  }
  return {
    severity: 'warning',
    title: `Broker down ${span}`,
    text: `${lead} ${guarded} strateg${guarded === 1 ? 'y is' : 'ies are'} guarded and none is closing. Check TWS/IB Gateway and the network.`,
    owing,
  };
}
