import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatNyTime } from '../adapters/alerts/format-alert.js';
import { SystemClock } from '../adapters/clock/system-clock.js';
import { openStore, SQLITE_FILE } from '../adapters/store/open-store.js';
import { LegguardError } from '../core/errors.js';
import { IncidentId } from '../core/ids.js';
import type { Clock } from '../ports/clock.js';
import type { StorePort } from '../ports/store.js';
import type { Command, CommandIo } from './command.js';

/** The data directory when `--data-dir` is not given (the SQLite file is `<dir>/legguard.db`). */
export const DEFAULT_DATA_DIR = 'data';

export interface AckDeps {
  readonly clock: Clock;
  /** Opens the store: SQLite in `dataDir`, or Postgres when `DATABASE_URL` is set. */
  readonly openStore: (dataDir: string, io: CommandIo) => Promise<StorePort>;
}

/** Opens the store without creating one: acknowledging into a fresh, empty database would only hide a wrong path. */
async function openExistingStore(dataDir: string, io: CommandIo): Promise<StorePort> {
  const url = io.env.DATABASE_URL ?? '';
  if (url === '' && !existsSync(join(dataDir, SQLITE_FILE))) {
    throw new LegguardError('NOT_FOUND', `no legguard database at ${join(dataDir, SQLITE_FILE)} (give the guard's --data-dir, or set DATABASE_URL)`);
  }
  return openStore({ dataDir, databaseUrl: url });
}

const defaultDeps: AckDeps = { clock: new SystemClock(), openStore: openExistingStore };

function checkBy(by: string): string {
  const t = by.trim();
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (t === '' || t.length > 64 || /[\x00-\x1f\x7f]/.test(t)) {
    throw new LegguardError('INVALID_INPUT', '--by must be 1-64 printable characters (a name)');
  }
  return t;
}

/**
 * `legguard ack <incident> [--by name]`: marks a critical incident acknowledged, which stops its repeats (the
 * running guard reads acknowledgements from the store on its next escalation check). An incident no alert names is
 * NOT_FOUND, with the incidents still waiting listed.
 */
export function ackCommand(deps: AckDeps = defaultDeps): Command {
  return {
    name: 'ack',
    summary: 'acknowledge a critical incident: its alerts stop repeating',
    usage: `legguard ack <incident> [--by name] [--data-dir ${DEFAULT_DATA_DIR}]   (Postgres: set DATABASE_URL)`,
    async run(args: readonly string[], io: CommandIo): Promise<number> {
      let values: { by?: string; 'data-dir'?: string };
      let positionals: string[];
      try {
        ({ values, positionals } = parseArgs({
          args: [...args],
          options: { by: { type: 'string' }, 'data-dir': { type: 'string' } },
          allowPositionals: true,
          strict: true,
        }));
      } catch (e) {
        throw new LegguardError('INVALID_INPUT', e instanceof Error ? e.message : String(e));
      }
      if (positionals.length !== 1) {
        throw new LegguardError('INVALID_INPUT', `give exactly one incident id; usage: ${this.usage}`);
      }
      const id = IncidentId.parse(positionals[0]);
      const by = checkBy(values.by ?? io.env.USER ?? io.env.LOGNAME ?? 'cli');
      const store = await deps.openStore(resolve(io.cwd, values['data-dir'] ?? DEFAULT_DATA_DIR), io);
      try {
        const waiting = await store.unackedCritical();
        const wasWaiting = waiting.some((w) => w.incidentId === id);
        const now = deps.clock.now();
        const known = await store.ackIncident(id, now, by);
        if (!known) {
          const list = waiting.map((w) => `  ${w.incidentId}  ${w.first.title}`).join('\n');
          throw new LegguardError(
            'NOT_FOUND',
            `no alert names incident "${id}". ${waiting.length === 0 ? 'No critical incident is waiting for acknowledgement.' : `Waiting for acknowledgement:\n${list}`}`,
            { incidentId: id },
          );
        }
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
