import { expiryClose, formatNyTime } from './calendar.js';
import { contractKey, describeContract, isOption } from './contract.js';
import type { Leg } from './leg.js';

/** A problem with one leg of a strategy as a person wrote it: `index` is the leg's place in the strategy's `legs`. */
export interface LegProblem {
  readonly index: number;
  readonly message: string;
}

/**
 * What is wrong with a strategy's legs at `now`, leg by leg: an option that has already expired (its last trading
 * session closed), and a contract written twice (legs are one per contract; the quantities are not added up, so the
 * person says which they meant). Pure: the clock is the caller's.
 */
export function legProblems(legs: readonly Leg[], now: number): LegProblem[] {
  const problems: LegProblem[] = [];
  const seen = new Map<string, number>();
  legs.forEach((leg, index) => {
    const c = leg.contract;
    const key = contractKey(c);
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push({ index, message: `${describeContract(c)} is already legs[${first}]: write each contract once, with its whole quantity` });
    } else {
      seen.set(key, index);
    }
    if (isOption(c)) {
      const close = expiryClose(c.expiry);
      if (now >= close) problems.push({ index, message: `${describeContract(c)} expired at ${formatNyTime(close)}` });
    }
  });
  return problems;
}
