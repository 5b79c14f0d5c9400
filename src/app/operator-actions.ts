import { LegguardError } from '../core/errors.js';
import type { TradingState } from '../core/gate.js';
import type { AccountId, IncidentId } from '../core/ids.js';
import { EpochMs } from '../core/quantity.js';
import type { StorePort, TradingStateRecord } from '../ports/store.js';

/**
 * What an operator does to a guard, from the CLI (`legguard ack`, `halt`, `reduce-only`, `resume`) or the HTTP edge
 * alike: both call these, so a button on the dashboard is exactly the command. Both write the store the guard reads;
 * a running guard takes a trading state within a second and reads acknowledgements on its next escalation check.
 */

const MAX_REASON = 500;

/** A name for `--by` (or the dashboard's "by"): 1-64 printable characters. */
export function checkBy(by: string): string {
  const t = by.trim();
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (t === '' || t.length > 64 || /[\x00-\x1f\x7f]/.test(t)) {
    throw new LegguardError('INVALID_INPUT', '--by must be 1-64 printable characters (a name)');
  }
  return t;
}

/** A reason: absent, or 1-500 printable characters on one line. */
export function checkReason(reason: string | undefined): string | null {
  if (reason === undefined) return null;
  const t = reason.trim();
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (t === '' || t.length > MAX_REASON || /[\x00-\x1f\x7f]/.test(t)) {
    throw new LegguardError('INVALID_INPUT', `--reason must be 1-${MAX_REASON} printable characters on one line`);
  }
  return t;
}

export interface AckResult {
  readonly incidentId: IncidentId;
  /** True when its critical alerts were repeating until now; false when already acknowledged or not critical. */
  readonly wasWaiting: boolean;
}

/**
 * Marks an incident acknowledged. An incident no alert names is NOT_FOUND, with the incidents still waiting listed.
 */
export async function acknowledgeIncident(store: StorePort, account: AccountId, id: IncidentId, now: number, by: string): Promise<AckResult> {
  const waiting = await store.unackedCritical(account);
  const wasWaiting = waiting.some((w) => w.incidentId === id);
  const known = await store.ackIncident(account, id, EpochMs.unsafe(now), by);
  if (!known) {
    const list = waiting.map((w) => `  ${w.incidentId}  ${w.first.title}`).join('\n');
    throw new LegguardError(
      'NOT_FOUND',
      `no alert of ${account} names incident "${id}". ${waiting.length === 0 ? 'No critical incident is waiting for acknowledgement.' : `Waiting for acknowledgement:\n${list}`}`,
      { incidentId: id },
    );
  }
  return { incidentId: id, wasWaiting };
}

export interface TradingStateChange {
  readonly before: TradingStateRecord;
  readonly after: TradingStateRecord;
}

/**
 * Sets the account's trading state and journals who, why and when, in one commit.
 */
export async function setTradingState(
  store: StorePort,
  account: AccountId,
  change: {
    readonly state: TradingState;
    readonly reason: string | null;
    readonly by: string;
    readonly now: number;
    /** Where it came from: the journal key starts with it (`cli:`, `http:`). */
    readonly origin: 'cli' | 'http';
    /** What set it, for the journal: `legguard halt`, `http POST /api/trading-state`. */
    readonly source: string;
  },
): Promise<TradingStateChange> {
  const before = await store.tradingState(account);
  const at = EpochMs.unsafe(change.now);
  const after: TradingStateRecord = { state: change.state, reason: change.reason, by: change.by, at };
  await store.commit({
    account,
    tradingState: after,
    journal: [
      {
        key: `${change.origin}:trading-state:${change.now}:${before.state}->${change.state}`,
        at,
        type: 'trading-state',
        account,
        strategyId: null,
        incidentId: null,
        data: { from: before.state, to: change.state, by: change.by, reason: change.reason, source: change.source },
      },
    ],
  });
  return { before, after };
}
