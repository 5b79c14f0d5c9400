import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { OpenStoreOptions } from '../adapters/store/open-store.js';
import { DEFAULT_CONFIG_FILE, storeOptions, type LegguardConfig } from '../app/config.js';
import { configuredAccounts, knownAccount } from '../app/known-account.js';
import { describeStore } from '../app/store-description.js';
import { LegguardError } from '../core/errors.js';
import { AccountId } from '../core/ids.js';
import type { StorePort } from '../ports/store.js';
import type { CommandIo } from './command.js';
import { openCommandStore, type StoreDeps } from './command-store.js';
import { resolveConfig } from './config-source.js';

/** The data directory when there is no config file and no `--data-dir` (the SQLite file is `<dir>/legguard.db`). */
export const DEFAULT_DATA_DIR = 'data';

/** The account of the built-in config until the store or `--account` names one (never shown). */
const UNSETTLED = 'UNSETTLED';

export interface AccountsStore {
  /** The config file's, or the built-in one (no config file); its `account` is only meaningful with a file. */
  readonly config: LegguardConfig;
  /** Whether a config file was read: its accounts are known even before the store holds anything of them. */
  readonly fromFile: boolean;
  readonly options: OpenStoreOptions;
  /** Open; the caller closes it. */
  readonly store: StorePort;
  /** The accounts the config file names (none without one). */
  readonly configured: readonly AccountId[];
  /** Every account there is: the config's and those the store holds, sorted. */
  readonly accounts: readonly AccountId[];
  /** `--account` as given, not yet checked. */
  readonly given: string | undefined;
}

/**
 * The store of a command about one account or several, and the accounts there are: the config's (`--config`, or
 * legguard.yaml here) with `--data-dir` on top; without a config file, `--data-dir` (default `data`) or DATABASE_URL,
 * so a store can be read without a config. Which account (or accounts) the command is about is then settled by
 * `readAccounts` (readers: every account, or the one named) or `actingAccount` (writers: exactly one).
 * `create: false`: a store that does not exist is NOT_FOUND and is not created.
 */
export async function openAccountsStore(
  values: Readonly<Record<string, unknown>>,
  io: CommandIo,
  deps: StoreDeps,
  now: number,
  opts: { readonly create?: boolean; readonly beforeOpen?: (config: LegguardConfig) => void } = {},
): Promise<AccountsStore> {
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined);
  const configFile = str('config') ?? (existsSync(resolve(io.cwd, DEFAULT_CONFIG_FILE)) ? DEFAULT_CONFIG_FILE : undefined);
  const fromFile = configFile !== undefined;
  const dataDir = str('data-dir') ?? (fromFile ? undefined : DEFAULT_DATA_DIR);
  const config = await resolveConfig({ config: configFile, account: fromFile ? undefined : UNSETTLED, dataDir, allAccounts: true }, io, now);
  // Checks of the config before the store is opened: a refused flag opens (or creates) nothing.
  opts.beforeOpen?.(config);
  const options = storeOptions(config);
  const store = await openCommandStore(options, deps, opts.create ?? false, io);
  try {
    const configured = fromFile ? configuredAccounts(config) : [];
    const accounts = [...new Set([...configured, ...(await store.accounts())])].sort();
    return { config, fromFile, options, store, configured, accounts, given: str('account') };
  } catch (e) {
    await store.close();
    throw e;
  }
}

/**
 * What a reader (`status`, `dashboard`) shows: the account `--account` names, checked against those there are (one
 * not there is NOT_FOUND naming those that are, rather than an empty report that would hide a typo), or every one.
 * `primary` is the one a one-account reader sees first: the one named, else the config's, else the store's first.
 */
export function readAccounts(where: AccountsStore): { readonly selected: AccountId | null; readonly primary: AccountId; readonly config: LegguardConfig } {
  const selected = where.given !== undefined ? knownAccount(where.given, where.accounts, describeStore(where.options)) : null;
  const primary = selected ?? where.configured[0] ?? where.accounts[0];
  if (primary === undefined) {
    throw new LegguardError('NOT_FOUND', `${describeStore(where.options)} holds no account yet (no guard has run on it, nothing was added): give the guard's --config`);
  }
  return { selected, primary, config: where.fromFile ? where.config : { ...where.config, account: primary } };
}

/**
 * The one account a command acts on (`ack`, `halt`, `reduce-only`, `resume`): `--account`, which must be one there
 * is (the config's or the store's; NOT_FOUND naming them otherwise), except in a store that holds no account yet
 * when `allowNew` (a halt set before any guard ran); else the config's account; else, without a config file, the
 * store's only account. Several and none named is INVALID_INPUT listing them: an action never lands on an account by
 * a guess.
 */
export function actingAccount(where: AccountsStore, allowNew: boolean): AccountId {
  const place = describeStore(where.options);
  if (where.given !== undefined) {
    if (allowNew && where.accounts.length === 0) return AccountId.parse(where.given);
    return knownAccount(where.given, where.accounts, place);
  }
  const candidates = where.fromFile ? where.configured : where.accounts;
  if (candidates.length === 1) return candidates[0]!;
  throw new LegguardError(
    'INVALID_INPUT',
    candidates.length === 0
      ? `${place} holds no account yet: name one with --account (or give the guard's --config)`
      : `${where.fromFile ? 'the config names' : `${place} holds`} ${candidates.length} accounts (${candidates.join(', ')}): name one with --account`,
  );
}
