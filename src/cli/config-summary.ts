import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfiguredChannel } from '../adapters/alerts/alert-channel.js';
import { SQLITE_FILE } from '../adapters/store/open-store.js';
import { redactUrl } from '../adapters/store/redact-url.js';
import type { LegguardConfig } from '../app/config.js';
import { DEFAULT_GUARD_CONFIG } from '../engine/guard-config.js';
import { formatHolding } from './strategy-format.js';

/**
 * The guard settings that differ from the defaults, as `guard.key: value (default d)`, nested keys dotted
 * (`guard.limits.maxContractsPerOrder: 50 (default null)`). A config that changes nothing prints nothing here.
 */
export function guardChanges(config: LegguardConfig): string[] {
  const out: string[] = [];
  const walk = (path: string, value: unknown, dflt: unknown): void => {
    if (isPlainObject(value) && isPlainObject(dflt)) {
      const keys = [...new Set([...Object.keys(dflt), ...Object.keys(value)])].sort();
      for (const k of keys) walk(`${path}.${k}`, value[k], dflt[k]);
      return;
    }
    if (JSON.stringify(value) !== JSON.stringify(dflt)) out.push(`${path}: ${show(value)} (default ${show(dflt)})`);
  };
  walk('guard', config.guard, DEFAULT_GUARD_CONFIG);
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  return v === undefined ? '(none)' : JSON.stringify(v);
}

/** Where the state lives, without a password: the SQLite file (and whether it exists yet) or the Postgres URL. */
export function describeDatabase(config: LegguardConfig): string {
  if (config.databaseUrl !== null) {
    return `Postgres ${redactUrl(config.databaseUrl)} (from ${config.databaseUrlEnv}${config.pgSchema !== null ? `, schema ${config.pgSchema}` : ''}); data dir ${config.dataDir}`;
  }
  const file = join(config.dataDir, SQLITE_FILE);
  return `SQLite ${file} (${existsSync(file) ? 'exists' : 'created at the first start'}; ${config.databaseUrlEnv} is not set, so not Postgres)`;
}

/** The short summary `legguard config check` prints once everything validated. */
export function summariseConfig(config: LegguardConfig, channels: readonly ConfiguredChannel[], own: ReadonlyMap<string, readonly ConfiguredChannel[]> = new Map()): string[] {
  const lines: string[] = [];
  const several = config.accounts.length > 1;
  lines.push(`${config.file ?? '(built-in defaults)'}: valid`);
  if (several) lines.push(`  accounts: ${config.accounts.map((a) => `${a.account} (client id ${a.clientId})`).join(', ')}; one guard each in one process`);
  else lines.push(`  account: ${config.account}`);
  lines.push(`  state: ${describeDatabase(config)}`);
  const b = config.broker;
  lines.push(`  broker: TWS / IB Gateway at ${b.host}:${b.port}, ${several ? 'a connection per account' : `client id ${b.clientId}`}, market data type ${b.marketDataType}`);
  const changes = guardChanges(config);
  lines.push(changes.length === 0 ? '  guard: all defaults' : `  guard (differs from the defaults):`);
  for (const c of changes) lines.push(`    ${c}`);
  const vols = Object.entries(config.market.volatility).map(([k, v]) => `${k} ${v}`);
  lines.push(`  market: rate ${config.market.rate}${vols.length > 0 ? `; volatility ${vols.join(', ')}` : '; no volatilities (only market quotes decide the early-exercise rules)'}`);
  const divs = Object.entries(config.dividends).map(([k, ds]) => `${k} ${ds.map((d) => `${d.amount} ex ${d.exDate}`).join(', ')}`);
  if (divs.length > 0) lines.push(`  dividends: ${divs.join('; ')}`);
  const channelLines = (list: readonly ConfiguredChannel[], indent: string): string[] =>
    list.map((c) => `${indent}${c.channel.name} (${c.channel.type}): ${c.channel.target}, ${c.minSeverity} and above${c.heartbeat ? '' : ', no heartbeat'}`);
  const strategyLines = (list: LegguardConfig['strategies'], indent: string): string[] =>
    list.map((s) => `${indent}${s.id} (${s.kind}${s.policy !== undefined ? `, policy ${s.policy}` : ''}): ${s.legs.map(formatHolding).join(', ')}`);
  lines.push(`  alert channels (${channels.length}; secrets present)${several ? ', for every account without its own' : ''}:`);
  lines.push(...channelLines(channels, '    '));
  if (!several) {
    lines.push(`  strategies in the file (${config.strategies.length}; added to the store at start when missing):`);
    lines.push(...strategyLines(config.strategies, '    '));
    return lines;
  }
  for (const a of config.accounts) {
    const mine = own.get(a.account);
    lines.push(`  ${a.account}: client id ${a.clientId}; ${mine === undefined ? 'the shared alert channels' : `alert channels of its own (${mine.length}; secrets present):`}`);
    if (mine !== undefined) lines.push(...channelLines(mine, '      '));
    lines.push(`    strategies in the file (${a.strategies.length}; added to the store at start when missing):`);
    lines.push(...strategyLines(a.strategies, '      '));
  }
  return lines;
}
