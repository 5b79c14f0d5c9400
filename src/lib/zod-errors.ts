import type { z } from 'zod';
import { LegguardError, type ErrorCode } from '../core/errors.js';

/** `guard.onAssignment`, `strategies[1].legs[0].strike`: the path of a bad value as a person would write it. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? '(top level)' : out;
}

/**
 * Turns a failed zod parse into one LegguardError naming the file, every bad field and the problem, e.g.
 * `config.yaml: guard.onAssignment: expected one of close|hedge|alert, got "closee"`.
 */
export function zodToError(code: ErrorCode, file: string, error: z.ZodError, prefix: readonly PropertyKey[] = []): LegguardError {
  const problems = error.issues.map((i) => `${fieldPath([...prefix, ...i.path])}: ${i.message}`);
  const first = problems[0] ?? 'invalid';
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more: ${problems.slice(1).join('; ')})` : '';
  return new LegguardError(code, `${file}: ${first}${more}`, {
    file,
    field: fieldPath([...prefix, ...(error.issues[0]?.path ?? [])]),
    problems,
  });
}
