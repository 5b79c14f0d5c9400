import type { ConfiguredChannel } from '../adapters/alerts/alert-channel.js';
import { buildChannels } from '../adapters/alerts/build-channels.js';
import { createStore } from '../adapters/store/open-store.js';
import { DEFAULT_CONFIG_FILE, type LegguardConfig } from '../app/config.js';
import { LegguardError } from '../core/errors.js';
import type { Command, CommandIo } from './command.js';
import { storeOptions } from './command-store.js';
import { resolveConfig } from './config-source.js';
import { summariseConfig } from './config-summary.js';
import { parseCommandArgs } from './parse-args.js';

/**
 * Builds every alert channel on its own, so that a problem names the channel's place in the file
 * (`alerts.channels[1]`) as well as the channel; all problems are collected into one error.
 */
function checkChannels(config: LegguardConfig, io: CommandIo): ConfiguredChannel[] {
  const built: ConfiguredChannel[] = [];
  const problems: string[] = [];
  config.alerts.channels.forEach((ch, i) => {
    try {
      // The process's own streams, so a console channel is described as the guard will use it (stdout or stderr).
      built.push(...buildChannels({ ...config.alerts, channels: [ch] }, { env: io.env }).channels);
    } catch (e) {
      if (!LegguardError.is(e)) throw e;
      problems.push(`alerts.channels[${i}]: ${e.message}`);
    }
  });
  // Nothing is sent here; the channels are built only to check them.
  for (const c of built) c.channel.close();
  if (problems.length > 0) {
    const file = config.file ?? DEFAULT_CONFIG_FILE;
    throw new LegguardError(
      'ALERT_CHANNEL_INVALID',
      problems.length === 1 ? `${file}: ${problems[0]!}` : `${file}: ${problems.length} problems with alert channels:\n  ${problems.join('\n  ')}`,
      { file, problems },
    );
  }
  return built;
}

/** A database URL that cannot be used is a config problem: it names the variable it came from, never the value. */
function checkDatabase(config: LegguardConfig): void {
  try {
    createStore(storeOptions(config));
  } catch (e) {
    if (!LegguardError.is(e)) throw e;
    const key = config.databaseUrl !== null ? `database (the URL in ${config.databaseUrlEnv})` : 'dataDir';
    throw new LegguardError('CONFIG_INVALID', `${config.file ?? DEFAULT_CONFIG_FILE}: ${key}: ${e.message}`, { file: config.file, field: key }, { cause: e });
  }
}

/**
 * `legguard config check [--config FILE]`: validates the config file as `legguard run` reads it, checks that every
 * alert channel's secrets are in the environment (without printing them) and that the database URL is usable, then
 * prints a short summary. Exit 0 when valid, 2 naming the file, the key and the problem otherwise. Connects to
 * nothing: no broker, no database, no alert service.
 */
export function configCheckCommand(): Command {
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
      const file = typeof values.config === 'string' ? values.config : DEFAULT_CONFIG_FILE;
      const config = await resolveConfig({ config: file }, io, Date.now());
      checkDatabase(config);
      const channels = checkChannels(config, io);
      io.stdout.write(`${summariseConfig(config, channels).join('\n')}\n`);
      return 0;
    },
  };
}
