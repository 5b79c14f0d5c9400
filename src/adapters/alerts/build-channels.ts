import { LegguardError } from '../../core/errors.js';
import type { ConfiguredChannel, GuardedChannel } from './alert-channel.js';
import type { AlertsConfig, ChannelConfig } from './alerts-config.js';
import { ConsoleChannel } from './console-channel.js';
import { EmailChannel } from './email-channel.js';
import { NtfyChannel } from './ntfy-channel.js';
import { Redactor } from './redactor.js';
import { TelegramChannel } from './telegram-channel.js';
import { WebhookChannel } from './webhook-channel.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface BuildChannelsOptions {
  readonly env: Env;
  readonly stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr?: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface BuiltChannels {
  readonly channels: readonly ConfiguredChannel[];
  /** Knows every secret the channels read; everything shown to a person about alerts goes through it. */
  readonly redactor: Redactor;
}

/** Collects every problem of every channel, so one start-up names them all. */
class Problems {
  readonly list: string[] = [];
  add(ch: ChannelConfig, problem: string): void {
    this.list.push(`alert channel "${ch.name}" (${ch.type}): ${problem}`);
  }
}

/** Reads a secret; a missing or empty variable is a problem named by the variable, never by a value. */
function secret(env: Env, ch: ChannelConfig, field: string, varName: string, problems: Problems): string | null {
  const v = env[varName];
  if (v === undefined) {
    problems.add(ch, `environment variable ${varName} (${field}) is not set`);
    return null;
  }
  if (v.trim() === '') {
    problems.add(ch, `environment variable ${varName} (${field}) is empty`);
    return null;
  }
  return v.trim();
}

/** An http(s) URL, or a problem. The value is not echoed: a webhook URL is a secret even when written in the file. */
function httpUrl(ch: ChannelConfig, field: string, value: string | null, problems: Problems): string | null {
  if (value === null) return null;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    problems.add(ch, `${field} is not a valid URL`);
    return null;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    problems.add(ch, `${field} must be an http:// or https:// URL, not ${u.protocol}`);
    return null;
  }
  if (u.username || u.password) {
    problems.add(ch, `${field} must not carry a user name or password; use headersEnv or tokenEnv`);
    return null;
  }
  return value;
}

const EMAIL = /^(?:[^<>@\s]+@[^<>@\s]+\.[^<>@\s]+|[^<>]*<[^<>@\s]+@[^<>@\s]+\.[^<>@\s]+>)$/;

function urlPath(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const u = new URL(url);
    const p = `${u.pathname}${u.search}`;
    return p.length > 1 ? p : undefined;
  } catch {
    return undefined;
  }
}

function secretsOf(ch: ChannelConfig, env: Env): (string | undefined)[] {
  switch (ch.type) {
    case 'console':
      return [];
    case 'webhook': {
      // The whole URL and its path: a receiver that echoes the request shows the path alone.
      const url = ch.urlEnv ? env[ch.urlEnv] : ch.url;
      return [url, urlPath(url), ...Object.values(ch.headersEnv ?? {}).map((n) => env[n])];
    }
    case 'ntfy':
      return [ch.topicEnv ? env[ch.topicEnv] : ch.topic, ch.tokenEnv ? env[ch.tokenEnv] : undefined];
    case 'telegram':
      return [env[ch.tokenEnv]];
    case 'email':
      return [ch.passwordEnv ? env[ch.passwordEnv] : undefined];
  }
}

function build(ch: ChannelConfig, opts: BuildChannelsOptions, redactor: Redactor, problems: Problems): GuardedChannel | null {
  const timeoutMs = ch.timeoutSeconds * 1000;
  const env = opts.env;
  switch (ch.type) {
    case 'console': {
      const stream = ch.stream === 'stdout' ? (opts.stdout ?? process.stdout) : (opts.stderr ?? process.stderr);
      const color = ch.color === 'always' || (ch.color === 'auto' && stream.isTTY === true && !env.NO_COLOR);
      return new ConsoleChannel({ name: ch.name, stream, color });
    }
    case 'webhook': {
      const raw = ch.urlEnv !== undefined ? secret(env, ch, 'urlEnv', ch.urlEnv, problems) : (ch.url ?? null);
      const url = httpUrl(ch, ch.urlEnv !== undefined ? `the URL in ${ch.urlEnv}` : 'url', raw, problems);
      const headers: Record<string, string> = {};
      for (const [h, varName] of Object.entries(ch.headersEnv ?? {})) {
        const v = secret(env, ch, `header ${h}`, varName, problems);
        if (v !== null) headers[h] = v;
      }
      if (url === null) return null;
      return new WebhookChannel({ name: ch.name, url, format: ch.format, headers, timeoutMs, redactor });
    }
    case 'ntfy': {
      const server = httpUrl(ch, 'server', ch.server, problems);
      const topic = ch.topicEnv !== undefined ? secret(env, ch, 'topicEnv', ch.topicEnv, problems) : (ch.topic ?? null);
      if (topic !== null && !/^[-_A-Za-z0-9]{1,64}$/.test(topic)) {
        problems.add(ch, `the topic must be 1-64 letters, digits, "-" or "_"`);
        return null;
      }
      const token = ch.tokenEnv !== undefined ? secret(env, ch, 'tokenEnv', ch.tokenEnv, problems) : null;
      if (server === null || topic === null || (ch.tokenEnv !== undefined && token === null)) return null;
      return new NtfyChannel({ name: ch.name, server, topic, token, timeoutMs, redactor });
    }
    case 'telegram': {
      const apiBase = httpUrl(ch, 'apiBase', ch.apiBase, problems);
      const token = secret(env, ch, 'tokenEnv', ch.tokenEnv, problems);
      // Bot tokens look like `123456789:AA...`; a value that does not is almost always the wrong variable.
      if (token !== null && !/^\d{3,}:[A-Za-z0-9_-]{20,}$/.test(token)) {
        problems.add(ch, `environment variable ${ch.tokenEnv} does not hold a bot token (expected digits, ":", then the key)`);
        return null;
      }
      if (!/^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$/.test(ch.chatId)) {
        problems.add(ch, `chatId must be a numeric chat id (like 123456789 or -1001234567890) or @channelname`);
        return null;
      }
      if (apiBase === null || token === null) return null;
      return new TelegramChannel({ name: ch.name, apiBase, token, chatId: ch.chatId, timeoutMs, redactor });
    }
    case 'email': {
      if (ch.user !== undefined && ch.userEnv !== undefined) problems.add(ch, 'give at most one of user and userEnv');
      const user = ch.userEnv !== undefined ? secret(env, ch, 'userEnv', ch.userEnv, problems) : (ch.user ?? null);
      const password = ch.passwordEnv !== undefined ? secret(env, ch, 'passwordEnv', ch.passwordEnv, problems) : null;
      if (ch.passwordEnv !== undefined && ch.user === undefined && ch.userEnv === undefined) problems.add(ch, 'passwordEnv needs user or userEnv');
      if (!EMAIL.test(ch.from)) problems.add(ch, `from is not an email address`);
      ch.to.forEach((t, i) => {
        if (!EMAIL.test(t)) problems.add(ch, `to[${i}] is not an email address`);
      });
      if (/[\s/:]/.test(ch.host)) problems.add(ch, `host must be a host name or address, not a URL`);
      const security = ch.security ?? (ch.port === 465 ? 'tls' : 'starttls');
      return new EmailChannel({
        name: ch.name,
        host: ch.host,
        port: ch.port,
        security,
        user,
        password,
        from: ch.from,
        to: ch.to,
        allowSelfSigned: ch.allowSelfSigned,
        timeoutMs,
        redactor,
      });
    }
  }
}

/**
 * Every secret the configured channels read (those set in `env`), for redacting text shown to a person without
 * building the channels: `legguard status` must not fail because a secret is missing from the reader's shell.
 */
export function channelSecrets(config: AlertsConfig, env: Env): (string | undefined)[] {
  return config.channels.flatMap((ch) => secretsOf(ch, env));
}

/**
 * Builds every configured channel, reading secrets from the environment. Throws one ALERT_CHANNEL_INVALID naming
 * every channel with a problem (missing or empty secret variable, bad URL, bad address), so a guard does not start
 * with an alert path that cannot work. Nothing is sent and nothing is connected to here; `probe()` does that.
 */
export function buildChannels(config: AlertsConfig, opts: BuildChannelsOptions): BuiltChannels {
  const redactor = new Redactor(channelSecrets(config, opts.env));
  const problems = new Problems();
  const channels: ConfiguredChannel[] = [];
  for (const ch of config.channels) {
    const before = problems.list.length;
    const channel = build(ch, opts, redactor, problems);
    if (channel === null || problems.list.length > before) {
      channel?.close();
      continue;
    }
    channels.push({
      channel,
      minSeverity: ch.minSeverity,
      rateLimit: { max: ch.rateLimit.max, perMs: ch.rateLimit.perSeconds * 1000 },
      heartbeat: ch.heartbeat,
    });
  }
  if (problems.list.length > 0) {
    for (const c of channels) c.channel.close();
    const message = problems.list.length === 1 ? problems.list[0]! : `${problems.list.length} problems with alert channels:\n  ${problems.list.join('\n  ')}`;
    throw new LegguardError('ALERT_CHANNEL_INVALID', redactor.redact(message), { problems: problems.list.map((p) => redactor.redact(p)) });
  }
  return { channels, redactor };
}
