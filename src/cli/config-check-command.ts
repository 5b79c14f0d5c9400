import type { ConfiguredChannel } from '../adapters/alerts/alert-channel.js';
import { buildChannels } from '../adapters/alerts/build-channels.js';
import { createStore } from '../adapters/store/open-store.js';
import { resolve } from 'node:path';
import { dataDirProblem } from '../adapters/store/data-dir.js';
import { checkConfig, configError, DEFAULT_CONFIG_FILE, type LegguardConfig } from '../app/config.js';
import { readUserFile } from '../lib/yaml-file.js';
import { LegguardError } from '../core/errors.js';
import type { Command, CommandIo } from './command.js';
import { storeOptions } from './command-store.js';
import { summariseConfig } from './config-summary.js';
import { parseCommandArgs } from './parse-args.js';

/**
 * Builds every alert channel on its own, so that a problem names the channel's place in the file
 * (`alerts.channels[1]`) as well as the channel; every problem is returned.
 */
function checkChannels(config: LegguardConfig, io: CommandIo): { built: ConfiguredChannel[]; own: Map<string, ConfiguredChannel[]>; problems: string[] } {
  const problems: string[] = [];
  const build = (alerts: LegguardConfig['alerts'], prefix: string): ConfiguredChannel[] => {
    const built: ConfiguredChannel[] = [];
    alerts.channels.forEach((ch, i) => {
      try {
        // The process's own streams, so a console channel is described as the guard will use it (stdout or stderr).
        built.push(...buildChannels({ ...alerts, channels: [ch] }, { env: io.env }).channels);
      } catch (e) {
        if (!LegguardError.is(e)) throw e;
        problems.push(`${prefix}.channels[${i}]: ${e.message}`);
      }
    });
    // Nothing is sent here; the channels are built only to check them.
    for (const c of built) c.channel.close();
    return built;
  };
  const built = build(config.alerts, 'alerts');
  // An account of `accounts:` with alerts of its own: its channels are checked too (their secrets, their targets).
  const own = new Map<string, ConfiguredChannel[]>();
  config.accounts.forEach((a, n) => {
    if (a.alerts !== config.alerts) own.set(a.account, build(a.alerts, `accounts[${n}].alerts`));
  });
  return { built, own, problems };
}

/** A database URL that cannot be used is a config problem: it names the variable it came from, never the value. */
function checkDatabase(config: LegguardConfig): string | null {
  if (config.databaseUrl === null) return null;
  try {
    createStore(storeOptions(config));
    return null;
  } catch (e) {
    if (!LegguardError.is(e)) throw e;
    return `database (the URL in ${config.databaseUrlEnv}): ${e.message}`;
  }
}

/** The data directory (SQLite, and the guard's local state) must be, or be able to become, a writable directory. */
function checkDataDir(dataDir: string | null): string | null {
  if (dataDir === null) return null;
  const problem = dataDirProblem(dataDir);
  return problem === null ? null : `dataDir: ${dataDir} ${problem}`;
}

export interface ConfigCheckDeps {
  /** The clock legs are checked against (an expired leg is refused); tests pin it. */
  readonly now: () => number;
}

/**
 * `legguard config check [--config FILE]`: validates the config file as `legguard run` reads it, checks that every
 * alert channel's secrets are in the environment (without printing them), that the database URL is usable and that
 * the data directory is (or can become) a writable directory, then prints a short summary. Every problem in the file
 * is reported in one run. Exit 0 when valid, 2 naming the file, the keys and the problems otherwise. Connects to
 * nothing: no broker, no database, no alert service.
 */
export function configCheckCommand(deps: ConfigCheckDeps = { now: () => Date.now() }): Command {
  return {
    name: 'config',
    summary: 'config check: validate the config file (and the alert secrets it names) and summarise it',
    usage: `legguard config check [--config ${DEFAULT_CONFIG_FILE}]`,
    async run(args, io) {
      const { values, positionals } = parseCommandArgs('config', args, { config: { type: 'string' } });
      if (positionals.length !== 1 || positionals[0] !== 'check') {
        throw new LegguardError('INVALID_INPUT', `expected "config check"; usage: ${this.usage}`);
      }
      // The default file, when no --config: a check of the built-in defaults would say nothing about the guard.
      const file = resolve(io.cwd, typeof values.config === 'string' ? values.config : DEFAULT_CONFIG_FILE);
      const text = await readUserFile(file, 'CONFIG_INVALID', 'config file');
      const r = checkConfig(text, file, io.env, deps.now(), { refuseExpired: true });
      const problems = [...r.problems];
      const ioProblems: string[] = [];
      const dir = checkDataDir(r.config?.dataDir ?? r.dataDir);
      if (dir !== null) ioProblems.push(dir);
      let channels: ConfiguredChannel[] = [];
      let own = new Map<string, ConfiguredChannel[]>();
      if (r.config !== null) {
        const db = checkDatabase(r.config);
        if (db !== null) ioProblems.push(db);
        const ch = checkChannels(r.config, io);
        channels = ch.built;
        own = ch.own;
        problems.push(...ch.problems);
      }
      problems.push(...ioProblems);
      if (problems.length > 0) {
        const onlyChannels = ioProblems.length === 0 && (r.config !== null ? true : r.onlyChannels);
        throw configError(file, problems, onlyChannels);
      }
      io.stdout.write(`${summariseConfig(r.config!, channels, own).join('\n')}\n`);
      return 0;
    },
  };
}
