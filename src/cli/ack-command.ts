import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatNyTime } from '../adapters/alerts/format-alert.js';
import type { OpenStoreOptions } from '../adapters/store/open-store.js';
import { DEFAULT_CONFIG_FILE } from '../app/config.js';
import { acknowledgeIncident, checkBy } from '../app/operator-actions.js';
import { LegguardError } from '../core/errors.js';
import { IncidentId } from '../core/ids.js';
import type { Command, CommandIo } from './command.js';
import { defaultStoreDeps, openCommandStore, storeOptions, type StoreDeps } from './command-store.js';
import { resolveConfig } from './config-source.js';
import { parseCommandArgs } from './parse-args.js';

/** The data directory when there is no config file and no `--data-dir` (the SQLite file is `<dir>/legguard.db`). */
export const DEFAULT_DATA_DIR = 'data';

/**
 * The store to acknowledge in: the config's (`--config`, or legguard.yaml here), as the guard opens it, with
 * `--data-dir` on top; without a config file, `--data-dir` (default `data`) or DATABASE_URL. No account is needed:
 * acknowledgements are kept per incident.
 */
async function ackStore(values: { config?: string | undefined; dataDir?: string | undefined }, io: CommandIo): Promise<OpenStoreOptions> {
  if (values.config !== undefined || existsSync(resolve(io.cwd, DEFAULT_CONFIG_FILE))) {
    return storeOptions(await resolveConfig({ config: values.config ?? DEFAULT_CONFIG_FILE, dataDir: values.dataDir }, io, Date.now()));
  }
  return { dataDir: resolve(io.cwd, values.dataDir ?? DEFAULT_DATA_DIR), databaseUrl: io.env.DATABASE_URL ?? '' };
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
    usage: `legguard ack <incident> [--by name] [--config ${DEFAULT_CONFIG_FILE}] [--data-dir DIR]   (no config file: --data-dir, default ${DEFAULT_DATA_DIR}, or DATABASE_URL)`,
    async run(args: readonly string[], io: CommandIo): Promise<number> {
      const { values, positionals } = parseCommandArgs('ack', args, { by: { type: 'string' }, config: { type: 'string' }, 'data-dir': { type: 'string' } });
      const str = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined);
      if (positionals.length !== 1) {
        throw new LegguardError('INVALID_INPUT', `give exactly one incident id; usage: ${this.usage}`);
      }
      const id = IncidentId.parse(positionals[0]);
      const by = checkBy(str('by') ?? io.env.USER ?? io.env.LOGNAME ?? 'cli');
      const store = await openCommandStore(await ackStore({ config: str('config'), dataDir: str('data-dir') }, io), deps, false, io);
      try {
        const now = deps.clock.now();
        const { wasWaiting } = await acknowledgeIncident(store, id, now, by);
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
