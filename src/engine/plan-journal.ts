import { compactContract } from '../core/compact-contract.js';
import type { IncidentId, StrategyId } from '../core/ids.js';
import type { OrderRequest } from '../core/order.js';
import type { JournalEntry } from '../ports/store.js';
import { journalEntry, type EngineHost } from './engine-host.js';

/**
 * The write-ahead journal entry of a planned order (`plan:<ref>`), committed in the same transaction as its order row,
 * which holds the whole request. The entry says what was planned without repeating what its own columns hold: the
 * account, and the strategy and incident when they are the entry's; its contracts compact (core/compact-contract.ts).
 * A burst of a thousand breaks journals some three thousand of these, a sixth of its commit's bytes before.
 */
export function planJournal(h: Pick<EngineHost, 'clock' | 'account'>, request: OrderRequest, strategyId: StrategyId, incidentId: IncidentId | null): JournalEntry {
  const { strategyId: s, incidentId: i, account: a, legs, ...rest } = request;
  const data = {
    ...rest,
    ...(s === strategyId ? {} : { strategyId: s }),
    ...(i === incidentId ? {} : { incidentId: i }),
    ...(a === h.account ? {} : { account: a }),
    legs: legs.map((l) => ({ ...l, contract: compactContract(l.contract) })),
  };
  return journalEntry(h, 'order', `plan:${request.ref}`, data, strategyId, incidentId);
}
