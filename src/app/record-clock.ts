import type { AccountId } from '../core/ids.js';
import type { EpochMs } from '../core/quantity.js';
import { JOURNAL_TYPES, type Cursor, type JournalEntry, type StorePort } from '../ports/store.js';

/**
 * The clock a store's times were written on. A live guard writes wall-clock times; a replay and a drill
 * (`legguard run --clock broker:<speed>`) write the scenario's, which can be months away from the machine's date.
 * `legguard status` reads it to tell an age ("5 min ago") from a gap between two clocks ("307 d ago").
 */
export type RecordClock = { readonly kind: 'wall' } | { readonly kind: 'scenario'; readonly source: string };

const KEY_PREFIX = 'clock:';
/** How many of the newest notes `clockOfRecord` looks through: a guard writes its mark at every start. */
const NOTES_LOOKED_AT = 1000;

/** The journal note that marks the clock of what follows; written at the start of a replay, a drill or a guard. */
export function clockNote(account: AccountId, at: EpochMs, clock: RecordClock): JournalEntry {
  const text = clock.kind === 'wall' ? "times from here on are this machine's clock" : `times from here on are scenario time (${clock.source})`;
  return {
    key: `${KEY_PREFIX}${at}:${clock.kind}`,
    at,
    type: 'note',
    account,
    strategyId: null,
    incidentId: null,
    data: { clock: clock.kind, source: clock.kind === 'scenario' ? clock.source : null, text },
  };
}

export async function recordClock(store: StorePort, account: AccountId, at: EpochMs, clock: RecordClock): Promise<void> {
  await store.commit({ account, journal: [clockNote(account, at, clock)] });
}

/** The clock of the latest mark; null for a store written before marks existed (or with none): take it as the wall's. */
export async function clockOfRecord(store: StorePort, account: AccountId): Promise<RecordClock | null> {
  const notes = await store.journal({ account, types: ['note'], limit: NOTES_LOOKED_AT });
  for (let i = notes.length - 1; i >= 0; i--) {
    const n = notes[i]!;
    if (!n.key.startsWith(KEY_PREFIX)) continue;
    const d = n.data as { clock?: unknown; source?: unknown } | null;
    if (d?.clock === 'scenario') return { kind: 'scenario', source: typeof d.source === 'string' ? d.source : 'a scenario' };
    if (d?.clock === 'wall') return { kind: 'wall' };
  }
  return null;
}

/**
 * The latest time the guard's own clock wrote in the record: its newest journal entry other than a note or a
 * trading-state change (the CLI writes those on the machine's clock, whatever the guard's) and its reconciliation and
 * execution cursor. Null for an empty record.
 */
export async function latestRecordAt(store: StorePort, account: AccountId, cursor: Cursor): Promise<EpochMs | null> {
  const [newest] = await store.journal({ account, types: JOURNAL_TYPES.filter((t) => t !== 'note' && t !== 'trading-state'), limit: 1 });
  let latest: EpochMs | null = newest?.at ?? null;
  for (const t of [cursor.lastReconciledAt, cursor.lastExecutionAt]) if (t !== null && (latest === null || t > latest)) latest = t;
  return latest;
}
