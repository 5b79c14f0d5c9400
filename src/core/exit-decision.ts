import type { BookView } from './book.js';
import { contractKey, describeContract } from './contract.js';
import { signed } from './break-decision.js';
import type { Decision } from './decision.js';
import type { Detection } from './detection.js';
import { IncidentId, type ContractKey } from './ids.js';
import { Qty, type EpochMs } from './quantity.js';
import type { BreakPolicy, BrokenInfo, StrategyDefinition } from './strategy.js';

/**
 * Why a strategy's holdings no longer match its legs or the broker (a leg held in another quantity, a contract held
 * that is not a leg, the broker showing what the book cannot explain); null when they match.
 */
export function legMismatch(def: StrategyDefinition, book: BookView, brokerQty: (key: ContractKey) => Qty): string | null {
  const want = new Map<ContractKey, number>();
  for (const leg of def.legs) want.set(contractKey(leg.contract), (want.get(contractKey(leg.contract)) ?? 0) + leg.qty);
  for (const [key, qty] of want) {
    const have = book.holding(def.id, key);
    if (have !== qty) return `${key} should be ${signed(qty)} but the strategy holds ${signed(have)}`;
    const unexplained = brokerQty(key) - book.net(key);
    if (unexplained !== 0) return `the broker shows ${signed(unexplained)} unexplained in ${key}`;
  }
  for (const h of book.holdings(def.id)) {
    if (!want.has(contractKey(h.contract))) return `the strategy holds ${signed(h.qty)} ${describeContract(h.contract)} that is not one of its legs`;
  }
  return null;
}

export interface ExitInput {
  readonly def: StrategyDefinition;
  /** A rule's decision for the (OPEN) strategy. */
  readonly decision: Decision;
  /** `legMismatch` of the strategy now. */
  readonly mismatch: string | null;
  /** The policy for a break of unknown cause (the emergency path a refused close takes). */
  readonly policy: BreakPolicy;
  readonly now: EpochMs;
}

/** A journal entry or an alert before the engine stamps it with its clock and account. */
export interface JournalDraft {
  readonly type: 'decision';
  readonly key: string;
  readonly data: unknown;
  readonly incidentId: IncidentId | null;
}

export interface AlertDraft {
  readonly severity: 'warning';
  readonly key: string;
  readonly title: string;
  readonly text: string;
  readonly facts: Readonly<Record<string, string | number | boolean | null>>;
}

export type ExitOutcome =
  /** Nothing to do (HOLD, or an action rules may not take: EMERGENCY_CLOSE and HEDGE are for broken strategies). */
  | { readonly kind: 'none'; readonly why: string }
  /** An ordinary close: `close-requested`, the decision journaled, the closer plans it. */
  | { readonly kind: 'close'; readonly decision: Decision; readonly journal: readonly JournalDraft[] }
  /**
   * The close refused because the legs no longer match the broker: `broke`, the strategy's broken info, and the
   * emergency decision by policy, handed to the closer as a break of unknown cause.
   */
  | {
      readonly kind: 'emergency';
      readonly decision: Decision;
      readonly incidentId: IncidentId;
      readonly broken: BrokenInfo;
      readonly primary: Detection;
      readonly reason: string;
      readonly journal: readonly JournalDraft[];
    }
  /**
   * A rule's ALERT_ONLY: a warning, journaled, once per strategy per situation (`situation`: the rule's
   * `metadata.situation` when it gives one, else the rule's name); the engine raises it only when the situation is new.
   */
  | { readonly kind: 'alert'; readonly situation: string; readonly alert: AlertDraft; readonly journal: readonly JournalDraft[] };

/**
 * The ordinary exit a rule decided, for an OPEN strategy. Pure: the engine applies the transition, commits the
 * journal and the alert and hands the close to the closer.
 */
export function exitDecision(input: ExitInput): ExitOutcome {
  const { def, decision, mismatch, policy, now } = input;
  const id = def.id;
  switch (decision.action) {
    case 'HOLD':
      return { kind: 'none', why: `${decision.rule}: hold` };
    case 'EMERGENCY_CLOSE':
    case 'HEDGE':
      return { kind: 'none', why: `${decision.rule} returned ${decision.action}, which only a broken strategy takes; ignored` };
    case 'ALERT_ONLY': {
      const tag = decision.metadata['situation'];
      const situation = `${decision.rule}:${typeof tag === 'string' ? tag : ''}`;
      const key = `rule:${id}:${situation}:${now}`;
      return {
        kind: 'alert',
        situation,
        alert: {
          severity: 'warning',
          key,
          title: `${decision.rule}: ${id}`,
          text: `${id}: ${decision.reason}. Nothing is sent; a person decides.`,
          facts: { strategyId: id, rule: decision.rule, urgency: decision.urgency, ...decision.metadata },
        },
        journal: [{ type: 'decision', key: `dec:${id}:alert:${situation}:${now}`, data: decision, incidentId: null }],
      };
    }
    case 'CLOSE':
      break;
  }
  if (mismatch === null) {
    return { kind: 'close', decision, journal: [{ type: 'decision', key: `dec:${id}:exit:${now}`, data: decision, incidentId: null }] };
  }
  const incidentId = IncidentId.unsafe(`${id}:unknown:${now}`);
  const reason = `normal close refused: ${mismatch}`;
  const emergency: Decision = {
    ...decision,
    action: policy === 'close' ? 'EMERGENCY_CLOSE' : policy === 'hedge' ? 'HEDGE' : 'ALERT_ONLY',
    reason: `${decision.rule} wanted an ordinary close, but ${mismatch}; emergency path instead`,
    urgency: 'IMMEDIATE',
  };
  return {
    kind: 'emergency',
    decision: emergency,
    incidentId,
    broken: { cause: 'unknown', kind: null, incidentId, leg: mismatch, qty: 0, at: now, reason },
    primary: {
      strategyId: id,
      cause: 'unknown',
      kind: null,
      contract: def.legs[0]!.contract,
      before: Qty.zero,
      change: Qty.zero,
      settles: null,
      brokerAt: now,
      reason: mismatch,
    },
    reason,
    journal: [
      { type: 'decision', key: `dec:${id}:refused:${now}`, data: { refused: decision, because: mismatch }, incidentId },
      { type: 'decision', key: `dec:${incidentId}:${now}`, data: emergency, incidentId },
    ],
  };
}
