import { formatNyTime } from '../adapters/alerts/format-alert.js';
import { DEFAULT_CONFIG_FILE } from '../app/config.js';
import { acknowledgeIncident, checkBy } from '../app/operator-actions.js';
import { LegguardError } from '../core/errors.js';
import { IncidentId, type AccountId } from '../core/ids.js';
import type { Command, CommandIo } from './command.js';
import { actingAccount, DEFAULT_DATA_DIR, openAccountsStore, type AccountsStore } from './accounts-store.js';
import { defaultStoreDeps, type StoreDeps } from './command-store.js';
import { parseCommandArgs } from './parse-args.js';

export { DEFAULT_DATA_DIR } from './accounts-store.js';

/**
 * The account of the incident: `--account`; else, in a store of several accounts, the one account where the incident
 * waits for acknowledgement; else as any command acting on one account finds it (the config's, or the store's only).
 */
async function ackAccount(where: AccountsStore, id: IncidentId): Promise<AccountId> {
  if (where.given === undefined && where.accounts.length > 1) {
    const waiting: AccountId[] = [];
    for (const a of where.accounts) if ((await where.store.unackedCritical(a)).some((u) => u.incidentId === id)) waiting.push(a);
    if (waiting.length === 1) return waiting[0]!;
    if (waiting.length > 1) throw new LegguardError('INVALID_INPUT', `incident ${id} waits in ${waiting.length} accounts (${waiting.join(', ')}): name one with --account`);
  }
  return actingAccount(where, false);
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
      const now = deps.clock.now();
      const where = await openAccountsStore(values, io, deps, now);
      const { store } = where;
      try {
        const account = await ackAccount(where, id);
        const { wasWaiting } = await acknowledgeIncident(store, account, id, now, by);
        io.stdout.write(
          wasWaiting
            ? `acknowledged ${id}${where.accounts.length > 1 ? ` of ${account}` : ''} (by ${by}, ${formatNyTime(now)}): its alerts stop repeating\n`
            : `${id}${where.accounts.length > 1 ? ` of ${account}` : ''} was already acknowledged or is not critical: nothing repeats for it\n`,
        );
        return 0;
      } finally {
        await store.close();
      }
    },
  };
}
