import type { AccountId, IncidentId, StrategyId } from './ids.js';
import type { Leg } from './leg.js';
import type { EpochMs } from './quantity.js';
import type { BreakCause, BreakKind } from './detection.js';

export const STRATEGY_KINDS = [
  'iron-condor',
  'iron-butterfly',
  'vertical',
  'strangle',
  'straddle',
  'butterfly',
  'covered-call',
  'cash-secured-put',
  'calendar',
  'diagonal',
  'collar',
  'ratio-spread',
  'custom',
] as const;
export type StrategyKind = (typeof STRATEGY_KINDS)[number];

/** What the guard does when a strategy breaks. `close` (default), `hedge` (stock only), `alert` (no orders). */
export type BreakPolicy = 'close' | 'hedge' | 'alert';

/** A strategy as the user defines it: what it was opened with. Never used to plan a close (holdings are). */
export interface StrategyDefinition {
  readonly id: StrategyId;
  readonly account: AccountId;
  readonly kind: StrategyKind;
  readonly legs: readonly Leg[];
  /** Overrides the guard's global policy for this strategy. */
  readonly policy?: BreakPolicy;
  /** Order of creation; attribution of an ambiguous change on a shared contract goes to the oldest first. */
  readonly createdAt: EpochMs;
}

/** Why and how a strategy broke: set once, at the first break, and kept. */
export interface BrokenInfo {
  readonly cause: BreakCause;
  /** EARLY before the expiry date's close, EXPIRATION at it; null where the cause has no such notion. */
  readonly kind: BreakKind | null;
  readonly incidentId: IncidentId;
  /** The leg whose change broke it, in `describeContract` form, and by how much (signed change of the holding). */
  readonly leg: string;
  readonly qty: number;
  readonly at: EpochMs;
  readonly reason: string;
}
