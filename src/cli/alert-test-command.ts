import { SEVERITIES } from '../adapters/alerts/alerts-config.js';
import { buildChannels } from '../adapters/alerts/build-channels.js';
import { testAlert } from '../adapters/alerts/system-alerts.js';
import { SystemClock } from '../adapters/clock/system-clock.js';
import { DEFAULT_CONFIG_FILE } from '../app/config.js';
import { LegguardError } from '../core/errors.js';
import type { Severity } from '../ports/alerts.js';
import type { Clock } from '../ports/clock.js';
import type { Command, CommandIo } from './command.js';
import { resolveConfig } from './config-source.js';
import { parseCommandArgs } from './parse-args.js';

export interface AlertTestDeps {
  readonly clock: Clock;
}

/**
 * `legguard alert test`: sends one test alert on every configured channel, directly (not through the outbox, so
 * the answer is now), and prints each channel's result. Exit 0 when all delivered, 1 when any failed, 2 when the
 * config or a channel's settings are wrong.
 */
export function alertTestCommand(deps: AlertTestDeps = { clock: new SystemClock() }): Command {
  return {
    name: 'alert',
    summary: 'alert test: send a test alert on every configured channel and report each result',
    usage: `legguard alert test [--config ${DEFAULT_CONFIG_FILE}] [--account ID] [--channel name] [--severity info|warning|critical]`,
    async run(args: readonly string[], io: CommandIo): Promise<number> {
      const { values, positionals } = parseCommandArgs('alert', args, { config: { type: 'string' }, account: { type: 'string' }, channel: { type: 'string' }, severity: { type: 'string' } });
      if (positionals.length !== 1 || positionals[0] !== 'test') {
        throw new LegguardError('INVALID_INPUT', `expected "alert test"; usage: ${this.usage}`);
      }
      const severity = typeof values.severity === 'string' ? values.severity : 'warning';
      if (!(SEVERITIES as readonly string[]).includes(severity)) {
        throw new LegguardError('INVALID_INPUT', `--severity must be one of ${SEVERITIES.join(', ')}; got ${JSON.stringify(severity)}`);
      }
      const channelName = typeof values.channel === 'string' ? values.channel : undefined;
      // The config `legguard run` reads; without --config, legguard.yaml here (a test of the defaults would prove nothing).
      // A config of several accounts: --account names whose channels (its own alerts:, else the shared ones).
      const config = await resolveConfig(
        { config: typeof values.config === 'string' ? values.config : DEFAULT_CONFIG_FILE, account: typeof values.account === 'string' ? values.account : undefined },
        io,
        deps.clock.now(),
      );
      const built = buildChannels(config.alerts, { env: io.env, stdout: io.stdout, stderr: io.stderr });
      try {
        const chosen = channelName === undefined ? built.channels : built.channels.filter((c) => c.channel.name === channelName);
        if (chosen.length === 0) {
          const names = built.channels.map((c) => c.channel.name).join(', ') || '(none)';
          throw new LegguardError('NOT_FOUND', channelName === undefined ? 'no alert channel is configured' : `no alert channel named "${channelName}"; configured: ${names}`);
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
