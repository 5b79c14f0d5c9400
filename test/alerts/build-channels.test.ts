import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { LegguardError } from '../../src/core/errors.js';
import { alertsConfigSchema, parseAlertsConfig, type AlertsConfigInput } from '../../src/adapters/alerts/alerts-config.js';
import { buildChannels, type Env } from '../../src/adapters/alerts/build-channels.js';
import { REDACTED } from '../../src/adapters/alerts/redactor.js';

const ESC = '\x1b[';
const TOKEN = '7001234567:AAE_abcdefghijklmnopqrstuvwxyz012345';
const SLACK = 'https://hooks.slack.com/services/T0001/B0002/abcdefSECRETxyz';
const env: Env = {
  TELEGRAM_BOT_TOKEN: TOKEN,
  SLACK_WEBHOOK_URL: SLACK,
  NTFY_TOPIC: 'lg-9f8e7d6c',
  NTFY_TOKEN: 'tk_abcdefghijklmnop',
  SMTP_PASSWORD: 'smtp-pass-!23',
  HOOK_AUTH: 'Bearer hook-auth-secret',
};

const full: AlertsConfigInput = {
  channels: [
    { type: 'console', name: 'console' },
    { type: 'webhook', name: 'slack', urlEnv: 'SLACK_WEBHOOK_URL', format: 'slack', minSeverity: 'warning' },
    { type: 'webhook', name: 'ops', url: 'https://ops.example.com/legguard', headersEnv: { Authorization: 'HOOK_AUTH' } },
    { type: 'ntfy', name: 'ntfy', topicEnv: 'NTFY_TOPIC', tokenEnv: 'NTFY_TOKEN', rateLimit: { max: 5 } },
    { type: 'telegram', name: 'phone', tokenEnv: 'TELEGRAM_BOT_TOKEN', chatId: 123456789, minSeverity: 'critical' },
    { type: 'email', name: 'mail', host: 'smtp.example.com', port: 465, user: 'guard@example.com', passwordEnv: 'SMTP_PASSWORD', from: 'guard@example.com', to: ['me@example.com'] },
  ],
};

function fails(fn: () => unknown): LegguardError {
  try {
    fn();
  } catch (e) {
    assert.ok(LegguardError.is(e), `expected a LegguardError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}

function allSecrets(): string[] {
  return Object.values(env).filter((v): v is string => typeof v === 'string');
}

describe('alerts config schema', () => {
  test('defaults: a console channel, backoff, escalation every 15 min, heartbeat at 08:00 New York, probe warns', () => {
    const c = parseAlertsConfig(undefined);
    assert.deepEqual(c.channels.map((x) => [x.type, x.name, x.minSeverity]), [['console', 'console', 'info']]);
    assert.deepEqual(c.delivery, { maxAttempts: 12, initialSeconds: 5, factor: 2, maxSeconds: 900, failureThreshold: 3, pollSeconds: 15, staleAfterHours: 24 });
    assert.deepEqual(c.escalation, { enabled: true, repeatEveryMinutes: 15, maxRepeats: null });
    assert.deepEqual(c.heartbeat, { enabled: true, at: '08:00' });
    assert.equal(c.startupCheck, 'warn');
  });

  test('channel defaults fill in; a numeric chat id becomes a string', () => {
    const c = parseAlertsConfig(full);
    const phone = c.channels.find((x) => x.name === 'phone');
    assert.ok(phone?.type === 'telegram');
    assert.equal(phone.chatId, '123456789');
    assert.equal(phone.apiBase, 'https://api.telegram.org');
    assert.deepEqual(phone.rateLimit, { max: 20, perSeconds: 60 });
    const ntfy = c.channels.find((x) => x.name === 'ntfy');
    assert.ok(ntfy?.type === 'ntfy');
    assert.equal(ntfy.server, 'https://ntfy.sh');
    assert.deepEqual(ntfy.rateLimit, { max: 5, perSeconds: 60 });
  });

  test('an unknown channel type is ALERT_CHANNEL_INVALID naming the channel and the known types', () => {
    const e = fails(() => parseAlertsConfig({ channels: [{ type: 'console', name: 'a' }, { type: 'pager', name: 'oncall' }] }));
    assert.equal(e.code, 'ALERT_CHANNEL_INVALID');
    assert.equal(e.message, 'alert channel "oncall": unknown channel type "pager"; known: console, webhook, ntfy, telegram, email');
  });

  test('a bad field names the channel, the type and the field', () => {
    const e = fails(() => parseAlertsConfig({ channels: [{ type: 'telegram', name: 'phone', tokenEnv: 'X', chatId: 1, minSeverity: 'urgent' }] }));
    assert.equal(e.code, 'ALERT_CHANNEL_INVALID');
    assert.match(e.message, /^alert channel "phone" \(telegram\): minSeverity: /);
    const w = fails(() => parseAlertsConfig({ channels: [{ type: 'webhook', name: 'hook' }] }));
    assert.equal(w.message, 'alert channel "hook" (webhook): give exactly one of url and urlEnv');
  });

  test('a secret pasted where an env var name belongs is refused without echoing it', () => {
    const e = fails(() => parseAlertsConfig({ channels: [{ type: 'telegram', name: 'phone', tokenEnv: TOKEN, chatId: 1 }] }));
    assert.equal(e.code, 'ALERT_CHANNEL_INVALID');
    assert.match(e.message, /tokenEnv: must name an environment variable/);
    assert.ok(!e.message.includes(TOKEN) && !JSON.stringify(e.details).includes(TOKEN));
    // The schema the config loader embeds does not echo it either.
    const r = alertsConfigSchema.safeParse({ channels: [{ type: 'telegram', name: 'phone', tokenEnv: TOKEN, chatId: 1 }] });
    assert.ok(!r.success);
    assert.ok(!JSON.stringify(r.error.issues).includes(TOKEN));
  });

  test('duplicate channel names and a bad heartbeat time are CONFIG_INVALID', () => {
    const d = fails(() => parseAlertsConfig({ channels: [{ type: 'console', name: 'a' }, { type: 'console', name: 'a' }] }));
    assert.equal(d.code, 'CONFIG_INVALID');
    assert.match(d.message, /channels\[1\]\.name: channel name "a" is used twice/);
    const h = fails(() => parseAlertsConfig({ heartbeat: { at: '8am' } }));
    assert.match(h.message, /heartbeat\.at: must be HH:MM/);
  });
});

describe('buildChannels', () => {
  test('builds every channel with its delivery rules; targets show nothing secret', () => {
    const built = buildChannels(parseAlertsConfig(full), { env, stderr: new PassThrough() });
    assert.deepEqual(
      built.channels.map((c) => [c.channel.name, c.channel.type, c.minSeverity, c.rateLimit.max, c.rateLimit.perMs]),
      [
        ['console', 'console', 'info', 20, 60_000],
        ['slack', 'webhook', 'warning', 20, 60_000],
        ['ops', 'webhook', 'info', 20, 60_000],
        ['ntfy', 'ntfy', 'info', 5, 60_000],
        ['phone', 'telegram', 'critical', 20, 60_000],
        ['mail', 'email', 'info', 20, 60_000],
      ],
    );
    const targets = built.channels.map((c) => c.channel.target);
    assert.deepEqual(targets.slice(1), [
      'slack webhook https://hooks.slack.com/…',
      'json webhook https://ops.example.com/…',
      'ntfy https://ntfy.sh/…',
      'telegram chat 123456789 via https://api.telegram.org/…',
      'email to me@example.com via smtp.example.com:465',
    ]);
    for (const s of allSecrets()) assert.ok(!targets.join(' ').includes(s));
    // The redactor knows every secret, and the path of a webhook URL written in the file.
    for (const s of [...allSecrets(), '/legguard']) assert.equal(built.redactor.redact(`x ${s} y`), `x ${REDACTED} y`);
    for (const c of built.channels) c.channel.close();
  });

  test('a missing or empty secret variable: ALERT_CHANNEL_INVALID naming channel and variable', () => {
    const e = fails(() => buildChannels(parseAlertsConfig(full), { env: { ...env, TELEGRAM_BOT_TOKEN: undefined } }));
    assert.equal(e.code, 'ALERT_CHANNEL_INVALID');
    assert.equal(e.message, 'alert channel "phone" (telegram): environment variable TELEGRAM_BOT_TOKEN (tokenEnv) is not set');
    const empty = fails(() => buildChannels(parseAlertsConfig(full), { env: { ...env, SMTP_PASSWORD: '  ' } }));
    assert.equal(empty.message, 'alert channel "mail" (email): environment variable SMTP_PASSWORD (passwordEnv) is empty');
  });

  test('a bad URL is named without showing it', () => {
    const bad = fails(() => buildChannels(parseAlertsConfig(full), { env: { ...env, SLACK_WEBHOOK_URL: 'hooks.slack.com/services/T/B/SECRETX' } }));
    assert.equal(bad.message, 'alert channel "slack" (webhook): the URL in SLACK_WEBHOOK_URL is not a valid URL');
    assert.ok(!bad.message.includes('SECRETX'));
    const scheme = fails(() => buildChannels(parseAlertsConfig({ channels: [{ type: 'webhook', name: 'w', url: 'ftp://x.example.com/a' }] }), { env }));
    assert.equal(scheme.message, 'alert channel "w" (webhook): url must be an http:// or https:// URL, not ftp:');
    const creds = fails(() => buildChannels(parseAlertsConfig({ channels: [{ type: 'webhook', name: 'w', url: 'https://u:p@x.example.com/a' }] }), { env }));
    assert.match(creds.message, /must not carry a user name or password/);
    const api = fails(() => buildChannels(parseAlertsConfig({ channels: [{ type: 'telegram', name: 't', tokenEnv: 'TELEGRAM_BOT_TOKEN', chatId: 1, apiBase: 'api.telegram.org' }] }), { env }));
    assert.equal(api.message, 'alert channel "t" (telegram): apiBase is not a valid URL');
  });

  test('a variable that does not hold a bot token is caught, and the value is not shown', () => {
    const e = fails(() => buildChannels(parseAlertsConfig(full), { env: { ...env, TELEGRAM_BOT_TOKEN: 'hunter2-not-a-token' } }));
    assert.equal(e.message, 'alert channel "phone" (telegram): environment variable TELEGRAM_BOT_TOKEN does not hold a bot token (expected digits, ":", then the key)');
    assert.ok(!e.message.includes('hunter2'));
  });

  test('bad chat id, bad addresses, a URL for a host, a password without a user', () => {
    const e = fails(() =>
      buildChannels(
        parseAlertsConfig({
          channels: [
            { type: 'telegram', name: 't', tokenEnv: 'TELEGRAM_BOT_TOKEN', chatId: 'my chat' },
            { type: 'email', name: 'm', host: 'smtp://smtp.example.com', passwordEnv: 'SMTP_PASSWORD', from: 'nobody', to: ['me@example.com', 'you'] },
          ],
        }),
        { env },
      ),
    );
    assert.equal(
      e.message,
      [
        '5 problems with alert channels:',
        '  alert channel "t" (telegram): chatId must be a numeric chat id (like 123456789 or -1001234567890) or @channelname',
        '  alert channel "m" (email): passwordEnv needs user or userEnv',
        '  alert channel "m" (email): from is not an email address',
        '  alert channel "m" (email): to[1] is not an email address',
        '  alert channel "m" (email): host must be a host name or address, not a URL',
      ].join('\n'),
    );
    assert.equal((e.details.problems as string[]).length, 5);
  });

  test('every problem of every channel is named at once, and no secret value appears', () => {
    const e = fails(() =>
      buildChannels(parseAlertsConfig(full), { env: { SLACK_WEBHOOK_URL: 'not a url with SECRET-ish', NTFY_TOPIC: 'bad topic!', HOOK_AUTH: 'x' } }),
    );
    const lines = e.message.split('\n');
    assert.match(lines[0]!, /^\d+ problems with alert channels:$/);
    assert.ok(lines.some((l) => l.includes('"slack" (webhook): the URL in SLACK_WEBHOOK_URL is not a valid URL')));
    assert.ok(lines.some((l) => l.includes('"ntfy" (ntfy): the topic must be 1-64 letters')));
    assert.ok(lines.some((l) => l.includes('"phone" (telegram): environment variable TELEGRAM_BOT_TOKEN (tokenEnv) is not set')));
    assert.ok(lines.some((l) => l.includes('"mail" (email): environment variable SMTP_PASSWORD (passwordEnv) is not set')));
    assert.ok(!e.message.includes('SECRET-ish') && !e.message.includes('bad topic!'));
  });

  test('console colour: on a TTY unless NO_COLOR, always or never when told', () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true });
    const build = (color: 'auto' | 'always' | 'never', e: Env, stream: NodeJS.WritableStream & { isTTY?: boolean }): string => {
      const b = buildChannels(parseAlertsConfig({ channels: [{ type: 'console', name: 'c', color }] }), { env: e, stderr: stream });
      const ch = b.channels[0]!.channel as unknown as { render(a: unknown): string };
      return ch.render({ key: 'k', severity: 'critical', incidentId: null, strategyId: null, title: 'T', text: 'x', at: 0, facts: {} });
    };
    assert.ok(build('auto', {}, tty).includes(ESC));
    assert.ok(!build('auto', { NO_COLOR: '1' }, tty).includes(ESC));
    assert.ok(!build('auto', {}, new PassThrough()).includes(ESC));
    assert.ok(build('always', {}, new PassThrough()).includes(ESC));
    assert.ok(!build('never', {}, tty).includes(ESC));
  });
});
