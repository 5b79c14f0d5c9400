import { open } from 'node:fs/promises';
import { CORE_SCHEMA, load } from 'js-yaml';
import { parseDocument } from 'yaml';
import { LegguardError, type ErrorCode } from '../core/errors.js';

/**
 * The largest config, scenario or strategies file legguard reads: 10,000 iron condors written out in block YAML
 * take about 5 MiB, so a book of that size fits with room; far below what would strain the memory.
 */
export const MAX_USER_FILE_BYTES = 16 * 1024 * 1024;

/**
 * How many alias expansions (`*name`, weighted by the size of what they repeat) one file may use: enough for the
 * shared blocks a person writes, far below an alias bomb ("billion laughs").
 */
export const MAX_YAML_ALIAS_COUNT = 100;

/**
 * Reads a file a person wrote; a missing, unreadable or oversized one (over {@link MAX_USER_FILE_BYTES}) is `code`
 * naming the file and what it was for. The size is checked on the open file before reading, and the read stops at
 * the limit, so a file that grows meanwhile (or a device) cannot fill the memory.
 */
export async function readUserFile(file: string, code: ErrorCode, what: string): Promise<string> {
  const fail = (why: string, cause?: unknown): LegguardError =>
    new LegguardError(code, `${file}: cannot read the ${what}: ${why}`, { file }, cause !== undefined ? { cause } : undefined);
  const tooBig = (): LegguardError => fail(`larger than ${MAX_USER_FILE_BYTES / (1024 * 1024)} MiB (the limit for a file legguard reads)`);
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (e) {
    throw fail(errnoWhy(e), e);
  }
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw fail('it is a directory');
    if (st.size > MAX_USER_FILE_BYTES) throw tooBig();
    // Read in chunks up to the limit, never trusting the size stated: a file may grow meanwhile, a device has none.
    const chunks: Buffer[] = [];
    let used = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(MAX_USER_FILE_BYTES + 1 - used, Math.max(st.size + 1 - used, 64 * 1024)));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      used += bytesRead;
      if (used > MAX_USER_FILE_BYTES) throw tooBig();
    }
    return Buffer.concat(chunks, used).toString('utf8');
  } catch (e) {
    if (LegguardError.is(e)) throw e;
    throw fail(errnoWhy(e), e);
  } finally {
    await handle.close();
  }
}

function errnoWhy(e: unknown): string {
  const errno = (e as NodeJS.ErrnoException).code;
  if (errno === 'ENOENT') return 'no such file';
  if (errno === 'EACCES') return 'permission denied';
  if (errno === 'EISDIR') return 'it is a directory';
  return (e as Error).message;
}

/**
 * Parses YAML (or JSON) that must be a mapping: bad YAML is `code` naming the file, the line and the column; anything
 * but a mapping is `code` with `expected` as the explanation. Duplicate keys are errors (a second `guard:` must not
 * silently replace the first). A file over a resource limit (too many aliases, nesting too deep for the parser) is
 * `code` with one line naming the file and the limit, never an internal error.
 */
export function parseYamlMapping(text: string, file: string, code: ErrorCode, expected: string): Record<string, unknown> {
  if (text.length > MAX_USER_FILE_BYTES) {
    throw new LegguardError(code, `${file}: larger than ${MAX_USER_FILE_BYTES / (1024 * 1024)} MiB (the limit for a file legguard reads)`, { file, field: '(yaml)' });
  }
  let raw: unknown = readPlainYaml(text);
  if (raw === NOT_PLAIN) raw = readYamlDocument(text, file, code);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new LegguardError(code, `${file}: ${expected}`, { file, field: '(top level)' });
  }
  return raw as Record<string, unknown>;
}

const NOT_PLAIN = Symbol('not plain YAML');

/**
 * The fast path, about ten times quicker on a config of 10,000 strategies (2 s -> 0.2 s here): js-yaml on the YAML
 * 1.2 core schema, with no aliases at all. Anything it does not read that way (an alias, an unknown tag, an error,
 * more than one document) goes to the full reader below, whose alias limit and error messages (line, column) are the
 * ones a person sees; both read the core schema, so a file both accept reads the same (a differential test holds
 * them to it).
 */
function readPlainYaml(text: string): unknown {
  try {
    return load(text, { schema: CORE_SCHEMA, maxAliases: 0 });
  } catch {
    return NOT_PLAIN;
  }
}

/** The full reader (the `yaml` library): alias expansions limited, the first error with its line and column. */
function readYamlDocument(text: string, file: string, code: ErrorCode): unknown {
  try {
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) {
      const first = doc.errors[0]!;
      const where = first.linePos?.[0] ? `line ${first.linePos[0].line}, column ${first.linePos[0].col}` : 'unknown position';
      throw new LegguardError(code, `${file}: not valid YAML at ${where}: ${first.message.split('\n')[0]}`, { file, field: '(yaml)' });
    }
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT });
  } catch (e) {
    if (LegguardError.is(e)) throw e;
    throw new LegguardError(code, `${file}: ${resourceWhy(e)}`, { file, field: '(yaml)' }, { cause: e });
  }
}

/** What the YAML library or the runtime said, as one line a person can act on. */
function resourceWhy(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  if (/alias/i.test(msg)) {
    return `too many YAML aliases (more than ${MAX_YAML_ALIAS_COUNT} expansions; an alias bomb?): write the values out instead`;
  }
  if (e instanceof RangeError) return 'YAML nested too deeply or too large to read';
  return `cannot read the YAML: ${msg.split('\n')[0]}`;
}
