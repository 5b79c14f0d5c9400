import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { alertsConfigSchema, parseAlertsConfig, type AlertsConfig } from '../adapters/alerts/alerts-config.js';
import { buildStrategies } from '../adapters/sim/load-scenario.js';
import { strategySchema } from '../adapters/sim/scenario-schema.js';
import type { OpenStoreOptions } from '../adapters/store/open-store.js';
import { LegguardError } from '../core/errors.js';
import { AccountId } from '../core/ids.js';
import type { StrategyDefinition } from '../core/strategy.js';
import type { GuardConfig } from '../engine/guard-config.js';
import { guardConfigSchema, parseGuardConfig } from './guard-config-schema.js';
import { parseYamlMapping, readUserFile } from '../lib/yaml-file.js';
import { zodToError } from '../lib/zod-errors.js';

/** The config file legguard looks for in the working directory when none is named. */
export const DEFAULT_CONFIG_FILE = 'legguard.yaml';

/**
 * TWS or IB Gateway. (To try legguard without IB, run `legguard sim-gateway` and point this at it: the simulator speaks
 * the same protocol.)
 */
const brokerSchema = z.strictObject({
  type: z.literal('ib').default('ib'),
  host: z.string().min(1).default('127.0.0.1'),
  /** TWS 7497 paper / 7496 live; IB Gateway 4002 paper / 4001 live. */
  port: z.number().int().min(1).max(65535).default(7497),
  /** Fixed: IB binds orders to the client id that placed them; a restarted guard must see its own. */
  clientId: z.number().int().min(0).max(2 ** 31 - 1).default(17),
  marketDataType: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]).default(1),
  /** `legguard run` retries TWS for this long at start-up, then gives up (exit 1, lock released). */
  connectTimeoutSeconds: z.number().int().min(1).max(86_400).default(30),
});

export const configSchema = z.strictObject({
  /** The IB account the guard acts for (DU... paper, U... live). */
  account: z.string().regex(/^[A-Za-z0-9]{1,32}$/, 'must be an IB account id like DU1234567'),
  /** Where the SQLite file (and the lock) live; relative to the config file. */
  dataDir: z.string().min(1).default('data'),
  database: z
    .strictObject({
      /** The environment variable holding a Postgres URL (kept out of the file: it may carry a password). */
      urlEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name').default('DATABASE_URL'),
      schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/).optional(),
    })
    .prefault({}),
  broker: brokerSchema.default({ type: 'ib', host: '127.0.0.1', port: 7497, clientId: 17, marketDataType: 1, connectTimeoutSeconds: 30 }),
  guard: guardConfigSchema.optional(),
  alerts: alertsConfigSchema.prefault({}),
  /** Strategies to guard, in the scenario's `strategies:` shape; added at start when the store does not have them. */
  strategies: z.array(strategySchema).default([]),
  log: z.strictObject({ level: z.enum(['debug', 'info', 'warn', 'error']).default('info'), format: z.enum(['text', 'json']).default('text') }).prefault({}),
});

export type BrokerConfig = z.output<typeof brokerSchema>;

export interface LegguardConfig {
  /** The file it came from, or null for the built-in defaults. */
  readonly file: string | null;
  readonly account: AccountId;
  readonly dataDir: string;
  /** From the environment variable `database.urlEnv`; null: SQLite in `dataDir`. */
  readonly databaseUrl: string | null;
  /** The environment variable the URL is read from (`database.urlEnv`), for messages. */
  readonly databaseUrlEnv: string;
  readonly pgSchema: string | null;
  readonly broker: BrokerConfig;
  readonly guard: GuardConfig;
  readonly alerts: AlertsConfig;
  readonly strategies: readonly StrategyDefinition[];
  readonly log: { readonly level: 'debug' | 'info' | 'warn' | 'error'; readonly format: 'text' | 'json' };
}

/**
 * Validates config text (YAML). Every problem is CONFIG_INVALID naming the file and the key, e.g.
 * `legguard.yaml: guard.onAssignment: Invalid option: expected one of "close"|"hedge"|"alert"`.
 * Relative paths (dataDir, a sim scenario) are resolved against the file's directory.
 */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv, now: number): LegguardConfig {
  const raw = text.trim() === '' ? {} : parseYamlMapping(text, file, 'CONFIG_INVALID', 'a config file is a mapping of keys (account, broker, guard, alerts ...)');
  checkChannels(raw, file);
  const r = configSchema.safeParse(raw);
  if (!r.success) throw zodToError('CONFIG_INVALID', file, r.error);
  const c = r.data;
  const base = dirname(resolve(file));
  const account = AccountId.parse(c.account);
  const url = env[c.database.urlEnv];
  const broker: BrokerConfig = c.broker;
  const strategies = buildStrategies(c.strategies, account, now);
  const ids = new Set<string>();
  strategies.forEach((s, i) => {
    if (ids.has(s.id)) throw new LegguardError('CONFIG_INVALID', `${file}: strategies[${i}].id: "${s.id}" is used twice`, { file, field: `strategies[${i}].id` });
    ids.add(s.id);
  });
  return {
    file,
    account,
    dataDir: abs(base, c.dataDir),
    databaseUrl: url !== undefined && url !== '' ? url : null,
    databaseUrlEnv: c.database.urlEnv,
    pgSchema: c.database.schema ?? null,
    broker,
    guard: parseGuardConfig(c.guard, file),
    alerts: c.alerts,
    strategies,
    log: c.log,
  };
}

/**
 * Alert channel entries are checked on their own first: the alerts schema names the channel and, for an unknown
 * type, the known ones (`alerts.channels[0]: alert channel "oncall": unknown channel type "pager"; known: console,
 * ...`), where the whole-file schema would only say the discriminator is invalid. Other problems of the `alerts:`
 * section are left to the whole-file check, which names their key.
 */
function checkChannels(raw: Record<string, unknown>, file: string): void {
  try {
    parseAlertsConfig(raw.alerts);
  } catch (e) {
    if (!LegguardError.is(e, 'ALERT_CHANNEL_INVALID')) return;
    const field = `alerts.channels[${String(e.details.index)}]`;
    throw new LegguardError('ALERT_CHANNEL_INVALID', `${file}: ${field}: ${e.message}`, { ...e.details, file, field }, { cause: e });
  }
}

function abs(base: string, p: string): string {
  return isAbsolute(p) ? p : resolve(base, p);
}

/** Reads and validates a config file; a missing or unreadable file is CONFIG_INVALID naming it. */
export async function loadConfig(file: string, env: NodeJS.ProcessEnv, now: number): Promise<LegguardConfig> {
  const text = await readUserFile(file, 'CONFIG_INVALID', 'config file');
  return parseConfig(text, file, env, now);
}

/** Where a config keeps its state, as `legguard run` and the store commands open it. */
export function storeOptions(config: Pick<LegguardConfig, 'dataDir' | 'databaseUrl' | 'pgSchema'>): OpenStoreOptions {
  return {
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    ...(config.pgSchema !== null ? { pgSchema: config.pgSchema } : {}),
  };
}
