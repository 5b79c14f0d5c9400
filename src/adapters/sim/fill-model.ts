import { LegguardError } from '../../core/errors.js';

export const FILL_MODES = ['immediate', 'delayed', 'partial', 'reject'] as const;
export type FillMode = (typeof FILL_MODES)[number];

/**
 * How the simulated broker fills orders, chosen at run time (a scenario's `fills:` event, the control handle):
 *
 * - `immediate`: a marketable order fills in full at once, at the far side of the quote.
 * - `delayed`: a marketable order fills in full `delayMs` later, if it is still marketable then.
 * - `partial`: a marketable order fills `fraction` of its size at once (at least one unit when it has two or more),
 *   and the rest keeps working without filling until it is cancelled or the mode changes.
 * - `reject`: every new order is rejected by the broker (IB code 201).
 *
 * Orders that are not marketable work until the price comes to them, in every mode. `positionFirst` reports the
 * position before the execution for a fill (IB does not promise an order between the two).
 */
export interface FillModel {
  readonly mode: FillMode;
  readonly delayMs: number;
  readonly fraction: number;
  readonly rejectReason: string;
  readonly positionFirst: boolean;
}

export const DEFAULT_FILL_MODEL: FillModel = {
  mode: 'immediate',
  delayMs: 2_000,
  fraction: 0.5,
  rejectReason: 'simulated reject',
  positionFirst: false,
};

/** A fill model from a partial one; bad values are refused naming the field. */
export function fillModel(spec: Partial<FillModel> = {}): FillModel {
  const m: FillModel = { ...DEFAULT_FILL_MODEL, ...spec };
  if (!FILL_MODES.includes(m.mode)) {
    throw new LegguardError('INVALID_INPUT', `fill mode must be one of ${FILL_MODES.join('|')}; got ${JSON.stringify(m.mode)}`, {
      field: 'mode',
    });
  }
  if (!(Number.isFinite(m.delayMs) && m.delayMs >= 0)) {
    throw new LegguardError('INVALID_INPUT', `fill delayMs must be a number of milliseconds >= 0; got ${m.delayMs}`, { field: 'delayMs' });
  }
  if (!(Number.isFinite(m.fraction) && m.fraction > 0 && m.fraction < 1)) {
    throw new LegguardError('INVALID_INPUT', `fill fraction must be between 0 and 1 (exclusive); got ${m.fraction}`, { field: 'fraction' });
  }
  return m;
}
