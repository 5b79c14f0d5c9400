import { LegguardError } from '../core/errors.js';
import type { CommandIo } from './command.js';
import { describeStore, openCommandStore, STORE_FLAGS, storeCommandConfig, storeOptions, type StoreDeps } from './command-store.js';
import { parseCommandArgs } from './parse-args.js';
import { strategyJson } from '../app/record-views.js';
import { columns, formatBroken, formatHoldings, formatLegs } from './strategy-format.js';

export const LIST_USAGE = 'legguard strategies list [--json]';

/** `legguard strategies list [--json]`: every strategy of the account in the store, oldest first, with what it holds now. */
export async function strategiesList(args: readonly string[], io: CommandIo, deps: StoreDeps): Promise<number> {
  const { values, positionals } = parseCommandArgs('list', args, { ...STORE_FLAGS, json: { type: 'boolean' } });
  if (positionals.length > 0) throw new LegguardError('INVALID_INPUT', `list takes no arguments; usage: ${LIST_USAGE}`);
  const config = await storeCommandConfig(values, io, deps.clock.now());
  const opts = storeOptions(config);
  const store = await openCommandStore(opts, deps, false, io);
  try {
    const list = await store.listStrategies(config.account);
    if (values.json === true) {
      io.stdout.write(`${JSON.stringify(list.map(strategyJson), null, 2)}\n`);
      return 0;
    }
    io.stdout.write(`${list.length} strateg${list.length === 1 ? 'y' : 'ies'} for ${config.account} in ${describeStore(opts)}${list.length > 0 ? ':' : ''}\n`);
    const rows = list.map((r) => [
      r.definition.id,
      r.definition.kind,
      r.state,
      r.state === 'PENDING'
        ? `not guarded until a guard finds every leg at the broker (\`legguard status\` says which are missing); ${formatLegs(r.definition.legs)}`
        : `${r.broken !== null ? `broken: ${formatBroken(r.broken)}; ` : ''}${formatHoldings(r.holdings)}`,
    ]);
    if (rows.length > 0) io.stdout.write(`${columns(rows).join('\n')}\n`);
    return 0;
  } finally {
    await store.close();
  }
}
