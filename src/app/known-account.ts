import { LegguardError } from '../core/errors.js';
import { AccountId } from '../core/ids.js';
import type { LegguardConfig } from './config.js';

/**
 * The account a reader names, checked against those there are: unknown is NOT_FOUND naming it and listing them.
 * `where` says what was looked in (`SQLite /data/legguard.db`, `this guard`).
 */
export function knownAccount(name: string, known: readonly AccountId[], where: string): AccountId {
  const account = AccountId.parse(name);
  if (known.includes(account)) return account;
  throw new LegguardError(
    'NOT_FOUND',
    `no account ${account} in ${where}; ${known.length === 0 ? 'it has no account yet' : `its accounts: ${known.join(', ')}`}`,
    { account },
  );
}

/**
 * The accounts a config names for this process to guard. Status, the dashboard and the commands that act on one
 * account read it here, so that they follow the config's shape in one place.
 */
export function configuredAccounts(config: Pick<LegguardConfig, 'accounts'>): readonly AccountId[] {
  return config.accounts.map((a) => a.account);
}
