import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { alertsConfigSchema, parseAlertsConfig, type AlertsConfig } from '../adapters/alerts/alerts-config.js';
import { buildStrategies } from '../adapters/sim/load-scenario.js';
import { configStrategySchema } from '../adapters/sim/scenario-schema.js';
import type { OpenStoreOptions } from '../adapters/store/open-store.js';
import { LegguardError, type ErrorCode } from '../core/errors.js';
import { AccountId } from '../core/ids.js';
import type { StrategyDefinition } from '../core/strategy.js';
import type { Dividend } from '../core/quote-view.js';
import type { GuardConfig } from '../engine/guard-config.js';
import { guardConfigSchema, parseGuardConfig } from './guard-config-schema.js';
import { parseYamlMapping, readUserFile } from '../lib/yaml-file.js';
import { fieldPath } from '../lib/zod-errors.js';
import { duplicateLegs, expiredLegs } from '../core/leg-checks.js';

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

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((v) => {
    const d = new Date(`${v}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
  }, 'is not a real date');
const tickerSymbol = z.string().regex(/^[A-Za-z][A-Za-z0-9.]{0,11}$/, 'must be a ticker symbol like XOM');

/** What the look-ahead rules price with: the risk-free rate, and volatilities per underlying where known. */
const marketSchema = z.strictObject({
  rate: z.number().min(-0.05).max(0.5).default(0.045),
  volatility: z.record(tickerSymbol, z.number().positive().max(5)).default({}),
});

/**
 * The HTTP edge of `legguard run` (dashboard, JSON API, server-sent events, metrics): off unless `listen` is set here
 * or `--http HOST:PORT` is given. Mutations (acknowledge, trading state) need the bearer token in `tokenEnv`.
 */
const httpSchema = z.strictObject({
  /** `127.0.0.1:8765`; a non-loopback host is refused unless the token variable is set. */
  listen: z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be HOST:PORT, like 127.0.0.1:8765').optional(),
  tokenEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name').default('LEGGUARD_HTTP_TOKEN'),
});

/**
 * Leadership between guards of one account on one store (docs/standby.md): the leader renews its lease every
 * `renewMs`; a standby takes it once it has not been renewed for `leaseMs` (store clock). The defaults take over
 * within 10 s of a leader's death: at most `leaseMs` + `renewMs` + the start-up reconciliation.
 */
const leaderSchema = z
  .strictObject({
    leaseMs: z.number().int().min(1000).max(600_000).default(6000),
    renewMs: z.number().int().min(100).max(300_000).default(1500),
  })
  .refine((l) => l.renewMs * 2 <= l.leaseMs, { message: 'leader.renewMs must be at most half of leader.leaseMs (a renewal may fail once without losing the lease)', path: ['renewMs'] });

const accountIdSchema = z.string().regex(/^[A-Za-z0-9]{1,32}$/, 'must be an IB account id like DU1234567');

/**
 * One account of `accounts:` (several accounts reachable through one TWS/Gateway login, guarded by one process): its
 * own IB client id (default `broker.clientId` + its index), its own strategies, and alert channels of its own when
 * its alerts must not reach the others' (default: the shared `alerts:`).
 */
const accountEntrySchema = z.strictObject({
  account: accountIdSchema,
  clientId: z.number().int().min(0).max(2 ** 31 - 1).optional(),
  strategies: z.array(configStrategySchema).default([]),
  alerts: alertsConfigSchema.optional(),
});

export const configSchema = z.strictObject({
  /** The IB account the guard acts for (DU... paper, U... live). Exactly one of `account` and `accounts`. */
  account: accountIdSchema.optional(),
  /** Several accounts of one TWS/Gateway login, each guarded on its own (one process, one store). */
  accounts: z.array(accountEntrySchema).min(1, 'must list at least one account').max(64, 'at most 64 accounts per process').optional(),
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
  strategies: z.array(configStrategySchema).default([]),
  market: marketSchema.prefault({}),
  /** Announced cash dividends per underlying, besides those the broker reports (IB generic tick 456). */
  dividends: z.record(tickerSymbol, z.array(z.strictObject({ exDate: isoDate, amount: z.number().positive() }))).default({}),
  http: httpSchema.prefault({}),
  log: z.strictObject({ level: z.enum(['debug', 'info', 'warn', 'error']).default('info'), format: z.enum(['text', 'json']).default('text') }).prefault({}),
  leader: leaderSchema.prefault({}),
});

export type BrokerConfig = z.output<typeof brokerSchema>;

/** One account a `legguard run` guards: what differs between the accounts of one login. */
export interface AccountConfig {
  readonly account: AccountId;
  /** The IB client id of this account's connection (each account has its own connection to the same TWS/Gateway). */
  readonly clientId: number;
  readonly strategies: readonly StrategyDefinition[];
  /** The account's own `alerts:`, or the config's shared one. */
  readonly alerts: AlertsConfig;
}

export interface LegguardConfig {
  /** The file it came from, or null for the built-in defaults. */
  readonly file: string | null;
  /**
   * The account commands act on: the `account:`, or the first of `accounts:` (commands that act on one account ask
   * for `--account` when the file lists several; see `resolveConfig`).
   */
  readonly account: AccountId;
  /**
   * Every account `legguard run` guards, at least one: `account:` alone (client id `broker.clientId`, the top-level
   * `strategies:` and `alerts:`), or each entry of `accounts:`.
   */
  readonly accounts: readonly AccountConfig[];
  readonly dataDir: string;
  /** From the environment variable `database.urlEnv`; null: SQLite in `dataDir`. */
  readonly databaseUrl: string | null;
  /** The environment variable the URL is read from (`database.urlEnv`), for messages. */
  readonly databaseUrlEnv: string;
  readonly pgSchema: string | null;
  readonly broker: BrokerConfig;
  readonly guard: GuardConfig;
  readonly alerts: AlertsConfig;
  /** The strategies of `account` (the first account's when there are several). */
  readonly strategies: readonly StrategyDefinition[];
  /** `market.rate` (default 0.045) and `market.volatility` per symbol (upper case). */
  readonly market: { readonly rate: number; readonly volatility: Readonly<Record<string, number>> };
  /** `dividends:` per symbol (upper case). */
  readonly dividends: Readonly<Record<string, readonly Dividend[]>>;
  readonly log: { readonly level: 'debug' | 'info' | 'warn' | 'error'; readonly format: 'text' | 'json' };
  /** `http.listen` (null: no HTTP edge unless `--http`) and `http.tokenEnv` (default LEGGUARD_HTTP_TOKEN). */
  readonly http: { readonly listen: string | null; readonly tokenEnv: string };
  /** `leader.leaseMs` (default 6 s) and `leader.renewMs` (1.5 s). */
  readonly leader: { readonly leaseMs: number; readonly renewMs: number };
}

/**
 * Validates config text (YAML). Every problem is named with the file and the key, e.g.
 * `legguard.yaml: guard.onAssignment: Invalid option: expected one of "close"|"hedge"|"alert"`; all of them are
 * collected (a bad alert channel does not hide a bad port), and one error carries the list in `details.problems`.
 * A strategy naming the same contract twice is refused (`config check` also refuses legs already expired).
 * Relative paths (dataDir, a sim scenario) are resolved against the file's directory.
 */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv, now: number): LegguardConfig {
  const r = checkConfig(text, file, env, now);
  if (r.config === null) throw configError(file, r.problems, r.onlyChannels);
  return r.config;
}

/** Every problem of a config text: the config when there is none, else the problems (`key: what`, without the file). */
export interface ConfigCheck {
  readonly config: LegguardConfig | null;
  readonly problems: readonly string[];
  /** True when every problem is an alert channel entry (the error is then ALERT_CHANNEL_INVALID). */
  readonly onlyChannels: boolean;
  /** Where the state would live, when the file says so validly (or by default): checked even when other keys are bad. */
  readonly dataDir: string | null;
}

/**
 * `refuseExpired`: a strategy with a leg already expired at `now` is a problem (`config check`); a running guard
 * restarted after an expiry still starts (what the store holds decides what it guards).
 */
export function checkConfig(text: string, file: string, env: NodeJS.ProcessEnv, now: number, opts: { refuseExpired: boolean } = { refuseExpired: false }): ConfigCheck {
  const raw = text.trim() === '' ? {} : parseYamlMapping(text, file, 'CONFIG_INVALID', 'a config file is a mapping of keys (account, broker, guard, alerts ...)');
  const base = dirname(resolve(file));
  const rawDataDir = raw.dataDir === undefined ? 'data' : raw.dataDir;
  const dataDir = typeof rawDataDir === 'string' && rawDataDir !== '' ? abs(base, rawDataDir) : null;
  const channelProblems = checkChannels(raw.alerts, 'alerts');
  if (Array.isArray(raw.accounts)) {
    raw.accounts.forEach((entry: unknown, i) => {
      if (typeof entry === 'object' && entry !== null) channelProblems.push(...checkChannels((entry as Record<string, unknown>).alerts, `accounts[${i}].alerts`));
    });
  }
  const problems: string[] = channelProblems.map((p) => p.problem);
  const reported = new Set(channelProblems.map((p) => p.at));
  const r = configSchema.safeParse(raw);
  if (!r.success) {
    for (const i of r.error.issues) {
      // A channel entry already named on its own (with the known types) is not named again by the whole-file schema.
      const at = channelAt(i.path);
      if (at !== null && reported.has(at)) continue;
      problems.push(`${fieldPath(i.path)}: ${i.message}`);
    }
  }
  problems.push(...accountKeyProblems(raw));
  if (!r.success || problems.length > 0) return { config: null, problems, onlyChannels: problems.length === channelProblems.length, dataDir };
  const c = r.data;
  const url = env[c.database.urlEnv];
  const broker: BrokerConfig = c.broker;
  const entries =
    c.accounts ?? [{ account: c.account!, clientId: broker.clientId, strategies: c.strategies, alerts: undefined }];
  const accounts: AccountConfig[] = [];
  const seenAccounts = new Map<string, number>();
  const seenClients = new Map<number, number>();
  entries.forEach((e, n) => {
    const where = c.accounts === undefined ? '' : `accounts[${n}].`;
    const account = AccountId.parse(e.account);
    const other = seenAccounts.get(account.toUpperCase());
    if (other !== undefined) problems.push(`accounts[${n}].account: ${account} is listed twice (also accounts[${other}]); one guard per account`);
    seenAccounts.set(account.toUpperCase(), n);
    const clientId = e.clientId ?? broker.clientId + n;
    const clash = seenClients.get(clientId);
    if (clash !== undefined) {
      problems.push(
        `accounts[${n}].clientId: ${clientId} is also accounts[${clash}]'s client id${e.clientId === undefined ? ` (broker.clientId ${broker.clientId} + ${n})` : ''}; ` +
          'each account needs its own connection to TWS, and TWS refuses a second one with the same client id',
      );
    }
    seenClients.set(clientId, n);
    const strategies = buildStrategies(e.strategies, account, now);
    const ids = new Set<string>();
    strategies.forEach((s, i) => {
      if (ids.has(s.id)) problems.push(`${where}strategies[${i}].id: "${s.id}" is used twice`);
      ids.add(s.id);
      const legs = [...duplicateLegs(s.legs), ...(opts.refuseExpired ? expiredLegs(s.legs, now) : [])].sort((a, b) => a.index - b.index);
      for (const p of legs) problems.push(`${where}strategies[${i}].legs[${p.index}]: strategy "${s.id}": ${p.message}`);
    });
    accounts.push({ account, clientId, strategies, alerts: e.alerts ?? c.alerts });
  });
  const first = accounts[0]!;
  let guard: GuardConfig | null = null;
  try {
    guard = parseGuardConfig(c.guard, file);
  } catch (e) {
    if (!LegguardError.is(e)) throw e;
    const listed = e.details.problems;
    if (Array.isArray(listed)) problems.push(...listed.map(String));
    else problems.push(e.message.startsWith(`${file}: `) ? e.message.slice(file.length + 2) : e.message);
  }
  if (problems.length > 0 || guard === null) return { config: null, problems, onlyChannels: false, dataDir };
  return {
    config: {
      file,
      account: first.account,
      accounts,
      dataDir: abs(base, c.dataDir),
      databaseUrl: url !== undefined && url !== '' ? url : null,
      databaseUrlEnv: c.database.urlEnv,
      pgSchema: c.database.schema ?? null,
      broker,
      guard,
      alerts: c.alerts,
      strategies: first.strategies,
      market: { rate: c.market.rate, volatility: Object.fromEntries(Object.entries(c.market.volatility).map(([k, v]) => [k.toUpperCase(), v])) },
      dividends: Object.fromEntries(
        Object.entries(c.dividends).map(([k, v]) => [k.toUpperCase(), v.map((d) => ({ exDate: d.exDate, amount: d.amount }))]),
      ),
      log: c.log,
      http: { listen: c.http.listen ?? null, tokenEnv: c.http.tokenEnv },
      leader: { leaseMs: c.leader.leaseMs, renewMs: c.leader.renewMs },
    },
    problems: [],
    onlyChannels: false,
    dataDir,
  };
}

/**
 * One error for a file's problems: one problem is one line (`file: key: what`); several are a count and one line
 * each, so that every problem is seen in one run.
 */
export function configError(file: string, problems: readonly string[], onlyChannels = false): LegguardError {
  const code = onlyChannels ? 'ALERT_CHANNEL_INVALID' : 'CONFIG_INVALID';
  const message = problems.length === 1 ? `${file}: ${problems[0]!}` : `${file}: ${problems.length} problems:\n  ${problems.join('\n  ')}`;
  const first = problems[0] ?? '';
  return new LegguardError(code, message, { file, field: first.slice(0, Math.max(0, first.indexOf(': '))), problems: [...problems] });
}

/**
 * Alert channel entries are checked on their own first: the alerts schema names the channel and, for an unknown
 * type, the known ones (`alerts.channels[0]: alert channel "oncall": unknown channel type "pager"; known: console,
 * ...`), where the whole-file schema would only say the discriminator is invalid. Every bad entry is named. Other
 * problems of the `alerts:` section are left to the whole-file check, which names their key.
 */
function checkChannels(alerts: unknown, prefix: string): { at: string; problem: string }[] {
  const channels: unknown = typeof alerts === 'object' && alerts !== null ? (alerts as Record<string, unknown>).channels : undefined;
  if (!Array.isArray(channels)) return [];
  const out: { at: string; problem: string }[] = [];
  channels.forEach((ch: unknown, index) => {
    try {
      parseAlertsConfig({ channels: [ch] });
    } catch (e) {
      if (!LegguardError.is(e, 'ALERT_CHANNEL_INVALID')) return;
      out.push({ at: `${prefix}.channels[${index}]`, problem: `${prefix}.channels[${index}]: ${e.message}` });
    }
  });
  return out;
}

/** `alerts.channels[2]` or `accounts[1].alerts.channels[0]` when a schema issue lies within a channel entry. */
function channelAt(path: readonly PropertyKey[]): string | null {
  if (path[0] === 'alerts' && path[1] === 'channels' && typeof path[2] === 'number') return fieldPath(path.slice(0, 3));
  if (path[0] === 'accounts' && path[2] === 'alerts' && path[3] === 'channels' && typeof path[4] === 'number') return fieldPath(path.slice(0, 5));
  return null;
}

/**
 * `account:` and `accounts:` are alternatives: exactly one is given. With `accounts:`, the strategies are listed per
 * account (a top-level `strategies:` would not say whose they are).
 */
function accountKeyProblems(raw: Record<string, unknown>): string[] {
  const one = raw.account !== undefined;
  const many = raw.accounts !== undefined;
  if (one && many) return ['accounts: give either account: (one account) or accounts: (several), not both'];
  if (!one && !many) return ['account: missing: name the IB account to guard (account: DU1234567), or list several under accounts:'];
  if (many && raw.strategies !== undefined) return ["strategies: with accounts:, list each account's strategies under its entry (accounts[n].strategies)"];
  return [];
}

function abs(base: string, p: string): string {
  return isAbsolute(p) ? p : resolve(base, p);
}

/**
 * A config file this large (a book of thousands of strategies listed in it) is read and validated on a worker thread:
 * its YAML document takes about 80 times the file's size while it is parsed, which the guard would otherwise keep as
 * resident memory and collect as garbage through its start-up.
 */
export const CONFIG_OFF_THREAD_BYTES = 512 * 1024;

/** Reads and validates a config file; a missing or unreadable file is CONFIG_INVALID naming it. */
export async function loadConfig(file: string, env: NodeJS.ProcessEnv, now: number): Promise<LegguardConfig> {
  const size = await stat(file).then(
    (s) => s.size,
    () => 0, // readUserFile names what is wrong with it
  );
  if (size > CONFIG_OFF_THREAD_BYTES) return loadConfigOffThread(file, env, now);
  const text = await readUserFile(file, 'CONFIG_INVALID', 'config file');
  return parseConfig(text, file, env, now);
}

type WorkerAnswer =
  | { readonly config: LegguardConfig }
  | { readonly error: { readonly code: ErrorCode; readonly message: string; readonly details: Record<string, unknown> } }
  | { readonly internal: string };

async function loadConfigOffThread(file: string, env: NodeJS.ProcessEnv, now: number): Promise<LegguardConfig> {
  // Compiled, the worker is config-worker.js beside this file; from the TypeScript source (a checkout), the .ts file
  // through the tsx loader this process was started with.
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './config-worker.ts' : './config-worker.js', import.meta.url);
  const workerData = { file, env: { ...env }, now };
  // The reader allocates a short-lived node per scalar: a young generation of 64 MB (the default is 16) spares it
  // most of its scavenges (a third of its time on 10,000 strategies); the thread's heap goes when it ends.
  const resourceLimits = { maxYoungGenerationSizeMb: 64 };
  const worker = fromSource
    ? new Worker(
        `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((t) => { t.register(); return import(${JSON.stringify(entry.href)}); })`,
        { eval: true, workerData, resourceLimits },
      )
    : new Worker(entry, { workerData, resourceLimits });
  const answer = await new Promise<WorkerAnswer>((resolveAnswer, reject) => {
    worker.once('message', (m: WorkerAnswer) => resolveAnswer(m));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new LegguardError('INTERNAL', `${file}: the config reader stopped (exit ${code}) without an answer`, { file })));
  });
  await worker.terminate();
  if ('config' in answer) return answer.config;
  if ('error' in answer) throw new LegguardError(answer.error.code, answer.error.message, answer.error.details);
  throw new LegguardError('INTERNAL', `${file}: reading the config failed: ${answer.internal}`, { file });
}

/** Where a config keeps its state, as `legguard run` and the store commands open it. */
export function storeOptions(config: Pick<LegguardConfig, 'dataDir' | 'databaseUrl' | 'pgSchema'>): OpenStoreOptions {
  return {
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    ...(config.pgSchema !== null ? { pgSchema: config.pgSchema } : {}),
  };
}
