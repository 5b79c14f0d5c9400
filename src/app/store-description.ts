import { join } from 'node:path';
import { SQLITE_FILE, type OpenStoreOptions } from '../adapters/store/open-store.js';
import { redactUrl } from '../adapters/store/redact-url.js';

/** The store for a person to read: the SQLite file, or the Postgres URL with its password hidden. */
export function describeStore(opts: OpenStoreOptions): string {
  const url = opts.databaseUrl ?? '';
  if (url !== '') return `Postgres ${redactUrl(url)}${opts.pgSchema !== undefined ? ` (schema ${opts.pgSchema})` : ''}`;
  return `SQLite ${join(opts.dataDir, SQLITE_FILE)}`;
}
