import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { LegguardError, type ErrorCode } from '../core/errors.js';

/** Reads a file a person wrote; a missing or unreadable one is `code` naming the file and what it was for. */
export async function readUserFile(file: string, code: ErrorCode, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code;
    const why = errno === 'ENOENT' ? 'no such file' : errno === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new LegguardError(code, `${file}: cannot read the ${what}: ${why}`, { file }, { cause: e });
  }
}

/**
 * Parses YAML (or JSON) that must be a mapping: bad YAML is `code` naming the file, the line and the column; anything
 * but a mapping is `code` with `expected` as the explanation. Duplicate keys are errors (a second `guard:` must not
 * silently replace the first).
 */
export function parseYamlMapping(text: string, file: string, code: ErrorCode, expected: string): Record<string, unknown> {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const where = first.linePos?.[0] ? `line ${first.linePos[0].line}, column ${first.linePos[0].col}` : 'unknown position';
    throw new LegguardError(code, `${file}: not valid YAML at ${where}: ${first.message.split('\n')[0]}`, { file, field: '(yaml)' });
  }
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new LegguardError(code, `${file}: ${expected}`, { file, field: '(top level)' });
  }
  return raw as Record<string, unknown>;
}
