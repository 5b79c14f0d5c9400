import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { OpenStoreOptions } from '../adapters/store/open-store.js';
import { DEFAULT_CONFIG_FILE, storeOptions, type LegguardConfig } from '../app/config.js';
import { configuredAccounts, knownAccount } from '../app/known-account.js';
import { describeStore } from '../app/store-description.js';
import { LegguardError } from '../core/errors.js';
import type { AccountId } from '../core/ids.js';
import type { StorePort } from '../ports/store.js';
import type { CommandIo } from './command.js';
import { openCommandStore, type StoreDeps } from './command-store.js';
import { resolveConfig } from './config-source.js';

/** The data directory when there is no config file and no `--data-dir` (the SQLite file is `<dir>/legguard.db`). */
export const DEFAULT_DATA_DIR = 'data';

/** The account of the built-in config until the store names one (never shown: a store with none is refused). */
const UNSETTLED = 'UNSETTLED';

export interface AccountsStore {
  readonly config: LegguardConfig;
  readonly options: OpenStoreOptions;
  /** Open; the caller closes it. */
  readonly store: StorePort;
  /** Every account there is: the config's and those the store holds, sorted. Never empty. */
  readonly accounts: readonly AccountId[];
  /** The account `--account` named (checked against `accounts`), or null: every one. */
  readonly selected: AccountId | null;
  /** The account a one-account reader sees first: the one named, else the config's, else the store's first. */
  readonly primary: AccountId;
}

/**
 * The store of a command that reads every account (`status`, `dashboard`): the config's (`--config`, or legguard.yaml
 * here) with `--data-dir` on top; without a config file, `--data-dir` (default `data`) or DATABASE_URL, so a store
 * can be read without knowing its accounts. `--account` selects one of the accounts there are (the config's or the
 * store's); one that is not there is NOT_FOUND naming those that are, rather than an empty report that would hide a
 * typo. A store that does not exist is NOT_FOUND and is not created.
 */
export async function openAccountsStore(
  values: Readonly<Record<string, unknown>>,
  io: CommandIo,
  deps: StoreDeps,
  now: number,
  /** Checks of the config made before the store is opened (a refused flag opens nothing). */
  beforeOpen: (config: LegguardConfig) => void = () => undefined,
): Promise<AccountsStore> {
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined);
  const configFile = str('config') ?? (existsSync(resolve(io.cwd, DEFAULT_CONFIG_FILE)) ? DEFAULT_CONFIG_FILE : undefined);
  const dataDir = str('data-dir') ?? (configFile === undefined ? DEFAULT_DATA_DIR : undefined);
  // Without a config file, the built-in defaults; its account is settled once the store says which there are.
  const config = await resolveConfig({ config: configFile, account: configFile === undefined ? UNSETTLED : undefined, dataDir }, io, now);
  beforeOpen(config);
  const options: OpenStoreOptions = storeOptions(config);
  const store = await openCommandStore(options, deps, false, io);
  try {
    const configured = configFile !== undefined ? configuredAccounts(config) : [];
    const accounts = [...new Set([...configured, ...(await store.accounts())])].sort();
    const given = str('account');
    const selected = given !== undefined ? knownAccount(given, accounts, describeStore(options)) : null;
    const primary = selected ?? configured[0] ?? accounts[0];
    if (primary === undefined) {
      throw new LegguardError('NOT_FOUND', `${describeStore(options)} holds no account yet (no guard has run on it, nothing was added): give the guard's --config`);
    }
    return { config: configFile !== undefined ? config : { ...config, account: primary }, options, store, accounts, selected, primary };
  } catch (e) {
    await store.close();
    throw e;
  }
}
