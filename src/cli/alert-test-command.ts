import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { parseAlertsConfig, SEVERITIES, type AlertsConfig } from '../adapters/alerts/alerts-config.js';
import { buildChannels } from '../adapters/alerts/build-channels.js';
import { testAlert } from '../adapters/alerts/system-alerts.js';
import { SystemClock } from '../adapters/clock/system-clock.js';
import { LegguardError } from '../core/errors.js';
import type { Severity } from '../ports/alerts.js';
import type { Clock } from '../ports/clock.js';
import type { Command, CommandIo } from './command.js';

/** The config file when `--config` is not given. */
export const DEFAULT_CONFIG_FILE = 'legguard.yaml';

/**
 * Reads the `alerts:` section of a config file. A stand-in for the application's config loader until it lands:
 * it reads the same file and validates the section with the same schema.
 */
export async function readAlertsConfig(file: string): Promise<AlertsConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new LegguardError('CONFIG_INVALID', `${file}: cannot read the config file (${code})`, { file });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new LegguardError('CONFIG_INVALID', `${file}: not valid YAML: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, { file });
  }
  const alerts = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>).alerts : undefined;
  try {
    return parseAlertsConfig(alerts);
  } catch (e) {
    if (LegguardError.is(e)) throw new LegguardError(e.code, `${file}: ${e.message}`, { ...e.details, file });
    throw e;
  }
}

export interface AlertTestDeps {
  readonly clock: Clock;
  readonly loadConfig: (file: string) => Promise<AlertsConfig>;
}

/**
 * `legguard alert test`: sends one test alert on every configured channel, directly (not through the outbox, so
 * the answer is now), and prints each channel's result. Exit 0 when all delivered, 1 when any failed, 2 when the
 * config or a channel's settings are wrong.
 */
export function alertTestCommand(deps: AlertTestDeps = { clock: new SystemClock(), loadConfig: readAlertsConfig }): Command {
  return {
    name: 'alert',
    summary: 'alert test: send a test alert on every configured channel and report each result',
    usage: `legguard alert test [--config ${DEFAULT_CONFIG_FILE}] [--channel name] [--severity info|warning|critical]`,
    async run(args: readonly string[], io: CommandIo): Promise<number> {
      let values: { config?: string; channel?: string; severity?: string };
      let positionals: string[];
      try {
        ({ values, positionals } = parseArgs({
          args: [...args],
          options: { config: { type: 'string' }, channel: { type: 'string' }, severity: { type: 'string' } },
          allowPositionals: true,
          strict: true,
        }));
      } catch (e) {
        throw new LegguardError('INVALID_INPUT', e instanceof Error ? e.message : String(e));
      }
      if (positionals.length !== 1 || positionals[0] !== 'test') {
        throw new LegguardError('INVALID_INPUT', `expected "alert test"; usage: ${this.usage}`);
      }
      const severity = values.severity ?? 'warning';
      if (!(SEVERITIES as readonly string[]).includes(severity)) {
        throw new LegguardError('INVALID_INPUT', `--severity must be one of ${SEVERITIES.join(', ')}; got ${JSON.stringify(severity)}`);
      }
      const file = resolve(io.cwd, values.config ?? DEFAULT_CONFIG_FILE);
      const config = await deps.loadConfig(file);
      const built = buildChannels(config, { env: io.env, stdout: io.stdout, stderr: io.stderr });
      try {
        const chosen = values.channel === undefined ? built.channels : built.channels.filter((c) => c.channel.name === values.channel);
        if (chosen.length === 0) {
          const names = built.channels.map((c) => c.channel.name).join(', ') || '(none)';
          throw new LegguardError('NOT_FOUND', values.channel === undefined ? 'no alert channel is configured' : `no alert channel named "${values.channel}"; configured: ${names}`);
        }
        const alert = testAlert(deps.clock.now(), severity as Severity);
        const results = await Promise.all(
          chosen.map(async (c) => {
            const started = deps.clock.perf();
            try {
              await c.channel.send(alert);
              return { c, ok: true, ms: deps.clock.perf() - started, error: null };
            } catch (e) {
              const error = LegguardError.is(e) ? built.redactor.redact(e.message) : built.redactor.describe(e);
              return { c, ok: false, ms: deps.clock.perf() - started, error };
            }
          }),
        );
        const width = Math.max(...results.map((r) => r.c.channel.name.length));
        for (const r of results) {
          const head = `${r.ok ? 'ok  ' : 'FAIL'}  ${r.c.channel.name.padEnd(width)}  ${r.c.channel.target}`;
          io.stdout.write(r.ok ? `${head}  (${Math.round(r.ms)} ms)\n` : `${head}\n      ${r.error}\n`);
        }
        const failed = results.filter((r) => !r.ok).length;
        io.stdout.write(failed === 0 ? `all ${results.length} channel(s) delivered the test alert\n` : `${failed} of ${results.length} channel(s) failed\n`);
        return failed === 0 ? 0 : 1;
      } finally {
        for (const c of built.channels) c.channel.close();
      }
    },
  };
}
