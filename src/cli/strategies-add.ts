import { buildStrategies } from '../adapters/sim/load-scenario.js';
import { strategySchema } from '../adapters/sim/scenario-schema.js';
import { fieldPath } from '../lib/zod-errors.js';
import { LegguardError } from '../core/errors.js';
import type { CommandIo } from './command.js';
import { describeStore, openCommandStore, STORE_FLAGS, storeCommandConfig, storeOptions, type StoreDeps } from './command-store.js';
import { parseLegSpec } from './leg-spec.js';
import { parseCommandArgs } from './parse-args.js';
import { guardNewStrategies, pickupNote, refuseExpiredLegs } from './strategies-writes.js';
import { formatLegs } from './strategy-format.js';

export const ADD_USAGE =
  'legguard strategies add <id> --leg "SPY 2027-01-15 P 440 -2" [--leg ...] [--kind iron-condor|vertical|...] [--policy close|hedge|alert] [--replace]';

/** A schema problem in command-line terms: `legs[1].strike` is the second --leg, `kind` is --kind. */
function flagFor(path: readonly PropertyKey[], legs: readonly string[]): string {
  const [head, i] = path;
  if (head === 'legs' && typeof i === 'number') {
    const where = `--leg ${i + 1} ${JSON.stringify(legs[i] ?? '')}`;
    return path.length > 2 ? `${where}: ${fieldPath(path.slice(2))}` : where;
  }
  if (head === 'id') return 'the strategy id';
  if (head === 'kind' || head === 'policy') return `--${head}`;
  return fieldPath(path);
}

/**
 * `legguard strategies add <id> --leg ... [--kind k] [--policy p] [--replace]`: one strategy from the command line,
 * validated with the scenario schema (the kind is inferred from the legs when not given), written as PENDING (a
 * guard checks its legs against the broker when it adopts it).
 */
export async function strategiesAdd(args: readonly string[], io: CommandIo, deps: StoreDeps): Promise<number> {
  const { values, positionals } = parseCommandArgs('add', args, {
    ...STORE_FLAGS,
    leg: { type: 'string', multiple: true },
    kind: { type: 'string' },
    policy: { type: 'string' },
    replace: { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new LegguardError('INVALID_INPUT', `add: give exactly one strategy id; usage: ${ADD_USAGE}`);
  const specs = Array.isArray(values.leg) ? values.leg.map(String) : [];
  if (specs.length === 0) throw new LegguardError('INVALID_INPUT', `add: give at least one --leg; usage: ${ADD_USAGE}`);
  const now = deps.clock.now();
  const config = await storeCommandConfig(values, io, now);
  const input = {
    id: positionals[0],
    legs: specs.map((s, i) => parseLegSpec(s, i)),
    ...(typeof values.kind === 'string' ? { kind: values.kind } : {}),
    ...(typeof values.policy === 'string' ? { policy: values.policy } : {}),
  };
  const r = strategySchema.safeParse(input);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${flagFor(i.path, specs)}: ${i.message}`);
    throw new LegguardError('INVALID_INPUT', `add: ${problems.join('; ')}`, { problems });
  }
  const defs = buildStrategies([r.data], config.account, now);
  refuseExpiredLegs(defs, now, (_, j) => `--leg ${j + 1} ${JSON.stringify(specs[j])}`);
  const opts = storeOptions(config);
  const store = await openCommandStore(opts, deps, true, io);
  try {
    const result = await guardNewStrategies(store, config.account, defs, { replace: values.replace === true, now, source: 'legguard strategies add' });
    const d = defs[0]!;
    io.stdout.write(
      `${result.replaced.length > 0 ? `replaced ${d.id} (was ${result.replaced[0]!.was})` : `added ${d.id}`} for ${config.account} in ${describeStore(opts)}: ` +
        `${d.kind}${d.policy !== undefined ? `, policy ${d.policy}` : ''}, PENDING, ${formatLegs(d.legs)}\n${pickupNote(result, config.guard.reconcileIntervalMs)}\n`,
    );
    return 0;
  } finally {
    await store.close();
  }
}
