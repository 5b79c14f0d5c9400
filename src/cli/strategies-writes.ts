import { expiryClose, formatNyTime } from '../core/calendar.js';
import { describeContract, isOption } from '../core/contract.js';
import { LegguardError } from '../core/errors.js';
import type { AccountId } from '../core/ids.js';
import { EpochMs } from '../core/quantity.js';
import type { StrategyDefinition } from '../core/strategy.js';
import type { StrategyState } from '../core/strategy-state.js';
import type { StorePort, StrategyRecord } from '../ports/store.js';

/**
 * States a strategy may be replaced in: nothing is under way for it (OPEN, or PENDING: a typo is fixed by replacing
 * it) or nothing is left of it (CLOSED).
 */
const REPLACEABLE: readonly StrategyState[] = ['PENDING', 'OPEN', 'CLOSED'];

/** States in which the guard is closing a strategy: removing it then needs --force. */
export const CLOSING_STATES: readonly StrategyState[] = ['BROKEN', 'EMERGENCY_CLOSING', 'CLOSING'];

/**
 * Option legs already past their expiry close at `now`: guarding them makes no sense (the broker no longer shows
 * them, so the first reconciliation would break the strategy). `where(i, j)` names strategy i's leg j for the message.
 */
export function refuseExpiredLegs(defs: readonly StrategyDefinition[], now: number, where: (i: number, j: number) => string): void {
  const problems: string[] = [];
  defs.forEach((d, i) =>
    d.legs.forEach((l, j) => {
      if (isOption(l.contract) && expiryClose(l.contract.expiry) <= now) {
        problems.push(`${where(i, j)}: ${describeContract(l.contract)} has expired (its last trading day closed ${formatNyTime(expiryClose(l.contract.expiry))})`);
      }
    }),
  );
  if (problems.length > 0) throw new LegguardError('INVALID_INPUT', problems.join('; '), { problems });
}

export interface GuardResult {
  readonly added: readonly StrategyDefinition[];
  /** Strategies that were in the store and are now replaced, with the state they were in. */
  readonly replaced: readonly { readonly id: string; readonly was: StrategyState }[];
}

/**
 * Writes new strategies to the store as PENDING, holding nothing yet (what `legguard run` does for the config's
 * strategies), in one commit: all of them or, on any refusal or store error, none. The command has no broker
 * connection: the guard checks the legs against the broker when it adopts them, and guards each strategy (OPEN)
 * from the reconciliation that finds every leg. An id already in the store is refused, naming each, unless `replace`
 * is set and every such strategy is PENDING, OPEN or CLOSED.
 */
export async function guardNewStrategies(
  store: StorePort,
  account: AccountId,
  defs: readonly StrategyDefinition[],
  opts: { readonly replace: boolean; readonly now: number; readonly source: string },
): Promise<GuardResult> {
  const existing = new Map<string, StrategyRecord>((await store.listStrategies(account)).map((r) => [r.definition.id, r]));
  const clashes = defs.flatMap((d) => {
    const r = existing.get(d.id);
    return r ? [{ id: d.id, was: r.state }] : [];
  });
  const list = (xs: readonly { id: string; was: StrategyState }[]): string => xs.map((c) => `${c.id} (${c.was})`).join(', ');
  if (clashes.length > 0 && !opts.replace) {
    throw new LegguardError(
      'INVALID_INPUT',
      `already in the store: ${list(clashes)}; nothing was added. Give --replace to replace strategies that are PENDING, OPEN or CLOSED, or remove them first`,
      { ids: clashes.map((c) => c.id) },
    );
  }
  const stuck = clashes.filter((c) => !REPLACEABLE.includes(c.was));
  if (stuck.length > 0) {
    throw new LegguardError(
      'INVALID_INPUT',
      `cannot replace ${list(stuck)}: only PENDING, OPEN or CLOSED strategies are replaced (the guard is handling the others); nothing was added`,
      { ids: stuck.map((c) => c.id) },
    );
  }
  const at = EpochMs.unsafe(opts.now);
  const was = new Map(clashes.map((c) => [c.id, c.was]));
  await store.commit({
    account,
    strategies: defs.map((d) => ({ definition: d, state: 'PENDING', broken: null, holdings: [], updatedAt: at })),
    stateChanges: defs.map((d) => ({
      strategyId: d.id,
      from: was.get(d.id) ?? null,
      to: 'PENDING',
      at,
      reason: was.has(d.id) ? `replaced by ${opts.source}` : `guarded (${opts.source})`,
      incidentId: null,
    })),
    journal: defs.map((d) => ({
      key: `cli:guard:${d.id}:${opts.now}`,
      at,
      type: 'note',
      account,
      strategyId: d.id,
      incidentId: null,
      data: { action: was.has(d.id) ? 'replaced' : 'added', by: opts.source, replacedState: was.get(d.id) ?? null },
    })),
  });
  return { added: defs, replaced: clashes };
}

/** The note a person reads after an add or import: when a running guard sees it, and what --replace leaves to do. */
export function pickupNote(result: GuardResult, reconcileIntervalMs: number): string {
  const secs = Math.round(reconcileIntervalMs / 1000);
  const it = result.added.length === 1 ? 'it' : 'them';
  const lines = [
    `PENDING until a guard finds every leg at the broker: a running guard picks ${it} up at its next reconciliation (every ${secs} s), a guard started later at start. ` +
      `From then on ${result.added.length === 1 ? 'it is' : 'they are'} guarded (OPEN); a leg the broker does not show is reported as not at the broker (\`legguard status\`), and the strategy waits.`,
  ];
  if (result.replaced.length > 0) {
    lines.push(`A guard already running keeps the definition it loaded for a replaced strategy (${result.replaced.map((r) => r.id).join(', ')}) until it restarts: restart it.`);
  }
  return lines.join('\n');
}
