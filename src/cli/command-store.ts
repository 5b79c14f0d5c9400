import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SystemClock } from '../adapters/clock/system-clock.js';
import { openStore, SQLITE_FILE, type OpenStoreOptions } from '../adapters/store/open-store.js';
import { storeOptions, type LegguardConfig } from '../app/config.js';

export { storeOptions };
export { describeStore } from '../app/store-description.js';
import { LegguardError } from '../core/errors.js';
import type { Clock } from '../ports/clock.js';
import type { StorePort } from '../ports/store.js';
import type { CommandIo } from './command.js';
import { resolveConfig } from './config-source.js';

/** What the store commands (`status`, `strategies`, `ack`) get, so tests can open a store with a size cap. */
export interface StoreDeps {
  readonly openStore: (opts: OpenStoreOptions) => Promise<StorePort>;
  readonly clock: Clock;
}

export const defaultStoreDeps: StoreDeps = { openStore, clock: new SystemClock() };

/** The options `parseCommandArgs` takes for the flags that locate the config and the store. */
export const STORE_FLAGS = {
  config: { type: 'string' },
  account: { type: 'string' },
  'data-dir': { type: 'string' },
} as const;

/** `legguard <cmd> [--config FILE] [--account ID] [--data-dir DIR]`, for usage lines. */
export const STORE_FLAGS_USAGE = '[--config legguard.yaml] [--account ID] [--data-dir DIR]   (Postgres: DATABASE_URL, or database.urlEnv)';

/** The config a store command runs with: as `legguard run` resolves it, with `--data-dir` and `--account` on top. */
export function storeCommandConfig(values: Readonly<Record<string, unknown>>, io: CommandIo, now: number): Promise<LegguardConfig> {
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined);
  return resolveConfig({ config: str('config'), account: str('account'), dataDir: str('data-dir') }, io, now);
}

/**
 * Opens the store a command works on. With `create: false` an SQLite file that is not there is NOT_FOUND rather than
 * a fresh, empty database: reading or acknowledging in an empty store would only hide a wrong path. Commands that
 * add strategies create it, as the guard does at its first start.
 */
export async function openCommandStore(opts: OpenStoreOptions, deps: StoreDeps, create: boolean, io?: Pick<CommandIo, 'stderr'>): Promise<StorePort> {
  const url = opts.databaseUrl ?? '';
  if (!create && url === '' && !existsSync(join(opts.dataDir, SQLITE_FILE))) {
    throw new LegguardError(
      'NOT_FOUND',
      `no legguard database at ${join(opts.dataDir, SQLITE_FILE)} (give the guard's --config or --data-dir, or set DATABASE_URL)`,
      { dataDir: opts.dataDir },
    );
  }
  // A data directory or database open to group/others is said once on stderr (stdout stays the command's output).
  return deps.openStore(io !== undefined ? { ...opts, warn: (m) => io.stderr.write(`warning: ${m}\n`) } : opts);
}
