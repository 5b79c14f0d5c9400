import { LegguardError } from '../core/errors.js';
import type { Command } from './command.js';
import { defaultStoreDeps, STORE_FLAGS_USAGE } from './command-store.js';
import { DISCOVER_USAGE, strategiesDiscover, type DiscoverDeps } from './strategies-discover.js';
import { ADD_USAGE, strategiesAdd } from './strategies-add.js';
import { IMPORT_USAGE, strategiesImport } from './strategies-import.js';
import { LIST_USAGE, strategiesList } from './strategies-list.js';
import { REMOVE_USAGE, strategiesRemove } from './strategies-remove.js';

const SUBCOMMANDS = {
  add: strategiesAdd,
  list: strategiesList,
  remove: strategiesRemove,
  import: strategiesImport,
  discover: strategiesDiscover,
} as const;

/**
 * `legguard strategies add|list|remove|import|discover`: what the guard guards, in the store it reads (the config's data
 * directory, or Postgres). Writes go through the store port; a running guard picks changes up at its next
 * reconciliation.
 */
export function strategiesCommand(deps: DiscoverDeps = defaultStoreDeps): Command {
  return {
    name: 'strategies',
    summary: 'strategies add|list|remove|import|discover: manage the strategies the guard guards (in the store); discover finds them in the account',
    usage: [ADD_USAGE, LIST_USAGE, REMOVE_USAGE, IMPORT_USAGE, DISCOVER_USAGE].join('\n       ') + `\n  each also takes ${STORE_FLAGS_USAGE}`,
    async run(args, io) {
      const [sub, ...rest] = args;
      if (sub === undefined || !Object.hasOwn(SUBCOMMANDS, sub)) {
        throw new LegguardError('INVALID_INPUT', `strategies: expected add, list, remove, import or discover${sub !== undefined ? `; got ${JSON.stringify(sub)}` : ''}`);
      }
      return SUBCOMMANDS[sub as keyof typeof SUBCOMMANDS](rest, io, deps);
    },
  };
}
