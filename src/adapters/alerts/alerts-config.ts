import { z } from 'zod';
import { LegguardError } from '../../core/errors.js';

/**
 * The `alerts:` section of the config file. The config loader embeds `alertsConfigSchema` under `alerts:`; the
 * channel factory (`build-channels.ts`) then resolves secrets from the environment and checks URLs.
 *
 * Secrets never live in the file: every secret field is `...Env`, the *name* of an environment variable.
 *
 * @example
 *   alerts:
 *     channels:
 *       - { type: console, name: console }
 *       - { type: telegram, name: phone, tokenEnv: TELEGRAM_BOT_TOKEN, chatId: "123456789", minSeverity: warning }
 *       - { type: webhook, name: ops, urlEnv: SLACK_WEBHOOK_URL, format: slack }
 *       - { type: ntfy, name: ntfy, topicEnv: NTFY_TOPIC }
 *       - { type: email, name: mail, host: smtp.example.com, userEnv: SMTP_USER, passwordEnv: SMTP_PASSWORD,
 *           from: guard@example.com, to: [me@example.com] }
 *     escalation: { repeatEveryMinutes: 15 }
 *     heartbeat: { at: "08:00" }
 */

export const SEVERITIES = ['info', 'warning', 'critical'] as const;

/** Names an environment variable. The message does not echo the value: it may be the secret itself, pasted by mistake. */
const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, {
    error:
      'must name an environment variable (like TELEGRAM_BOT_TOKEN); put the secret itself in the environment, not in the config file',
  });

const channelName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { error: 'must be 1-64 letters, digits, ".", "_" or "-"' });

/** What every channel has: its name, which alerts it takes, how fast it may be used. */
const common = {
  name: channelName,
  /** Alerts below this severity are not sent on this channel (heartbeats and channel-failure notices still are). */
  minSeverity: z.enum(SEVERITIES).default('info'),
  /** At most `max` messages per `perSeconds` on this channel; the rest wait (critical first). */
  rateLimit: z
    .strictObject({
      max: z.number().int().min(1).default(20),
      perSeconds: z.number().int().min(1).default(60),
    })
    .prefault({}),
  /** Whether the daily heartbeat goes to this channel. */
  heartbeat: z.boolean().default(true),
  /** One delivery attempt gives up after this long. */
  timeoutSeconds: z.number().min(1).max(120).default(10),
};

export const consoleChannelSchema = z.strictObject({
  type: z.literal('console'),
  ...common,
  stream: z.enum(['stdout', 'stderr']).default('stderr'),
  /** `auto`: coloured when the stream is a TTY and NO_COLOR is not set. */
  color: z.enum(['auto', 'always', 'never']).default('auto'),
});

export const webhookChannelSchema = z
  .strictObject({
    type: z.literal('webhook'),
    ...common,
    /** A URL with nothing secret in it; Slack and Discord webhook URLs are secrets: use `urlEnv`. */
    url: z.string().min(1).optional(),
    urlEnv: envName.optional(),
    /** Payload shape: legguard's own JSON, a Slack incoming webhook, or a Discord webhook. */
    format: z.enum(['json', 'slack', 'discord']).default('json'),
    /** Extra request headers, each value read from the named environment variable (`Authorization: WEBHOOK_AUTH`). */
    headersEnv: z.record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/, { error: 'must be an HTTP header name' }), envName).optional(),
  })
  .refine((c) => (c.url === undefined) !== (c.urlEnv === undefined), { error: 'give exactly one of url and urlEnv' });

export const ntfyChannelSchema = z
  .strictObject({
    type: z.literal('ntfy'),
    ...common,
    server: z.string().min(1).default('https://ntfy.sh'),
    /** On a public server the topic name is the only thing between your alerts and anyone: prefer `topicEnv`. */
    topic: z.string().optional(),
    topicEnv: envName.optional(),
    /** An access token for a protected server. */
    tokenEnv: envName.optional(),
  })
  .refine((c) => (c.topic === undefined) !== (c.topicEnv === undefined), { error: 'give exactly one of topic and topicEnv' });

export const telegramChannelSchema = z.strictObject({
  type: z.literal('telegram'),
  ...common,
  tokenEnv: envName,
  /** A numeric chat id (`123456789`, `-1001234567890`) or a public channel (`@mychannel`). */
  chatId: z.union([z.number().int(), z.string()]).transform((v) => String(v)),
  apiBase: z.string().min(1).default('https://api.telegram.org'),
});

export const emailChannelSchema = z.strictObject({
  type: z.literal('email'),
  ...common,
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(587),
  /** `tls`: TLS from the first byte (port 465); `starttls`: upgrade required; `none`: plain (a local relay only). */
  security: z.enum(['tls', 'starttls', 'none']).optional(),
  user: z.string().optional(),
  userEnv: envName.optional(),
  passwordEnv: envName.optional(),
  from: z.string().min(3),
  to: z.array(z.string().min(3)).min(1),
  /** Accept a self-signed server certificate. */
  allowSelfSigned: z.boolean().default(false),
});

export const channelConfigSchema = z.discriminatedUnion('type', [
  consoleChannelSchema,
  webhookChannelSchema,
  ntfyChannelSchema,
  telegramChannelSchema,
  emailChannelSchema,
]);

export const CHANNEL_TYPES = ['console', 'webhook', 'ntfy', 'telegram', 'email'] as const;

export const alertsConfigSchema = z
  .strictObject({
    /** With no channels at all, alerts go to the console so they are at least seen somewhere. */
    channels: z.array(channelConfigSchema).default([{ type: 'console', name: 'console', minSeverity: 'info', rateLimit: { max: 20, perSeconds: 60 }, heartbeat: true, timeoutSeconds: 10, stream: 'stderr', color: 'auto' }]),
    delivery: z
      .strictObject({
        /** A delivery is retried until it has failed this many times, then given up (and reported). */
        maxAttempts: z.number().int().min(1).max(1000).default(12),
        /** Backoff: first retry after `initialSeconds`, multiplied by `factor` each time, never more than `maxSeconds`. */
        initialSeconds: z.number().min(0.1).default(5),
        factor: z.number().min(1).max(10).default(2),
        maxSeconds: z.number().min(1).default(900),
        /** A channel that has failed this many times in a row is reported on the others. */
        failureThreshold: z.number().int().min(1).default(3),
        /** How often the outbox is looked at even when nothing woke it (alerts written by another process). */
        pollSeconds: z.number().min(1).default(15),
        /** Alerts older than this are not sent on a channel that never got them (a channel added later, a long outage). */
        staleAfterHours: z.number().min(1).default(24),
      })
      .prefault({}),
    escalation: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** A critical incident not acknowledged is repeated this often. */
        repeatEveryMinutes: z.number().min(1).default(15),
        /** Stop repeating after this many repeats; null repeats until acknowledged. */
        maxRepeats: z.number().int().min(1).nullable().default(null),
      })
      .prefault({}),
    heartbeat: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** New York wall-clock time, `HH:MM`, 24-hour. */
        at: z
          .string()
          .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'must be HH:MM (24-hour, New York time), like "08:00"' })
          .default('08:00'),
      })
      .prefault({}),
    /**
     * At start-up each channel is probed (TCP connect, SMTP greeting and login, Telegram getMe). `fail` stops the
     * start-up on an unreachable channel; `warn` (default) reports it on the channels that work and carries on, since
     * a guard that will not start because a chat service is down protects nothing; `off` skips the probe.
     */
    startupCheck: z.enum(['fail', 'warn', 'off']).default('warn'),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.channels.forEach((ch, i) => {
      if (seen.has(ch.name)) ctx.addIssue({ code: 'custom', path: ['channels', i, 'name'], message: `channel name "${ch.name}" is used twice` });
      seen.add(ch.name);
    });
  });

export type AlertsConfig = z.output<typeof alertsConfigSchema>;
export type AlertsConfigInput = z.input<typeof alertsConfigSchema>;
export type ChannelConfig = z.output<typeof channelConfigSchema>;
export type ChannelType = ChannelConfig['type'];

function describeIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): string {
  return issues
    .map((i) => {
      const path = [...prefix, ...i.path].map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
      return path ? `${path}: ${i.message}` : i.message;
    })
    .join('; ');
}

/**
 * Validates an `alerts:` section on its own (the config loader validates it as part of the whole file). A bad
 * channel entry throws ALERT_CHANNEL_INVALID naming the channel; anything else throws CONFIG_INVALID.
 */
export function parseAlertsConfig(raw: unknown): AlertsConfig {
  const channels: unknown = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>).channels : undefined;
  if (Array.isArray(channels)) {
    channels.forEach((ch: unknown, i) => {
      const r = channelConfigSchema.safeParse(ch);
      if (r.success) return;
      const o = typeof ch === 'object' && ch !== null ? (ch as Record<string, unknown>) : {};
      const name = typeof o.name === 'string' && channelName.safeParse(o.name).success ? `"${o.name}"` : `#${i + 1}`;
      const type = typeof o.type === 'string' && (CHANNEL_TYPES as readonly string[]).includes(o.type) ? ` (${o.type})` : '';
      const unknownType =
        typeof o.type !== 'string' || !(CHANNEL_TYPES as readonly string[]).includes(o.type)
          ? `unknown channel type ${typeof o.type === 'string' ? JSON.stringify(o.type.slice(0, 32)) : '(missing)'}; known: ${CHANNEL_TYPES.join(', ')}`
          : describeIssues(r.error.issues);
      throw new LegguardError('ALERT_CHANNEL_INVALID', `alert channel ${name}${type}: ${unknownType}`, { channel: name, index: i });
    });
  }
  const r = alertsConfigSchema.safeParse(raw ?? {});
  if (!r.success) {
    throw new LegguardError('CONFIG_INVALID', `alerts: ${describeIssues(r.error.issues)}`, { section: 'alerts' });
  }
  return r.data;
}
