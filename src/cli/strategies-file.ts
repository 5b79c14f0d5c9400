import { z } from 'zod';
import { buildStrategies, parseScenario } from '../adapters/sim/load-scenario.js';
import { strategySchema } from '../adapters/sim/scenario-schema.js';
import { parseYamlMapping, readUserFile } from '../lib/yaml-file.js';
import { zodToError } from '../lib/zod-errors.js';
import { INDEX_SYMBOLS } from '../core/contract.js';
import { LegguardError } from '../core/errors.js';
import type { AccountId } from '../core/ids.js';
import type { StrategyDefinition } from '../core/strategy.js';

/** A file of strategies alone: the account they belong to (optional) and the scenario's `strategies:` entries. */
const strategiesFileSchema = z.strictObject({
  account: z.string().regex(/^[A-Za-z0-9]{1,32}$/, 'must be an IB account id like DU1234567').optional(),
  strategies: z.array(strategySchema).min(1, 'the file lists no strategies'),
});

/** Keys only a scenario has: a file with any of them is read (and validated) as a whole scenario. */
const SCENARIO_KEYS = ['name', 'start', 'until', 'underlyings', 'events', 'positions'];

/**
 * Reads the strategies of `legguard strategies import <file>`: a scenario file (validated as a scenario, so its
 * strategies are checked against its underlyings) or a file with just `account:` and `strategies:`. The definitions
 * belong to `account` (a file naming another account is refused) and are created at `now` in file order, so they
 * come after every strategy already guarded when a change on a shared contract is attributed.
 */
export async function readStrategiesFile(file: string, account: AccountId, now: number): Promise<StrategyDefinition[]> {
  const text = await readUserFile(file, 'INVALID_INPUT', 'strategies file');
  const raw = parseYamlMapping(text, file, 'INVALID_INPUT', 'expected a mapping with strategies: (and account:), or a scenario file');
  let fileAccount: string | undefined;
  let entries: z.output<typeof strategySchema>[];
  let isIndex = (symbol: string): boolean => INDEX_SYMBOLS.has(symbol.toUpperCase());
  if (SCENARIO_KEYS.some((k) => k in raw)) {
    const scenario = parseScenario(text, file);
    const kinds = new Map(scenario.underlyings.map((u) => [u.symbol, u.kind]));
    isIndex = (symbol) => kinds.get(symbol.toUpperCase()) === 'index';
    fileAccount = scenario.account;
    entries = z.array(strategySchema).parse((raw as { strategies?: unknown }).strategies ?? []);
    if (entries.length === 0) throw new LegguardError('INVALID_INPUT', `${file}: strategies: the scenario lists no strategies`, { file, field: 'strategies' });
  } else {
    const r = strategiesFileSchema.safeParse(raw);
    if (!r.success) throw zodToError('INVALID_INPUT', file, r.error);
    fileAccount = r.data.account;
    entries = r.data.strategies;
  }
  if (fileAccount !== undefined && fileAccount !== account) {
    throw new LegguardError(
      'INVALID_INPUT',
      `${file}: account: the file is for ${fileAccount}, the guard's account is ${account} (use that account's config or --account ${fileAccount})`,
      { file, field: 'account' },
    );
  }
  const seen = new Map<string, number>();
  entries.forEach((s, i) => {
    const first = seen.get(s.id);
    if (first !== undefined) {
      throw new LegguardError('INVALID_INPUT', `${file}: strategies[${i}].id: "${s.id}" is used twice (also strategies[${first}])`, { file, field: `strategies[${i}].id` });
    }
    seen.set(s.id, i);
  });
  return buildStrategies(entries, account, now, isIndex);
}
