import type { IncidentId } from '../core/ids.js';
import type { JournalEntry } from '../ports/store.js';
import { journalEntry, type EngineHost } from './engine-host.js';
import type { PlannedExerciseOrder } from './exerciser.js';

/** The write-ahead journal entry of a planned exercise or lapse, committed with the close plan before it goes out. */
export function exerciseJournal(h: Pick<EngineHost, 'clock' | 'account'>, x: PlannedExerciseOrder, incidentId: IncidentId | null): JournalEntry {
  return journalEntry(
    h,
    'order',
    `plan:${x.ref}`,
    { ref: x.ref, exercise: x.action, contract: x.contract, qty: x.qty, notBefore: x.notBefore, reason: x.reason },
    x.strategyId,
    incidentId,
  );
}
