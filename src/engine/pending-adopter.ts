import { checkPending, describeLeg, describeMissingLeg, type LegPresence, type SettlementHint } from '../core/adoption.js';
import { contractKey, describeContract } from '../core/contract.js';
import type { ContractKey, StrategyId } from '../core/ids.js';
import type { Alert } from '../ports/alerts.js';
import type { JournalEntry, StateChange, StrategyRecord } from '../ports/store.js';
import type { Book } from '../core/book.js';
import type { Contract } from '../core/contract.js';
import type { EpochMs, Qty } from '../core/quantity.js';
import { journalEntry, makeAlert, moveStrategy, strategyRecord, type EngineHost } from './engine-host.js';

/** What adopting pending strategies reads from and does through the engine: the host, and the book to set legs in. */
export interface AdoptionHost
  extends Pick<EngineHost, 'tracker' | 'strategies' | 'config' | 'clock' | 'account' | 'commit' | 'raise' | 'emit' | 'log'> {
  readonly book: Book;
  readonly brokerPositions: ReadonlyMap<ContractKey, { contract: Contract; qty: Qty; at: EpochMs }>;
}

/**
 * Applies `checkPending` at each reconciliation (core/adoption.ts decides): a PENDING strategy whose every leg the
 * broker shows takes its legs as holdings and becomes OPEN, one commit with the outside holdings it took them from;
 * one that is not (fully) at the broker stays PENDING, holding nothing, and the guard says which legs are missing
 * (a timeline note and a journal entry, which `legguard status` shows, and a warning alert), once per situation, not
 * at every pass.
 */
export class PendingAdopter {
  /** Per strategy: what this process last said about it, so a pass that finds the same says nothing. */
  private readonly told = new Map<StrategyId, string>();
  /** Alert keys this process raised: the outbox keeps one per key, and the alerts port is told once too. */
  private readonly alerted = new Set<string>();

  constructor(private readonly engine: AdoptionHost) {}

  /** Returns the contracts in which strategies took positions (their legs), for the reconciliation's report. */
  async adoptPending(): Promise<ReadonlySet<ContractKey>> {
    const e = this.engine;
    const taken = new Set<ContractKey>();
    const pending = [...e.strategies.values()]
      .filter((rt) => rt.state === 'PENDING')
      .sort((a, b) => a.def.createdAt - b.def.createdAt || (a.def.id < b.def.id ? -1 : a.def.id > b.def.id ? 1 : 0));
    if (pending.length === 0) return taken;
    const now = e.clock.now();
    const result = checkPending({
      pending: pending.map((rt) => rt.def),
      book: e.book,
      broker: e.brokerPositions,
      busy: (key) => e.tracker.recentlyActive(key, now, e.config.correlationWindowMs),
    });

    const strategies: StrategyRecord[] = [];
    const stateChanges: StateChange[] = [];
    const journal: JournalEntry[] = [];
    const alerts: Alert[] = [];
    for (const v of result.verdicts) {
      const rt = e.strategies.get(v.strategyId)!;
      const id = rt.def.id;
      if (v.kind === 'wait') continue;
      if (v.kind === 'adopt') {
        for (const l of v.legs) {
          e.book.set(id, l.contract, l.want);
          taken.add(contractKey(l.contract));
        }
        const legs = v.legs.map(describeLeg).join(', ');
        const c = moveStrategy(e, rt, 'adopted', `every leg is at the broker: ${legs}`);
        if (c) stateChanges.push(c);
        strategies.push(strategyRecord(e.book, rt));
        if (this.told.has(id)) {
          // It was reported missing by this guard: say that it is guarded now.
          alerts.push(
            makeAlert(e, 'info', `guarded:${id}:${rt.def.createdAt}`, `GUARDED: ${id}`, `${id}: the broker now shows every leg (${legs}); guarded from now on.`, id, null, { strategyId: id }),
          );
          this.told.delete(id);
        }
        continue;
      }
      const text = notAtBrokerText(id, v.legs, v.looksAssigned);
      if (this.told.get(id) === text) continue;
      this.told.set(id, text);
      const missing = v.legs.filter((l) => !l.present);
      const held = v.legs.filter((l) => l.present);
      // The alert names the missing legs; the journal entry also what the broker shows, which `status` reads.
      const situation = missing.map(describeLeg).join(', ');
      e.emit({ kind: 'note', at: now, strategyId: id, text });
      journal.push(
        journalEntry(e, 
          'note',
          `not-at-broker:${id}:${rt.def.createdAt}:${missing.map(describeMissingLeg).join(', ')}:${held.map(describeLeg).join(', ')}`,
          { kind: 'not-at-broker', definedAt: rt.def.createdAt, text, missing: missing.map(describeMissingLeg), atBroker: held.map(describeLeg) },
          id,
        ),
      );
      const key = `not-at-broker:${id}:${rt.def.createdAt}:${situation}`;
      if (this.alerted.has(key)) continue;
      this.alerted.add(key);
      // Critical when it may have been assigned before it was guarded: what is left of it may be at risk, unguarded.
      alerts.push(
        makeAlert(e, v.looksAssigned.length > 0 ? 'critical' : 'warning', key, `NOT AT THE BROKER: ${id} is not guarded`, text, id, null, {
          strategyId: id,
          missing: missing.map(describeMissingLeg).join('; '),
          atBroker: held.map(describeLeg).join('; ') || null,
        }),
      );
    }
    if (strategies.length === 0 && journal.length === 0) return taken;
    for (const o of result.outside) e.book.set(null, o.contract, o.qty);
    await e.commit({
      strategies,
      stateChanges,
      journal,
      alerts,
      ...(strategies.length > 0 ? { outside: e.book.holdings(null) } : {}),
    });
    e.raise(alerts);
    return taken;
  }
}

/** What a person reads about a strategy that waits: which legs are missing, which are there, what happens next. */
function notAtBrokerText(id: string, legs: readonly LegPresence[], looksAssigned: readonly SettlementHint[]): string {
  const missing = legs.filter((l) => !l.present);
  const held = legs.filter((l) => l.present);
  const lines = [`${id} is not guarded: not at the broker: ${missing.map(describeMissingLeg).join(', ')}.`];
  if (held.length > 0) {
    lines.push(`At the broker: ${held.map(describeLeg).join(', ')}, which stay${held.length === 1 ? 's' : ''} outside any strategy until every leg is there.`);
  }
  for (const h of looksAssigned) {
    lines.push(
      `The broker shows ${h.shares > 0 ? '+' : ''}${h.shares} ${describeContract(h.stock)} that no strategy holds: what assigning ${h.options.map(describeLeg).join(', ')} would have delivered. ` +
        `If ${h.options.length === 1 ? 'it was' : 'they were'} assigned before a guard first saw ${id}, what is left of ${id} is at risk and not guarded: act on it yourself.`,
    );
  }
  lines.push(
    `${id} waits (PENDING): nothing about these legs is an assignment or a trade, and nothing is sent for it. It is guarded from the reconciliation that finds every leg; if a leg was typed wrong, fix it with \`legguard strategies add ${id} --replace ...\`.`,
  );
  return lines.join(' ');
}
