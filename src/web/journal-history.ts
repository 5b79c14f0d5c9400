import type { AccountId } from '../core/ids.js';
import type { JournalType, StorePort } from '../ports/store.js';

/** How many of the newest journal entries the dashboard's timeline starts with. */
export const HISTORY_ENTRIES = 300;

/** What the record tells a person; broker events and reconciliation passes are left out (many, and said elsewhere). */
const SHOWN: readonly JournalType[] = ['detection', 'decision', 'order', 'fill', 'alert', 'state', 'note', 'trading-state'];

export interface HistoryEntry {
  readonly account: string;
  readonly at: string;
  readonly type: JournalType;
  readonly strategyId: string | null;
  readonly incidentId: string | null;
  readonly data: unknown;
}

function isCostState(data: unknown): boolean {
  return typeof data === 'object' && data !== null && (data as { kind?: unknown }).kind === 'incident-cost-state';
}

/**
 * `/api/history`: the record's newest entries, oldest first, so that the timeline has a past before the live stream.
 * The strategies' state changes (kept apart from the journal, in the store's state history) are merged in as `state`
 * entries `{ from, to, reason }`: OPEN -> BROKEN -> EMERGENCY_CLOSING -> CLOSED reads in the timeline of a stored
 * record as it did live. At equal times a state change goes after the journal entries (the detection that broke a
 * strategy reads before the BROKEN it caused).
 */
export async function journalHistory(store: StorePort, account: AccountId): Promise<{ entries: readonly HistoryEntry[] }> {
  // An incident's cost as it stands is written at each fill for a restart to read: the record's bookkeeping, not news.
  const journal = (await store.journal({ account, types: SHOWN, limit: HISTORY_ENTRIES })).filter((j) => !isCostState(j.data));
  const states = await store.stateHistory({ account, limit: HISTORY_ENTRIES });
  const merged: { at: number; order: number; entry: HistoryEntry }[] = [
    ...journal.map((j, i) => ({ at: j.at, order: i, entry: { account, at: new Date(j.at).toISOString(), type: j.type, strategyId: j.strategyId, incidentId: j.incidentId, data: j.data } })),
    ...states.map((s, i) => ({
      at: s.at,
      order: journal.length + i,
      entry: { account, at: new Date(s.at).toISOString(), type: 'state' as const, strategyId: s.strategyId, incidentId: s.incidentId, data: { from: s.from, to: s.to, reason: s.reason } },
    })),
  ];
  merged.sort((a, b) => a.at - b.at || a.order - b.order);
  return { entries: merged.slice(-HISTORY_ENTRIES).map((m) => m.entry) };
}

/**
 * `/api/history` over several accounts: each account's newest entries merged by time (ties: the accounts' order),
 * the newest `HISTORY_ENTRIES` of them kept, oldest first.
 */
export async function accountsHistory(store: StorePort, accounts: readonly AccountId[]): Promise<{ entries: readonly HistoryEntry[] }> {
  if (accounts.length === 1) return journalHistory(store, accounts[0]!);
  const each = await Promise.all(accounts.map((a) => journalHistory(store, a)));
  const merged = each.flatMap((h, i) => h.entries.map((entry, order) => ({ at: Date.parse(entry.at), i, order, entry })));
  merged.sort((a, b) => a.at - b.at || a.i - b.i || a.order - b.order);
  return { entries: merged.slice(-HISTORY_ENTRIES).map((m) => m.entry) };
}
