import { LegguardError } from '../core/errors.js';
import type { CommandIo } from './command.js';
import { openAccountsStore, readAccounts } from './accounts-store.js';
import { describeStore, STORE_FLAGS, type StoreDeps } from './command-store.js';
import { parseCommandArgs } from './parse-args.js';
import { strategyJson } from '../app/record-views.js';
import { columns, formatBroken, formatHoldings, formatLegs } from './strategy-format.js';

export const LIST_USAGE = 'legguard strategies list [--json] [--account ID]';

/**
 * `legguard strategies list [--json] [--account ID]`: every strategy in the store, oldest first, with what it holds
 * now, for every account (one block each) or the one `--account` names (as `legguard status` finds them). `--json`:
 * one array, each strategy with its `account`.
 */
export async function strategiesList(args: readonly string[], io: CommandIo, deps: StoreDeps): Promise<number> {
  const { values, positionals } = parseCommandArgs('list', args, { ...STORE_FLAGS, json: { type: 'boolean' } });
  if (positionals.length > 0) throw new LegguardError('INVALID_INPUT', `list takes no arguments; usage: ${LIST_USAGE}`);
  const where = await openAccountsStore(values, io, deps, deps.clock.now());
  const { store, options: opts } = where;
  try {
    const { selected, primary } = readAccounts(where);
    const shown = selected !== null ? [selected] : [primary, ...where.accounts.filter((a) => a !== primary)];
    const lists = [];
    for (const account of shown) lists.push({ account, list: await store.listStrategies(account) });
    if (values.json === true) {
      io.stdout.write(`${JSON.stringify(lists.flatMap(({ account, list }) => list.map((r) => ({ account, ...strategyJson(r) }))), null, 2)}\n`);
      return 0;
    }
    lists.forEach(({ account, list }, i) => {
      if (i > 0) io.stdout.write('\n');
      io.stdout.write(`${list.length} strateg${list.length === 1 ? 'y' : 'ies'} for ${account} in ${describeStore(opts)}${list.length > 0 ? ':' : ''}\n`);
      const rows = list.map((r) => [
        r.definition.id,
        r.definition.kind,
        r.state,
        r.state === 'PENDING'
          ? `not guarded until a guard finds every leg at the broker (\`legguard status\` says which are missing); ${formatLegs(r.definition.legs)}`
          : `${r.broken !== null ? `broken: ${formatBroken(r.broken)}; ` : ''}${formatHoldings(r.holdings)}`,
      ]);
      if (rows.length > 0) io.stdout.write(`${columns(rows).join('\n')}\n`);
    });
    return 0;
  } finally {
    await store.close();
  }
}
