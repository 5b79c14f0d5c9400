import type { AccountId } from '../core/ids.js';
import type { JournalType, StorePort } from '../ports/store.js';

/** How many of the newest journal entries the dashboard's timeline starts with. */
export const HISTORY_ENTRIES = 300;

/** What the record tells a person; broker events and reconciliation passes are left out (many, and said elsewhere). */
const SHOWN: readonly JournalType[] = ['detection', 'decision', 'order', 'fill', 'alert', 'state', 'note', 'trading-state'];

export interface HistoryEntry {
  readonly at: string;
  readonly type: JournalType;
  readonly strategyId: string | null;
  readonly incidentId: string | null;
  readonly data: unknown;
}

/** `/api/history`: the record's newest entries, oldest first, so that the timeline has a past before the live stream. */
export async function journalHistory(store: StorePort, account: AccountId): Promise<{ entries: readonly HistoryEntry[] }> {
  const entries = await store.journal({ account, types: SHOWN, limit: HISTORY_ENTRIES });
  return {
    entries: entries.map((j) => ({ at: new Date(j.at).toISOString(), type: j.type, strategyId: j.strategyId, incidentId: j.incidentId, data: j.data })),
  };
}
