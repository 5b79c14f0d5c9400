import { LegguardError } from './errors.js';

/**
 * A strategy's life. PENDING from the moment it is written (`strategies add`/`import`, the config file) until a
 * guard finds every leg at the broker: it holds nothing meanwhile, so nothing on its contracts is ever its detection
 * and nothing is sent for it (a leg typed wrong, or not yet traded, is reported as not at the broker, never as an
 * assignment or a trade). OPEN, guarded, until something happens; CLOSING on an ordinary exit; BROKEN the moment a
 * leg changes for a reason that is not the guard's own order; EMERGENCY_CLOSING while the guard closes what is left;
 * NEEDS_ATTENTION when it cannot finish (rejects, no fill within the bound, policy says a person decides); CLOSED
 * when the strategy holds nothing.
 */
export const STRATEGY_STATES = ['PENDING', 'OPEN', 'CLOSING', 'CLOSED', 'BROKEN', 'EMERGENCY_CLOSING', 'NEEDS_ATTENTION'] as const;
export type StrategyState = (typeof STRATEGY_STATES)[number];

export type StrategyTransition =
  /** The broker shows every leg: the strategy holds them from now on and is guarded. */
  | 'adopted'
  /** An ordinary exit (a rule decided to close a whole strategy). */
  | 'close-requested'
  /** A change on one of its contracts that was not the guard's own fill. */
  | 'broke'
  /** The guard starts sending closing orders for a broken strategy. */
  | 'emergency-started'
  /** The strategy holds nothing any more. */
  | 'flat'
  /** The close cannot complete without a person. */
  | 'gave-up'
  /** A person (or a new plan after reconnect) resumes the emergency close. */
  | 'resumed';

// PENDING leaves only by 'adopted': it holds nothing, so no detection, exit or close can be about it.
const TABLE: Record<StrategyTransition, Partial<Record<StrategyState, StrategyState>>> = {
  adopted: { PENDING: 'OPEN' },
  'close-requested': { OPEN: 'CLOSING', CLOSING: 'CLOSING' },
  broke: {
    OPEN: 'BROKEN',
    CLOSING: 'BROKEN',
    BROKEN: 'BROKEN',
    EMERGENCY_CLOSING: 'EMERGENCY_CLOSING',
    NEEDS_ATTENTION: 'NEEDS_ATTENTION',
  },
  'emergency-started': { BROKEN: 'EMERGENCY_CLOSING', EMERGENCY_CLOSING: 'EMERGENCY_CLOSING' },
  flat: {
    OPEN: 'CLOSED',
    CLOSING: 'CLOSED',
    BROKEN: 'CLOSED',
    EMERGENCY_CLOSING: 'CLOSED',
    NEEDS_ATTENTION: 'CLOSED',
    CLOSED: 'CLOSED',
  },
  'gave-up': { CLOSING: 'NEEDS_ATTENTION', BROKEN: 'NEEDS_ATTENTION', EMERGENCY_CLOSING: 'NEEDS_ATTENTION', NEEDS_ATTENTION: 'NEEDS_ATTENTION' },
  resumed: { NEEDS_ATTENTION: 'EMERGENCY_CLOSING', BROKEN: 'EMERGENCY_CLOSING', EMERGENCY_CLOSING: 'EMERGENCY_CLOSING' },
};

export function canTransition(from: StrategyState, t: StrategyTransition): boolean {
  return TABLE[t][from] !== undefined;
}

/** The next state, or INVALID_TRANSITION (a programming error: the caller asked for something the machine forbids). */
export function transition(from: StrategyState, t: StrategyTransition): StrategyState {
  const to = TABLE[t][from];
  if (to === undefined) {
    throw new LegguardError('INVALID_TRANSITION', `strategy state ${from} does not allow '${t}'`, { from, transition: t });
  }
  return to;
}

/** States in which the guard still owes work: it must resume them after a restart. */
export function isActiveIncident(s: StrategyState): boolean {
  return s === 'BROKEN' || s === 'EMERGENCY_CLOSING';
}

export function isTerminal(s: StrategyState): boolean {
  return s === 'CLOSED';
}
