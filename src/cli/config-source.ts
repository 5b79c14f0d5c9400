import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_CONFIG_FILE, loadConfig, parseConfig, type LegguardConfig } from '../app/config.js';
import { LegguardError } from '../core/errors.js';
import type { AccountId } from '../core/ids.js';
import type { CommandIo } from './command.js';

export interface ConfigFlags {
  readonly config?: string | undefined;
  readonly account?: string | undefined;
  readonly dataDir?: string | undefined;
  readonly ib?: string | undefined;
  readonly clientId?: string | undefined;
  /**
   * `legguard run`: the command guards every account of `accounts:` (or the one `--account` names). Without it, a
   * command acts on one account, and a file listing several needs `--account` to say which.
   */
  readonly allAccounts?: boolean;
}

/**
 * The configuration a command runs with: `--config FILE`, else `legguard.yaml` in the working directory when there
 * is one, else the built-in defaults (then `--account` is needed); command-line flags override the file.
 */
export async function resolveConfig(flags: ConfigFlags, io: CommandIo, now: number): Promise<LegguardConfig> {
  const named = flags.config !== undefined ? resolve(io.cwd, flags.config) : null;
  const found = named ?? (existsSync(resolve(io.cwd, DEFAULT_CONFIG_FILE)) ? resolve(io.cwd, DEFAULT_CONFIG_FILE) : null);
  let c: LegguardConfig;
  if (found !== null) {
    c = await loadConfig(found, io.env, now);
  } else {
    if (flags.account === undefined) {
      throw new LegguardError('INVALID_INPUT', `no ${DEFAULT_CONFIG_FILE} here and no --config: give --account (and --ib host:port), or write a config file`);
    }
    c = parseConfig(`account: ${JSON.stringify(flags.account)}\ndataDir: ${JSON.stringify(resolve(io.cwd, 'data'))}\n`, '(command line)', io.env, now);
  }
  if (flags.account !== undefined && found !== null) c = narrowToAccount(c, parseConfig(`account: ${JSON.stringify(flags.account)}`, '--account', io.env, now).account);
  else if (c.accounts.length > 1 && flags.allAccounts !== true) {
    throw new LegguardError(
      'INVALID_INPUT',
      `${c.file ?? 'the config'} lists ${c.accounts.length} accounts (${c.accounts.map((a) => a.account).join(', ')}): name the one to act on with --account`,
    );
  }
  if (flags.dataDir !== undefined) c = { ...c, dataDir: resolve(io.cwd, flags.dataDir) };
  if (flags.ib !== undefined || flags.clientId !== undefined) {
    const base = c.broker;
    let { host, port } = base;
    if (flags.ib !== undefined) {
      const m = /^([^:]+):(\d{1,5})$/.exec(flags.ib);
      if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new LegguardError('INVALID_INPUT', `--ib must be host:port, like 127.0.0.1:7497; got ${JSON.stringify(flags.ib)}`);
      host = m[1]!;
      port = Number(m[2]);
    }
    let clientId = base.clientId;
    if (flags.clientId !== undefined) {
      if (!/^\d{1,9}$/.test(flags.clientId)) throw new LegguardError('INVALID_INPUT', `--client-id must be a whole number; got ${JSON.stringify(flags.clientId)}`);
      if (c.accounts.length > 1) {
        throw new LegguardError('INVALID_INPUT', `--client-id names one connection, and ${c.file ?? 'the config'} guards ${c.accounts.length} accounts: set accounts[n].clientId in the file, or add --account`);
      }
      clientId = Number(flags.clientId);
    }
    c = { ...c, broker: { ...base, host, port, clientId }, accounts: c.accounts.map((a) => (flags.clientId === undefined ? a : { ...a, clientId })) };
  }
  return c;
}

/**
 * The config of one of its accounts (`--account`): that account's client id, strategies and alerts. An account a
 * file of `accounts:` does not list is refused; a file of one `account:` is taken for the account named (as before:
 * the store commands read another account's records with the same settings).
 */
export function narrowToAccount(c: LegguardConfig, account: AccountId): LegguardConfig {
  const listed = c.accounts.find((a) => a.account === account);
  if (listed === undefined && c.accounts.length > 1) {
    throw new LegguardError('INVALID_INPUT', `--account ${account}: ${c.file ?? 'the config'} lists ${c.accounts.map((a) => a.account).join(', ')}, not ${account}`);
  }
  const a = listed ?? { ...c.accounts[0]!, account, strategies: c.accounts[0]!.strategies.map((s) => ({ ...s, account })) };
  return { ...c, account, accounts: [a], strategies: a.strategies, alerts: a.alerts, broker: { ...c.broker, clientId: a.clientId } };
}
