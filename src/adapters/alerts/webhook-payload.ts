import type { Alert, Severity } from '../../ports/alerts.js';
import { ackHint, alertBody, factLines, formatNyTime, severityLabel, truncate } from './format-alert.js';

export type WebhookFormat = 'json' | 'slack' | 'discord';

const DISCORD_COLOURS: Readonly<Record<Severity, number>> = { info: 0x1e88e5, warning: 0xf9a825, critical: 0xd32f2f };
const MARKS: Readonly<Record<Severity, string>> = { info: 'ℹ️', warning: '⚠️', critical: '🚨' };

/** legguard's own shape: every field of the alert, times both as ISO and epoch ms. */
function jsonPayload(alert: Alert): unknown {
  return {
    source: 'legguard',
    version: 1,
    key: alert.key,
    severity: alert.severity,
    title: alert.title,
    text: alert.text,
    incidentId: alert.incidentId,
    strategyId: alert.strategyId,
    at: new Date(alert.at).toISOString(),
    atMs: alert.at,
    facts: alert.facts,
    ack: alert.severity === 'critical' && alert.incidentId !== null ? `legguard ack ${alert.incidentId}` : null,
  };
}

/**
 * A Slack incoming webhook message: `text` is what the notification shows; the blocks are what the channel shows.
 * Plain-text blocks, so a `<` or `*` in a title is shown, not interpreted. Limits: header 150, section 3000.
 */
function slackPayload(alert: Alert): unknown {
  const context = [`${severityLabel(alert.severity)}`, formatNyTime(alert.at)];
  if (alert.incidentId !== null) context.push(`incident ${alert.incidentId}`);
  return {
    text: truncate(`${MARKS[alert.severity]} [${severityLabel(alert.severity)}] ${alert.title}`, 3000),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(`${MARKS[alert.severity]} ${alert.title}`, 150), emoji: true } },
      { type: 'section', text: { type: 'plain_text', text: truncate(alertBody(alert), 3000), emoji: true } },
      { type: 'context', elements: [{ type: 'plain_text', text: truncate(context.join(' · '), 2000), emoji: true }] },
    ],
  };
}

/**
 * A Discord webhook message with one embed. `allowed_mentions: { parse: [] }` keeps an `@everyone` that happens to
 * be in a strategy name from pinging a server. Limits: content 2000, title 256, description 4096, 25 fields.
 */
function discordPayload(alert: Alert): unknown {
  const hint = ackHint(alert);
  const description = hint ? `${alert.text}\n\n${hint}` : alert.text;
  const fields = factLines(alert)
    .slice(0, 25)
    .map((line) => {
      const i = line.indexOf(': ');
      return { name: truncate(line.slice(0, i), 256), value: truncate(line.slice(i + 2) || '-', 1024), inline: true };
    });
  const footer = [alert.strategyId !== null ? `strategy ${alert.strategyId}` : null, alert.incidentId !== null ? `incident ${alert.incidentId}` : null]
    .filter((x) => x !== null)
    .join(' · ');
  return {
    content: truncate(`${MARKS[alert.severity]} **${severityLabel(alert.severity)}** ${alert.title}`, 2000),
    allowed_mentions: { parse: [] },
    embeds: [
      {
        title: truncate(alert.title, 256),
        description: truncate(description, 4096),
        color: DISCORD_COLOURS[alert.severity],
        fields,
        timestamp: new Date(alert.at).toISOString(),
        ...(footer ? { footer: { text: truncate(footer, 2048) } } : {}),
      },
    ],
  };
}

/** The request body for a webhook of `format`. */
export function webhookPayload(format: WebhookFormat, alert: Alert): unknown {
  switch (format) {
    case 'json':
      return jsonPayload(alert);
    case 'slack':
      return slackPayload(alert);
    case 'discord':
      return discordPayload(alert);
  }
}
