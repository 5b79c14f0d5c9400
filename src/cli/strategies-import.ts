import { resolve } from 'node:path';
import { LegguardError } from '../core/errors.js';
import type { CommandIo } from './command.js';
import { describeStore, openCommandStore, STORE_FLAGS, storeCommandConfig, storeOptions, type StoreDeps } from './command-store.js';
import { parseCommandArgs } from './parse-args.js';
import { readStrategiesFile } from './strategies-file.js';
import { guardNewStrategies, pickupNote, refuseExpiredLegs } from './strategies-writes.js';
import { columns, formatLegs } from './strategy-format.js';

export const IMPORT_USAGE = 'legguard strategies import <file.yaml> [--replace]   (a scenario file, or one with account: and strategies:)';

/**
 * `legguard strategies import <file.yaml> [--replace]`: every strategy in the file, written as PENDING in one commit,
 * so an import is applied whole or not at all (an id already guarded, a bad leg, a full disk ...).
 */
export async function strategiesImport(args: readonly string[], io: CommandIo, deps: StoreDeps): Promise<number> {
  const { values, positionals } = parseCommandArgs('import', args, { ...STORE_FLAGS, replace: { type: 'boolean' } });
  if (positionals.length !== 1) throw new LegguardError('INVALID_INPUT', `import: give exactly one file; usage: ${IMPORT_USAGE}`);
  const now = deps.clock.now();
  const config = await storeCommandConfig(values, io, now);
  const file = resolve(io.cwd, positionals[0]!);
  const defs = await readStrategiesFile(file, config.account, now);
  refuseExpiredLegs(defs, now, (i, j) => `${file}: strategies[${i}].legs[${j}] (${defs[i]!.id})`);
  const opts = storeOptions(config);
  const store = await openCommandStore(opts, deps, true, io);
  try {
    const result = await guardNewStrategies(store, config.account, defs, { replace: values.replace === true, now, source: `legguard strategies import ${file}` });
    const replaced = new Map(result.replaced.map((r) => [r.id, r.was]));
    io.stdout.write(
      `imported ${defs.length} strateg${defs.length === 1 ? 'y' : 'ies'} for ${config.account} into ${describeStore(opts)}` +
        `${replaced.size > 0 ? ` (${replaced.size} replaced)` : ''}, each PENDING:\n`,
    );
    const rows = defs.map((d) => [d.id, d.kind, replaced.has(d.id) ? `replaced (was ${replaced.get(d.id)!})` : 'added', formatLegs(d.legs)]);
    io.stdout.write(`${columns(rows).join('\n')}\n${pickupNote(result, config.guard.reconcileIntervalMs)}\n`);
    return 0;
  } finally {
    await store.close();
  }
}
