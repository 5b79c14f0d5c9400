import type { Contract } from './contract.js';
import type { StrategyId } from './ids.js';
import type { EpochMs, Qty } from './quantity.js';

/**
 * Why a holding changed. `own-fill` is the guard's own order; every other cause, on a strategy's contract, breaks the
 * strategy.
 */
export const CHANGE_CAUSES = ['own-fill', 'assignment', 'exercise', 'expiration', 'manual', 'liquidation', 'unknown'] as const;
export type ChangeCause = (typeof CHANGE_CAUSES)[number];
export type BreakCause = Exclude<ChangeCause, 'own-fill'>;

/** EARLY: before the option's expiry-day close. EXPIRATION: at or after it (exercise by exception, pin risk). */
export type BreakKind = 'EARLY' | 'EXPIRATION';

/**
 * One classified change of one holder's position in one contract. The detector produces these from position
 * reports (and executions where there are any); the engine applies them to the book.
 *
 * An assignment of 2 short SPY 440 puts held by `ic-spy` is two detections: the option holding -2 -> 0
 * (`change: +2`) and the stock it created (`contract: SPY`, `change: +200`), both `cause: 'assignment'`.
 */
export interface Detection {
  /** Null for a change to positions held outside any strategy. */
  readonly strategyId: StrategyId | null;
  readonly cause: ChangeCause;
  readonly kind: BreakKind | null;
  readonly contract: Contract;
  /** The holder's quantity before, and the signed change. */
  readonly before: Qty;
  readonly change: Qty;
  /** For stock created by a settlement: the option contract that settled. */
  readonly settles: Contract | null;
  /** When the broker showed the change (the latest report that completed it). */
  readonly brokerAt: EpochMs;
  readonly reason: string;
}

/**
 * The reasons of several detections as one sentence, each clause once. The stock a settlement delivers carries its
 * option's reason with `; stock +200` added, so joining them as they are names the assignment twice.
 *
 * @example
 *   joinReasons([put440, itsStock]) // 'SPY 2026-01-30 440 P x2 assigned (EARLY): ...; stock +200'
 */
export function joinReasons(ds: readonly Pick<Detection, 'reason'>[]): string {
  const clauses = new Set<string>();
  for (const d of ds) for (const c of d.reason.split('; ')) if (c !== '') clauses.add(c);
  return [...clauses].join('; ');
}
