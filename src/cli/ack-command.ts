import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatNyTime } from '../adapters/alerts/format-alert.js';
import type { OpenStoreOptions } from '../adapters/store/open-store.js';
import { DEFAULT_CONFIG_FILE } from '../app/config.js';
import { acknowledgeIncident, checkBy } from '../app/operator-actions.js';
import { LegguardError } from '../core/errors.js';
import { AccountId, IncidentId } from '../core/ids.js';
import type { StorePort } from '../ports/store.js';
import type { Command, CommandIo } from './command.js';
import { defaultStoreDeps, openCommandStore, storeOptions, type StoreDeps } from './command-store.js';
import { resolveConfig } from './config-source.js';
import { parseCommandArgs } from './parse-args.js';

/** The data directory when there is no config file and no `--data-dir` (the SQLite file is `<dir>/legguard.db`). */
export const DEFAULT_DATA_DIR = 'data';

/**
 * The store to acknowledge in: the config's (`--config`, or legguard.yaml here), as the guard opens it, with
 * `--data-dir` on top; without a config file, `--data-dir` (default `data`) or DATABASE_URL. The account is the
 * config's when there is one (`--account` names another).
 */
async function ackStore(
  values: { config?: string | undefined; dataDir?: string | undefined },
  io: CommandIo,
): Promise<{ options: OpenStoreOptions; account: AccountId | null }> {
  if (values.config !== undefined || existsSync(resolve(io.cwd, DEFAULT_CONFIG_FILE))) {
    const config = await resolveConfig({ config: values.config ?? DEFAULT_CONFIG_FILE, dataDir: values.dataDir }, io, Date.now());
    return { options: storeOptions(config), account: config.account };
  }
  return { options: { dataDir: resolve(io.cwd, values.dataDir ?? DEFAULT_DATA_DIR), databaseUrl: io.env.DATABASE_URL ?? '' }, account: null };
}

/** `--account`, else the config's, else the store's only account; a store of several accounts needs `--account`. */
async function ackAccount(store: StorePort, given: string | undefined, configured: AccountId | null): Promise<AccountId> {
  if (given !== undefined) return AccountId.parse(given);
  if (configured !== null) return configured;
  const all = await store.accounts();
  if (all.length === 1) return all[0]!;
  throw new LegguardError(
    'INVALID_INPUT',
    all.length === 0 ? 'the store has no account yet: nothing to acknowledge' : `the store holds ${all.length} accounts (${all.join(', ')}): name one with --account`,
  );
}

/**
 * `legguard ack <incident> [--by name]`: marks a critical incident acknowledged, which stops its repeats (the
 * running guard reads acknowledgements from the store on its next escalation check). An incident no alert names is
 * NOT_FOUND, with the incidents still waiting listed.
 */
export function ackCommand(deps: StoreDeps = defaultStoreDeps): Command {
  return {
    name: 'ack',
    summary: 'acknowledge a critical incident: its alerts stop repeating',
    usage: `legguard ack <incident> [--by name] [--account ID] [--config ${DEFAULT_CONFIG_FILE}] [--data-dir DIR]   (no config file: --data-dir, default ${DEFAULT_DATA_DIR}, or DATABASE_URL)`,
    async run(args: readonly string[], io: CommandIo): Promise<number> {
      const { values, positionals } = parseCommandArgs('ack', args, {
        by: { type: 'string' },
        config: { type: 'string' },
        'data-dir': { type: 'string' },
        account: { type: 'string' },
      });
      const str = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined);
      if (positionals.length !== 1) {
        throw new LegguardError('INVALID_INPUT', `give exactly one incident id; usage: ${this.usage}`);
      }
      const id = IncidentId.parse(positionals[0]);
      const by = checkBy(str('by') ?? io.env.USER ?? io.env.LOGNAME ?? 'cli');
      const where = await ackStore({ config: str('config'), dataDir: str('data-dir') }, io);
      const store = await openCommandStore(where.options, deps, false, io);
      try {
        const now = deps.clock.now();
        const account = await ackAccount(store, str('account'), where.account);
        const { wasWaiting } = await acknowledgeIncident(store, account, id, now, by);
        io.stdout.write(
          wasWaiting
            ? `acknowledged ${id} (by ${by}, ${formatNyTime(now)}): its alerts stop repeating\n`
            : `${id} was already acknowledged or is not critical: nothing repeats for it\n`,
        );
        return 0;
      } finally {
        await store.close();
      }
    },
  };
}
