import { LegguardError } from '../../core/errors.js';

/**
 * The checks and conversions every store implementation shares, so that SQLite, Postgres and memory round-trip the
 * same values the same way: JSON text for structured values (what JSON keeps is what comes back: `undefined` fields
 * vanish, `-0` becomes `0`), plain text only where it is well-formed Unicode without NUL (Postgres refuses NUL in
 * text, and a lone surrogate cannot be encoded as UTF-8 without loss).
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Throws INVALID_INPUT naming `what` when `value` is not a string a text column keeps exactly. */
export function checkText(value: unknown, what: string, opts: { nonEmpty?: boolean } = {}): string {
  if (typeof value !== 'string') {
    throw new LegguardError('INVALID_INPUT', `${what} must be a string; got ${describe(value)}`, { field: what });
  }
  if (opts.nonEmpty === true && value.length === 0) {
    throw new LegguardError('INVALID_INPUT', `${what} must not be empty`, { field: what });
  }
  if (value.includes('\u0000')) {
    throw new LegguardError('INVALID_INPUT', `${what} must not contain a NUL character`, { field: what });
  }
  if (LONE_SURROGATE.test(value)) {
    throw new LegguardError('INVALID_INPUT', `${what} is not well-formed Unicode (a lone surrogate)`, { field: what });
  }
  return value;
}

export function checkNullableText(value: unknown, what: string): string | null {
  return value === null ? null : checkText(value, what);
}

/** Times and other stored numbers must be finite and, for integer columns, safe integers. */
export function checkInt(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new LegguardError('INVALID_INPUT', `${what} must be a whole number; got ${describe(value)}`, { field: what });
  }
  return value === 0 ? 0 : value;
}

export function checkNullableInt(value: unknown, what: string): number | null {
  return value === null ? null : checkInt(value, what);
}

export function checkFinite(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new LegguardError('INVALID_INPUT', `${what} must be a finite number; got ${describe(value)}`, { field: what });
  }
  return value === 0 ? 0 : value;
}

export function checkOneOf<T extends string>(value: unknown, allowed: readonly T[], what: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new LegguardError('INVALID_INPUT', `${what} must be one of ${allowed.join(', ')}; got ${describe(value)}`, {
      field: what,
    });
  }
  return value as T;
}

/** JSON text of `value`; INVALID_INPUT naming `what` when JSON cannot hold it (a cycle, a BigInt, undefined). */
export function encodeJson(value: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw new LegguardError('INVALID_INPUT', `${what} cannot be stored as JSON: ${e instanceof Error ? e.message : String(e)}`, {
      field: what,
    });
  }
  if (text === undefined) {
    throw new LegguardError('INVALID_INPUT', `${what} cannot be stored as JSON: it is ${describe(value)}; use null`, {
      field: what,
    });
  }
  return text;
}

/** Parses JSON text read back from the store; STORE_CORRUPT naming where when it does not parse. */
export function decodeJson(text: unknown, where: string): unknown {
  if (typeof text !== 'string') {
    throw new LegguardError('STORE_CORRUPT', `${where}: expected JSON text, found ${describe(text)}`, { where });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new LegguardError('STORE_CORRUPT', `${where}: damaged JSON (${e instanceof Error ? e.message : String(e)})`, {
      where,
    });
  }
}

/** A value read back from a column that must hold one of `allowed`; STORE_CORRUPT otherwise. */
export function storedOneOf<T extends string>(value: unknown, allowed: readonly T[], where: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new LegguardError('STORE_CORRUPT', `${where}: unknown value ${describe(value)} (expected ${allowed.join(', ')})`, {
      where,
    });
  }
  return value as T;
}

/** A number read back from an integer column (Postgres `bigint` arrives parsed; see the Postgres dialect). */
export function storedInt(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new LegguardError('STORE_CORRUPT', `${where}: expected a whole number, found ${describe(value)}`, { where });
  }
  return value;
}

export function storedNullableInt(value: unknown, where: string): number | null {
  return value === null ? null : storedInt(value, where);
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'bigint') return `${value}n (a BigInt)`;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
  if (value === null) return 'null';
  return typeof value;
}
