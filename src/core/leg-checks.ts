import { expiryClose, formatNyTime } from './calendar.js';
import { contractKey, describeContract, isOption } from './contract.js';
import type { Leg } from './leg.js';

/** A problem with one leg of a strategy as a person wrote it: `index` is the leg's place in the strategy's `legs`. */
export interface LegProblem {
  readonly index: number;
  readonly message: string;
}

/**
 * A contract written twice in one strategy: legs are one per contract, and the quantities are not added up behind the
 * person's back (which of the two did they mean?), so the second is refused naming the first.
 */
export function duplicateLegs(legs: readonly Leg[]): LegProblem[] {
  const problems: LegProblem[] = [];
  const seen = new Map<string, number>();
  legs.forEach((leg, index) => {
    const key = contractKey(leg.contract);
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push({ index, message: `${describeContract(leg.contract)} is already legs[${first}]: write each contract once, with its whole quantity` });
    } else {
      seen.set(key, index);
    }
  });
  return problems;
}

/** Option legs whose last trading session has closed at `now` (the caller's clock): nothing is left to guard there. */
export function expiredLegs(legs: readonly Leg[], now: number): LegProblem[] {
  const problems: LegProblem[] = [];
  legs.forEach((leg, index) => {
    const c = leg.contract;
    if (!isOption(c)) return;
    const close = expiryClose(c.expiry);
    if (now >= close) problems.push({ index, message: `${describeContract(c)} expired at ${formatNyTime(close)}` });
  });
  return problems;
}
