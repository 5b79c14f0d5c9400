import { contractKey } from '../contract.js';
import type { Detection } from '../detection.js';
import type { ExecutionReport } from '../events.js';
import type { ContractKey } from '../ids.js';
import type { Leg } from '../leg.js';
import { Qty } from '../quantity.js';
import { groupPositions, type Grouping } from './group-positions.js';
import { tradedTogether } from './traded-together.js';

/** What the guard does with a structure the account holder opens while it runs (`guard.newPositions`). */
export const NEW_POSITIONS_MODES = ['adopt', 'propose', 'ignore'] as const;
export type NewPositionsMode = (typeof NEW_POSITIONS_MODES)[number];

export interface NewStructuresInput {
  /** Detections of one pass on positions outside any strategy. */
  readonly detections: readonly Detection[];
  /** The executions not the guard's that the pass had (their perm ids tell a combo's legs). */
  readonly executions: readonly ExecutionReport[];
  /** Contracts a strategy holds or (PENDING) claims: a trade there is that strategy's business, never a new one. */
  readonly held: ReadonlySet<ContractKey>;
  readonly takenIds: ReadonlySet<string>;
}

/**
 * The structures the account holder just opened (issue 13, `guard.newPositions`). Pure. Of the pass's outside
 * detections, those the detector put down to the holder's own trade (`manual`, an execution explains it) that open
 * or grow a position, on contracts no strategy holds, are grouped as a book of their own: the opened quantity only
 * (a short put sold beside one held for weeks is a new 1-lot, the old one stays where it was), the legs of one combo
 * order kept together. A trade on a held contract proposes nothing on that contract, nor on the other legs of its
 * combo order.
 *
 * @example
 *   newStructures({ detections: [4 manual opens of an iron condor's legs], executions: [4 legs, one perm id], ... })
 *   // proposals: [spy-iron-condor-...], ungrouped: []
 */
export function newStructures(input: NewStructuresInput): Grouping {
  const together = tradedTogether(input.executions);
  // A combo with a leg on a held contract is a trade on that strategy (today's handling): none of its legs is new.
  const off = new Set(input.held);
  for (const combo of together) {
    const keys = combo.map((l) => contractKey(l.contract));
    if (keys.some((k) => input.held.has(k))) for (const k of keys) off.add(k);
  }
  const opened: Leg[] = [];
  for (const d of input.detections) {
    if (d.strategyId !== null || d.cause !== 'manual' || off.has(contractKey(d.contract))) continue;
    const q = openedQty(d.before, d.change);
    if (q !== 0) opened.push({ contract: d.contract, qty: Qty.unsafe(q) });
  }
  if (opened.length === 0) return { proposals: [], ungrouped: [] };
  return groupPositions({ positions: opened, together, takenIds: input.takenIds });
}

/** The part of a change that opens: all of it away from zero, what lies beyond zero on a flip, nothing toward zero. */
export function openedQty(before: number, change: number): number {
  const after = before + change;
  if (after === 0) return 0;
  if (before === 0 || Math.sign(after) !== Math.sign(before)) return after;
  return Math.abs(after) > Math.abs(before) ? change : 0;
}
