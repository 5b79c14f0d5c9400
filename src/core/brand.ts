/**
 * Nominal typing for primitives. A `Brand<string, 'StrategyId'>` is a string at run time, but the compiler will not
 * let a plain string (or an `OrderRef`) stand in for it. Every branded type comes with a checked parser and an
 * unchecked constructor, in the manner of Effect's `Brand` and Nautilus' `new_checked`.
 *
 * @example
 *   const id = StrategyId.parse(input);   // throws LegguardError('INVALID_INPUT') on a bad value
 *   const known = StrategyId.unsafe('ic-spy'); // for values that were already checked (store rows, tests)
 */
declare const brandTag: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brandTag]: B };
