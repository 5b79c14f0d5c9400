import { LegguardError } from '../core/errors.js';
import { StrategyId } from '../core/ids.js';
import { EpochMs } from '../core/quantity.js';
import type { StrategyRecord } from '../ports/store.js';
import type { CommandIo } from './command.js';
import { describeStore, openCommandStore, STORE_FLAGS, storeCommandConfig, storeOptions, type StoreDeps } from './command-store.js';
import { parseCommandArgs } from './parse-args.js';
import { CLOSING_STATES } from './strategies-writes.js';
import { holdingJson } from '../app/record-views.js';
import { formatHoldings } from './strategy-format.js';

export const REMOVE_USAGE = 'legguard strategies remove <id> [<id> ...] [--force]';

/**
 * `legguard strategies remove <id>... [--force]`: stops guarding strategies, all named or none. A strategy being
 * closed (BROKEN, EMERGENCY_CLOSING, CLOSING) is refused without --force: taking it away mid-close would leave a
 * half-closed position nobody watches. The removal is journaled with what the strategy held.
 */
export async function strategiesRemove(args: readonly string[], io: CommandIo, deps: StoreDeps): Promise<number> {
  const { values, positionals } = parseCommandArgs('remove', args, { ...STORE_FLAGS, force: { type: 'boolean' } });
  if (positionals.length === 0) throw new LegguardError('INVALID_INPUT', `remove: give the id of the strategy to remove; usage: ${REMOVE_USAGE}`);
  const ids = [...new Set(positionals.map((p) => StrategyId.parse(p)))];
  const force = values.force === true;
  const now = deps.clock.now();
  const config = await storeCommandConfig(values, io, now);
  const opts = storeOptions(config);
  const store = await openCommandStore(opts, deps, false, io);
  try {
    const all = await store.listStrategies(config.account);
    const by = new Map<string, StrategyRecord>(all.map((r) => [r.definition.id, r]));
    const missing = ids.filter((id) => !by.has(id));
    if (missing.length > 0) {
      throw new LegguardError(
        'NOT_FOUND',
        `no strategy ${missing.join(', ')} for ${config.account} in ${describeStore(opts)}; nothing was removed. Strategies there: ${all.map((r) => r.definition.id).join(', ') || '(none)'}`,
        { ids: missing },
      );
    }
    const targets = ids.map((id) => by.get(id)!);
    const closing = targets.filter((r) => CLOSING_STATES.includes(r.state));
    if (closing.length > 0 && !force) {
      throw new LegguardError(
        'INVALID_INPUT',
        `${closing.map((r) => `${r.definition.id} is ${r.state}`).join(', ')}: the guard is closing ${closing.length === 1 ? 'it' : 'them'} ` +
          `(${closing.map((r) => formatHoldings(r.holdings)).join('; ')}); nothing was removed. Give --force to remove anyway`,
        { ids: closing.map((r) => r.definition.id) },
      );
    }
    const at = EpochMs.unsafe(now);
    await store.commit({
      account: config.account,
      removeStrategies: ids,
      journal: targets.map((r) => ({
        key: `cli:remove:${r.definition.id}:${now}`,
        at,
        type: 'note',
        account: config.account,
        strategyId: r.definition.id,
        incidentId: null,
        data: { action: 'removed', by: 'legguard strategies remove', state: r.state, force, holdings: r.holdings.map(holdingJson) },
      })),
    });
    for (const r of targets) {
      io.stdout.write(`removed ${r.definition.id} (${r.state}; it ${r.holdings.length === 0 ? 'held nothing' : formatHoldings(r.holdings).replace(/^holds/, 'held')})\n`);
    }
    const secs = Math.round(config.guard.reconcileIntervalMs / 1000);
    io.stdout.write(
      `A running guard stops guarding ${ids.length === 1 ? 'it' : 'them'} at its next reconciliation (every ${secs} s): ` +
        `positions ${ids.length === 1 ? 'it' : 'they'} held then count as outside any strategy, and legguard neither alerts on them nor closes them.\n`,
    );
    if (closing.length > 0) {
      io.stdout.write(
        `Forced: ${closing.map((r) => r.definition.id).join(', ')} ${closing.length === 1 ? 'was' : 'were'} being closed. A running guard does not drop a strategy ` +
          `it is closing: it goes on closing it and writes it back to the store. Stop the guard first for the removal to hold.\n`,
      );
    }
    return 0;
  } finally {
    await store.close();
  }
}
