import type { TradingState } from '../core/gate.js';
import type { AccountId } from '../core/ids.js';
import type { EpochMs } from '../core/quantity.js';
import type { Alert } from '../ports/alerts.js';
import type { JournalEntry, TradingStateRecord } from '../ports/store.js';

/** What a running guard does in each trading state, for the journal, the alert and the log. */
export const TRADING_STATE_MEANING: Readonly<Record<TradingState, string>> = {
  ACTIVE: 'closes are sent as usual',
  REDUCING: 'only orders that reduce a position are sent (every close legguard plans reduces: closes and exits go out as usual)',
  HALTED: 'nothing is sent: working orders are cancelled; detections, alerts and close plans go on, held until reduce-only or resume',
};

export interface TradingStateChange {
  readonly journal: JournalEntry;
  readonly alert: Alert;
  readonly text: string;
}

/**
 * The journal entry and the alert for a trading state a running guard takes (`from` -> `set.state`, taken at `now`):
 * a warning when it halts, info otherwise. Who set it, why and when come from the store's record.
 */
export function tradingStateChange(account: AccountId, from: TradingState, set: TradingStateRecord, now: EpochMs): TradingStateChange {
  const to = set.state;
  const who = set.by ?? 'unknown';
  const why = set.reason ?? 'no reason given';
  const text = `trading ${from} -> ${to} (set by ${who}: ${why}): ${TRADING_STATE_MEANING[to]}`;
  const key = `trading-state:${set.at ?? now}:${to}`;
  return {
    text,
    journal: {
      key,
      at: now,
      type: 'trading-state',
      account,
      strategyId: null,
      incidentId: null,
      data: { from, to, by: set.by, reason: set.reason, setAt: set.at, takenAt: now },
    },
    alert: {
      key,
      severity: to === 'HALTED' ? 'warning' : 'info',
      incidentId: null,
      strategyId: null,
      title: `trading ${to} for ${account}`,
      text,
      at: now,
      facts: { from, to, by: who, reason: why },
    },
  };
}
